#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace cli {

// What `status TASK_ID` and `result TASK_ID --endpoint NAME` need.
struct StatusCommandOptions {
  std::string task_id;
  std::string endpoint; // result only
  std::string api_url = "https://api.optexity.com";
  std::string api_key;
  std::string api_key_file;
  double timeout_seconds = 30;
};

// `optexity-chain status TASK_ID`: prints the service's task_status answer as one JSON line.
CLI::App* register_status_command(CLI::App& app, StatusCommandOptions& opts);
// `optexity-chain result TASK_ID --endpoint NAME`: prints the callback payload
// (get_callback_data) as one JSON line.
CLI::App* register_result_command(CLI::App& app, StatusCommandOptions& opts);

// Runs either; `want_result` picks result. Exit 0 with an answer, 1 when the service says the
// task is unknown or failed, 2 for usage, 3 when refused (bad key).
int run_status_command(StatusCommandOptions& opts, bool want_result);

} // namespace cli

#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace cli {

// What `status TASK_ID` and `result TASK_ID --endpoint NAME` need.
struct StatusCommandOptions {
  std::vector<std::string> task_ids; // arguments; none or "-": one a line on stdin
  std::string state_path;            // --state: every task of a journal
  std::string endpoint;              // result only
  std::string api_url = "https://api.optexity.com";
  std::string api_key;
  std::string api_key_file;
  std::string profile;
  double timeout_seconds = 30;
};

// `optexity-chain status TASK_ID`: prints the task as the service's task_status describes it,
// one JSON line (task_id, status, error, then its times), without the service's envelope.
CLI::App* register_status_command(CLI::App& app, StatusCommandOptions& opts);
// `optexity-chain result TASK_ID --endpoint NAME`: prints the callback payload
// (get_callback_data), the line a run prints for the task less its `input`.
CLI::App* register_result_command(CLI::App& app, StatusCommandOptions& opts);

// Runs either for each task id given (arguments, stdin, --state), a line each in that order.
// stdout gets the lines only; every error goes to stderr. Exit 0 when every task's line was
// printed, 1 when the service does not know a task or has no result yet (the others are still
// printed), 2 for usage, 3 when refused (bad key) or unreachable (then nothing more is asked).
int run_status_command(StatusCommandOptions& opts, bool want_result);

} // namespace cli

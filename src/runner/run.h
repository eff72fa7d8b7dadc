#pragma once

#include "core/api.h"
#include "core/retry.h"
#include "net/emulator.h"

#include <optional>
#include <string>

namespace runner {

// Everything `optexity-chain run` needs, filled by cli/run_command.
struct RunOptions {
  // Inputs.
  std::string emails_path; // "-" reads stdin, streaming
  core::RequestOptions request;

  // The service.
  std::string api_url = "https://api.optexity.com";
  std::string api_key;
  bool emulate = false; // start the embedded emulator and send everything there
  net::EmulatorOptions emulator;

  // The callback listener.
  std::string listen_host = "127.0.0.1";
  int listen_port = 4000;
  bool listen_given = false;
  std::string callback_path = "/receive_callback";

  // Waiting and retrying.
  std::optional<double> timeout_seconds; // per task; default: attempt limit + 5 min
  double connect_timeout_seconds = 10;
  double read_timeout_seconds = 60;
  core::RetryPolicy retry;
  int parallel = 1;
};

// Runs the main job: submits every input, waits for each callback, prints one JSON line per
// input on stdout. Returns the exit code; throws core::Error for run-level failures.
int run(const RunOptions& options);

} // namespace runner

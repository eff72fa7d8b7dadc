#pragma once

#include "core/api.h"
#include "core/json.h"
#include "core/retry.h"
#include "core/run_controls.h"
#include "runner/results.h"

#include <optional>
#include <string>
#include <vector>

#include "emulator/emulator.h"

namespace runner {

// Everything `optexity-chain run` needs, filled by cli/run_command.
struct RunOptions {
  // Inputs: --emails FILE|- or --input FILE|- (with --format, --param-name).
  std::string emails_path;
  std::string input_path;
  std::string format; // lines|csv|ndjson, "" chooses by extension
  std::string param_name = "value";
  core::RequestOptions request;
  core::Json set_params = core::Json::object(); // --set NAME=VALUE
  std::string secure_parameters_path;           // --secure-parameters FILE
  bool dry_run = false;
  // Pipes: incoming lines are records of another run.
  std::vector<std::string> map_specs; // --map NAME=POINTER
  std::string where_status;           // default "success" with --map
  bool carry = false;

  // What becomes of screenshots and downloads.
  ResultOptions results;

  // The service.
  std::string api_url = "https://api.optexity.com";
  std::string status_url; // base URL of the status API, for a full /inference --api-url
  std::string api_key;
  bool emulate = false; // start the embedded emulator and send everything there
  emulator::EmulatorOptions emulator;

  // The callback listener.
  std::string listen_host = "127.0.0.1";
  int listen_port = 4000;
  bool listen_given = false;
  std::string callback_path = "/receive_callback";
  std::string public_url;        // per-run callback URLs: the listener as Optexity sees it
  std::string callback_key;      // required on callbacks; sent as task_callback_api_key
  std::string basic_credentials; // "user:password" accepted on callbacks (dashboard Basic auth)
  std::string tls_cert;          // serve the listener over HTTPS
  std::string tls_key;
  bool preflight = true;         // with --public-url: probe it before the first submit
  double watchdog_seconds = 360; // callback silence before status checks

  // Waiting and retrying.
  std::optional<double> timeout_seconds; // per task, from its start; default: the attempts
  int attempts = 1;                      // --attempts: the recording's max_retries + 1
  double max_wait_seconds = 86400;       // --max-wait: the whole wait, from the submit
  double straggler_seconds = 60;         // --straggler-after: the floor of the straggler check
  double poll_seconds = 0;               // --poll: check every task in flight (0: off)
  double connect_timeout_seconds = 10;
  double read_timeout_seconds = 60;
  double download_timeout_seconds = 300; // each --downloads file, in total
  core::RetryPolicy retry;
  int parallel = 1;
  bool unordered = false;
  bool stats = false;
  std::string progress = "auto"; // auto (a live line on a terminal), json, none

  // Operators' controls.
  core::HaltPolicy halt;       // --halt soon|now,fail=N|P%
  core::Shard shard;           // --shard I/N
  std::optional<size_t> limit; // --limit N
  core::Rate rate;             // --rate N/s|N/m
  std::string joblog_path;     // --joblog FILE
  bool tag = false;            // --tag
  std::string report_path;     // --report FILE: the HTML run report, written at the end
  bool report_all_screenshots = false;

  std::string record_dir; // --record: every exchange, one file per event

  // Journal and resume.
  std::string state_path;           // --state FILE
  bool retry_failed = false;        // --retry-failed
  bool resubmit_unfinished = false; // --resubmit-unfinished
  double grace_seconds = 0;         // --grace
};

} // namespace runner

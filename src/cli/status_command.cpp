#include "cli/status_command.h"

#include "cli/key_file.h"
#include "core/error.h"
#include "core/exit_code.h"
#include "core/log.h"
#include "core/output.h"
#include "core/retry.h"
#include "core/url.h"
#include "net/client.h"

#include <fmt/format.h>

namespace cli {

namespace {

void add_service_options(CLI::App* cmd, StatusCommandOptions& opts) {
  cmd->add_option("TASK_ID", opts.task_id, "The task id (from a timeout or interrupted line)")
      ->required();
  cmd->add_option("--api-url", opts.api_url, "Base URL of the service (its status API)")
      ->envname("OPTEXITY_API_URL")
      ->capture_default_str();
  cmd->add_option("--api-key", opts.api_key, "API key (visible in ps: prefer the file or env)");
  cmd->add_option("--api-key-file", opts.api_key_file, "File holding the API key")
      ->check(CLI::ExistingFile);
  cmd->add_option("--timeout", opts.timeout_seconds, "Connect and read timeout in seconds")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
}

} // namespace

CLI::App* register_status_command(CLI::App& app, StatusCommandOptions& opts) {
  CLI::App* cmd = app.add_subcommand("status", "Print a task's status (GET /api/v1/task_status)");
  add_service_options(cmd, opts);
  return cmd;
}

CLI::App* register_result_command(CLI::App& app, StatusCommandOptions& opts) {
  CLI::App* cmd = app.add_subcommand(
      "result", "Print a finished task's callback payload (POST /api/v1/get_callback_data)");
  add_service_options(cmd, opts);
  cmd->add_option("--endpoint", opts.endpoint, "The task's automation (endpoint_name)")->required();
  return cmd;
}

int run_status_command(StatusCommandOptions& opts, bool want_result) {
  net::ClientOptions co;
  co.api = core::resolve_api_url(opts.api_url);
  co.api_key = resolve_api_key(opts.api_key, opts.api_key_file);
  if (std::string problem = core::missing_api_key(opts.api_url, co.api_key); !problem.empty()) {
    throw core::Error(problem, core::ExitCode::refused);
  }
  co.connect_timeout =
      std::chrono::milliseconds(static_cast<long long>(opts.timeout_seconds * 1000));
  co.read_timeout = co.connect_timeout;
  co.log = [](const std::string& line) { core::log_debug(line); };
  net::Client client(co);
  net::StatusReply reply = want_result ? client.callback_data(opts.task_id, opts.endpoint)
                                       : client.task_status(opts.task_id);
  if (!reply.available) {
    throw core::Error(reply.error, core::ExitCode::usage);
  }
  core::LineWriter out;
  out.write_line(core::dump_line(reply.body));
  if (core::is_key_refusal(reply.http_status, reply.body.dump())) {
    core::log_error(reply.error + " (check --api-key, --api-key-file or OPTEXITY_API_KEY)");
    return core::to_int(core::ExitCode::refused);
  }
  if (!reply.error.empty()) {
    core::log_error(reply.error);
    return core::to_int(core::ExitCode::task_failed);
  }
  if (want_result && reply.body.contains("data") && reply.body["data"].is_null()) {
    core::log_error(fmt::format("task {} has not finished yet: no result to show (try `status`)",
                                opts.task_id));
    return core::to_int(core::ExitCode::task_failed);
  }
  return 0;
}

} // namespace cli

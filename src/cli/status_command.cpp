#include "cli/status_command.h"

#include "cli/key_file.h"
#include "cli/number_option.h"
#include "core/error.h"
#include "core/exit_code.h"
#include "core/journal.h"
#include "core/log.h"
#include "core/output.h"
#include "core/retry.h"
#include "core/url.h"
#include "net/client.h"

#include <fmt/format.h>

#include <iostream>
#include <optional>
#include <unistd.h>

namespace cli {

namespace {

void add_service_options(CLI::App* cmd, StatusCommandOptions& opts) {
  cmd->add_option("TASK_ID",
                  opts.task_ids,
                  "Task ids (from timeout or interrupted lines); none or -: one a line on stdin")
      ->type_name("TASK_ID...");
  cmd->add_option("--state", opts.state_path, "Every task of this run journal, in submit order")
      ->check(CLI::ExistingFile)
      ->type_name("FILE");
  cmd->add_option("--api-url", opts.api_url, "Base URL of the service (its status API)")
      ->envname("OPTEXITY_API_URL")
      ->capture_default_str();
  cmd->add_option("--api-key", opts.api_key, "API key (visible in ps: prefer the file or env)");
  cmd->add_option("--api-key-file", opts.api_key_file, "File holding the API key")
      ->check(CLI::ExistingFile);
  cmd->add_option("--profile", opts.profile, "The key `login --profile NAME` stored")
      ->type_name("NAME");
  cmd->add_option("--timeout", opts.timeout_seconds, "Connect and read timeout in seconds")
      ->check(number_check(core::NumberRange::positive()))
      ->capture_default_str();
}

// Throws what the service's answer says when it is not the task's line: no answer at all
// (unreachable, exit 3), a refused key (3), an error such as an unknown task (1).
void check_reply(const net::StatusReply& reply,
                 const core::ApiEndpoints& api,
                 const std::string& task_id) {
  if (!reply.available) {
    if (!api.status_base) {
      throw core::Error(reply.error, core::ExitCode::usage); // a full /inference URL
    }
    throw core::Error(
        fmt::format("cannot reach the service at {}: {}", api.status_base->origin(), reply.error),
        core::ExitCode::refused);
  }
  if (core::is_key_refusal(reply.http_status, reply.body.dump())) {
    throw core::Error(reply.error + " (check --api-key, --api-key-file or OPTEXITY_API_KEY)",
                      core::ExitCode::refused);
  }
  if (!reply.error.empty()) {
    throw core::Error(fmt::format("task {}: {}", task_id, reply.error),
                      core::ExitCode::task_failed);
  }
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
  cmd->add_option("-e,--endpoint",
                  opts.endpoint,
                  "The tasks' automation (endpoint_name); with --state, the journal's run's")
      ->type_name("NAME");
  return cmd;
}

namespace {

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\r' || text.back() == ' ' || text.back() == '\t')) {
    text.pop_back();
  }
  size_t start = text.find_first_not_of(" \t");
  return start == std::string::npos ? "" : text.substr(start);
}

// The task ids to ask about, in order: the arguments (a "-" reads stdin there), every task of
// --state, or stdin when neither is given.
std::vector<std::string> task_ids_of(StatusCommandOptions& opts, bool want_result) {
  std::vector<std::string> ids;
  auto read_stdin = [&] {
    for (std::string line; std::getline(std::cin, line);) {
      if (std::string id = trimmed(line); !id.empty()) {
        ids.push_back(id);
      }
    }
  };
  for (const std::string& id : opts.task_ids) {
    if (id == "-") {
      read_stdin();
    } else {
      ids.push_back(id);
    }
  }
  if (!opts.state_path.empty()) {
    core::JournalState journal = core::load_journal(opts.state_path);
    if (want_result && opts.endpoint.empty() && !journal.endpoint.empty() &&
        !journal.endpoint.starts_with("flow:")) {
      opts.endpoint = journal.endpoint; // a run's journal names its endpoint
    }
    ids.insert(ids.end(), journal.task_ids.begin(), journal.task_ids.end());
    if (journal.task_ids.empty()) {
      core::log_warning(
          fmt::format("--state {}: no task was submitted in this journal", opts.state_path));
    }
  }
  if (opts.task_ids.empty() && opts.state_path.empty()) {
    if (::isatty(0) == 1) {
      throw core::Error("give a TASK_ID, several, - to read them from stdin, or --state FILE");
    }
    read_stdin();
  }
  if (want_result && opts.endpoint.empty()) {
    throw core::Error("result needs --endpoint NAME (the tasks' automation; a flow's journal "
                      "does not name one)");
  }
  return ids;
}

} // namespace

int run_status_command(StatusCommandOptions& opts, bool want_result) {
  const std::vector<std::string> ids = task_ids_of(opts, want_result);
  net::ClientOptions co;
  co.api = core::resolve_api_url(opts.api_url);
  co.api_key = resolve_api_key(opts.api_key, opts.api_key_file, opts.profile);
  if (std::string problem = core::missing_api_key(opts.api_url, co.api_key); !problem.empty()) {
    throw core::Error(problem, core::ExitCode::refused);
  }
  co.connect_timeout =
      std::chrono::milliseconds(static_cast<long long>(opts.timeout_seconds * 1000));
  co.read_timeout = co.connect_timeout;
  co.log = [](const std::string& line) { core::log_debug(line); };
  net::Client client(co);
  core::LineWriter out;
  int code = 0;
  for (const std::string& task_id : ids) {
    try {
      net::StatusReply reply =
          want_result ? client.callback_data(task_id, opts.endpoint) : client.task_status(task_id);
      check_reply(reply, co.api, task_id);
      std::optional<core::Json> line =
          want_result ? core::result_line(reply.body) : core::status_line(reply.body, task_id);
      if (!line) {
        // get_callback_data answers {"data": null} while the task runs.
        throw core::Error(want_result
                              ? fmt::format("task {} has not finished yet: no result to show "
                                            "(try `status`)",
                                            task_id)
                              : fmt::format("task {}: the service's answer names no task "
                                            "status: {}",
                                            task_id,
                                            core::dump_line(reply.body).substr(0, 200)),
                          core::ExitCode::task_failed);
      }
      out.write_line(core::dump_line(*line));
    } catch (const core::Error& e) {
      if (e.code() != core::ExitCode::task_failed || ids.size() == 1) {
        throw; // a refused key or no service: every other task would say the same
      }
      core::log_error(e.what()); // this task's problem: the others are still asked about
      code = core::to_int(core::ExitCode::task_failed);
    }
  }
  return code;
}

} // namespace cli

// optexity-chain: chain Optexity browser automations with callbacks instead of polling.
// main only wires subcommands to code; each subcommand lives in src/cli/.
#include "cli/completion_command.h"
#include "cli/emulator_command.h"
#include "cli/flow_command.h"
#include "cli/login_command.h"
#include "cli/replay_command.h"
#include "cli/report_command.h"
#include "cli/run_command.h"
#include "cli/status_command.h"
#include "cli/suggest.h"
#include "core/error.h"
#include "core/exit_code.h"
#include "core/log.h"
#include "net/versions.h"
#include "runner/signals.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <malloc.h>
#include <sstream>
#include <string>
#include <vector>

namespace {

int real_main(int argc, char** argv) {
  // Named, so the usage line shows "optexity-chain", not the path it was started by.
  CLI::App app{"optexity-chain: submit Optexity automations and wait for their callbacks, one "
               "JSON line per input",
               "optexity-chain"};
  app.set_version_flag(
      "-V,--version",
      fmt::format("optexity-chain {} (CLI11 {}, nlohmann/json {}.{}.{}, fmt {}.{}.{}, {})",
                  OPTEXITY_VERSION,
                  CLI11_VERSION,
                  NLOHMANN_JSON_VERSION_MAJOR,
                  NLOHMANN_JSON_VERSION_MINOR,
                  NLOHMANN_JSON_VERSION_PATCH,
                  FMT_VERSION / 10000,
                  FMT_VERSION / 100 % 100,
                  FMT_VERSION % 100,
                  net::network_library_versions()));
  app.require_subcommand(1);
  app.footer(core::k_exit_code_help);

  cli::RunCommandOptions run_opts;
  CLI::App* run_cmd = cli::register_run_command(app, run_opts);
  run_cmd->footer(core::k_exit_code_help);
  cli::FlowCommandOptions flow_opts;
  CLI::App* flow_cmd = cli::register_flow_command(app, flow_opts);
  flow_cmd->footer(core::k_exit_code_help);
  emulator::EmulatorOptions emulator_opts;
  CLI::App* emulator_cmd = cli::register_emulator_command(app, emulator_opts);
  emulator_cmd->footer(core::k_emulator_exit_code_help);
  cli::StatusCommandOptions status_opts;
  CLI::App* status_cmd = cli::register_status_command(app, status_opts);
  status_cmd->footer(core::k_status_exit_code_help);
  cli::StatusCommandOptions result_opts;
  CLI::App* result_cmd = cli::register_result_command(app, result_opts);
  result_cmd->footer(core::k_status_exit_code_help);
  cli::ReportCommandOptions report_opts;
  CLI::App* report_cmd = cli::register_report_command(app, report_opts);
  report_cmd->footer(core::k_report_exit_code_help);
  std::string replay_dir;
  CLI::App* replay_cmd = cli::register_replay_command(app, replay_dir);
  cli::LoginCommandOptions login_opts;
  CLI::App* login_cmd = cli::register_login_command(app, login_opts);
  login_cmd->footer(core::k_login_exit_code_help);
  cli::LoginCommandOptions logout_opts;
  CLI::App* logout_cmd = cli::register_logout_command(app, logout_opts);
  logout_cmd->footer(core::k_login_exit_code_help);
  std::string completion_shell;
  CLI::App* completion_cmd = cli::register_completion_command(app, completion_shell);

  // `help CMD` is `CMD --help`. CLI11 parses a vector in reverse order.
  std::vector<std::string> args = cli::rewrite_help(app, {argv + 1, argv + argc});
  std::vector<std::string> reversed(args.rbegin(), args.rend());

  // Parse first, so the one catch below sees only usage errors.
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {
      return app.exit(e); // --help, --version: printed on stdout, exit 0
    }
    // One line per mistake, the suggestion first; never CLI11's "Run with --help" trailer.
    for (const std::string& line : cli::describe_parse_error(app, args, e)) {
      core::log_error(line);
    }
    return core::to_int(core::ExitCode::usage);
  }

  try {
    if (run_cmd->parsed()) {
      return cli::run_run_command(run_opts);
    }
    if (flow_cmd->parsed()) {
      return cli::run_flow_command(flow_opts);
    }
    if (emulator_cmd->parsed()) {
      return cli::run_emulator_command(emulator_opts);
    }
    if (login_cmd->parsed()) {
      return cli::run_login_command(login_opts);
    }
    if (logout_cmd->parsed()) {
      return cli::run_logout_command(logout_opts);
    }
    if (completion_cmd->parsed()) {
      return cli::run_completion_command(completion_shell);
    }
    if (report_cmd->parsed()) {
      return cli::run_report_command(report_opts);
    }
    if (replay_cmd->parsed()) {
      return cli::run_replay_command(replay_dir);
    }
    if (status_cmd->parsed()) {
      return cli::run_status_command(status_opts, /*want_result=*/false);
    }
    if (result_cmd->parsed()) {
      return cli::run_status_command(result_opts, /*want_result=*/true);
    }
  } catch (const core::Error& e) {
    std::istringstream lines(e.what());
    for (std::string line; std::getline(lines, line);) {
      core::log_error(line);
    }
    return core::to_int(e.code());
  }
  return core::to_int(core::ExitCode::usage);
}

} // namespace

int main(int argc, char** argv) {
  // Before any thread starts: only the signal watcher thread ever sees SIGINT/SIGTERM.
  runner::block_signals();
  // Callbacks carry megabytes (screenshots): keep freed memory for the next one instead of
  // returning it to the kernel and faulting it back in, page by page, for every callback.
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  try {
    return real_main(argc, argv);
  } catch (const std::exception& e) {
    core::log_error(fmt::format("internal error: {}", e.what()));
    return core::to_int(core::ExitCode::usage);
  }
}

#pragma once

#include "runner/run.h"

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace cli {

// Which command the shared options are registered for.
enum class Command { run, flow };

// What the `run` subcommand collects before it becomes runner::RunOptions.
struct RunCommandOptions {
  runner::RunOptions run;
  std::string api_key_file;
  std::string profile; // --profile: a key stored by `login`
  std::string callback_key_file;
  std::string color = "auto";
  bool no_preflight = false;
  std::string callback_basic_file;
  std::string listen = "127.0.0.1:4000";
  std::vector<std::string> set; // --set NAME=VALUE
  std::string halt;             // --halt, parsed into run.halt
  std::string shard;            // --shard
  std::string rate;             // --rate
  long long limit = 0;          // --limit (0: none)
  bool quiet = false;
  bool verbose = false;
  CLI::Option* listen_option = nullptr;       // to tell an explicit --listen from the default
  std::vector<CLI::Option*> emulator_options; // only with --emulate
  Command command = Command::run;             // set by add_shared_options
};

// The options `run` and `flow` share (items, service, listener, results, journal, output);
// `run` adds its own (--set, --map, --dry-run, --record, ...).
void add_shared_options(CLI::App* cmd, RunCommandOptions& opts, Command command);

// Resolves keys and secrets (flags, files, environment), the listen address and the checks
// every command shares; throws core::Error.
void prepare_options(RunCommandOptions& opts);

// Refuses (exit 3, before any request) a run that would send requests without an API key to
// the service's API off this machine; --emulate and --dry-run send none. Call after the usage
// checks.
void require_api_key(const RunCommandOptions& opts);

// `optexity-chain run`: registers the subcommand and its options (filling `opts`).
CLI::App* register_run_command(CLI::App& app, RunCommandOptions& opts);

// Resolves the key and the listen address, then runs. Returns the exit code.
int run_run_command(RunCommandOptions& opts);

} // namespace cli

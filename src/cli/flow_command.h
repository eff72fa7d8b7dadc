#pragma once

#include "cli/run_command.h"

#include <CLI/CLI.hpp>

#include <string>

namespace cli {

// What the `flow` subcommand collects.
struct FlowCommandOptions {
  RunCommandOptions common; // items, service, listener, results, journal, output
  std::string flow_path;
  bool plan = false;
};

// `optexity-chain flow FILE`: registers the subcommand and its options (filling `opts`).
CLI::App* register_flow_command(CLI::App& app, FlowCommandOptions& opts);

// Resolves the shared options, then runs the flow (or prints its plan). Returns the exit code.
int run_flow_command(FlowCommandOptions& opts);

} // namespace cli

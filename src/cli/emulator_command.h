#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "emulator/emulator.h"

namespace cli {

// The options of the emulated service's behaviour (delays, faults, its queue and retries), shared
// by `emulator` and `run`/`flow --emulate`; `group` names their --help group ("" for none).
// Returns them, so a command can refuse them without --emulate.
std::vector<CLI::Option*>
add_emulator_service_options(CLI::App* cmd, emulator::EmulatorOptions& e, const std::string& group);

// `optexity-chain emulator`: registers the subcommand and its options (filling `opts`).
CLI::App* register_emulator_command(CLI::App& app, emulator::EmulatorOptions& opts);

// Runs the emulator until SIGINT/SIGTERM; prints its base URL (http://HOST:PORT) as one line
// on stdout once it listens. Returns the exit code.
int run_emulator_command(const emulator::EmulatorOptions& opts);

} // namespace cli

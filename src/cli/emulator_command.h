#pragma once

#include <CLI/CLI.hpp>

#include "emulator/emulator.h"

namespace cli {

// `optexity-chain emulator`: registers the subcommand and its options (filling `opts`).
CLI::App* register_emulator_command(CLI::App& app, emulator::EmulatorOptions& opts);

// Runs the emulator until SIGINT/SIGTERM; prints its base URL (http://HOST:PORT) as one line
// on stdout once it listens. Returns the exit code.
int run_emulator_command(const emulator::EmulatorOptions& opts);

} // namespace cli

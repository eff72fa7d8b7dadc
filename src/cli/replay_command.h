#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace cli {

// `optexity-chain replay DIR`: prints what a recorded run printed, offline.
CLI::App* register_replay_command(CLI::App& app, std::string& dir);
int run_replay_command(const std::string& dir);

} // namespace cli

#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace cli {

// `optexity-chain completion bash|zsh|fish`: prints the completion script (the same bytes as
// completions/ in the source), for people who install only the binary.
CLI::App* register_completion_command(CLI::App& app, std::string& shell);
int run_completion_command(const std::string& shell);

} // namespace cli

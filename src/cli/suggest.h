#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace cli {

// For a parse error caused by an unknown subcommand or option in argv: "did you mean ...?"
// naming the closest valid one; "" when there is nothing to suggest.
std::string suggest_for_typo(const CLI::App& app, int argc, const char* const* argv);

} // namespace cli

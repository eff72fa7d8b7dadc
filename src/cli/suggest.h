#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace cli {

// The candidate closest to `word` by edit distance, when close enough to be a typo (at most 3
// edits and fewer than the word's length); "" otherwise.
std::string closest(const std::string& word, const std::vector<std::string>& candidates);

// For a parse error caused by an unknown subcommand or option in argv: "did you mean ...?"
// naming the closest valid one; "" when there is nothing to suggest.
std::string suggest_for_typo(const CLI::App& app, int argc, const char* const* argv);

} // namespace cli

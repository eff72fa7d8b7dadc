#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace core {

// Levenshtein distance between two words.
size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word`, when close enough to be a typo of it (at most 3 edits and
// fewer than the word's length): for "did you mean ...?". "" when none is.
std::string closest_name(std::string_view word, const std::vector<std::string>& candidates);

} // namespace core

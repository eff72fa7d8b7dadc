#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace core {

// Objects keep their keys in the order they were written or received, so a callback payload is
// printed in the shape the service sent it.
using Json = nlohmann::ordered_json;

// One-line JSON text, byte for byte what nlohmann's dump(-1) gives (invalid UTF-8 from the
// network replaced, never a throw). Strings of printable ASCII without '"' and '\' (a base64
// screenshot) are copied as they are instead of going through nlohmann's escaping, one character
// at a time: a 1 MB screenshot is one copy.
std::string dump_line(const Json& j);

// One-line JSON text with every object's keys sorted: equal values give equal text whatever
// order their keys came in (a key for maps and queues).
std::string canonical_line(const Json& j);

// Deeper JSON than this is refused: nlohmann parses any depth, but copying or printing a value
// recurses, and tens of thousands of levels (a few hundred KB of brackets) overflow the stack.
inline constexpr int k_max_json_depth = 256;

// Parses `text`; the result is_discarded() when it is not JSON or nests deeper than
// k_max_json_depth. Never throws. Use it for everything read from outside. Long string values of
// printable ASCII without escapes (a base64 screenshot) are lifted out before nlohmann parses
// the rest and put back after, so nlohmann does not lex them one character at a time; the result
// is the same value nlohmann would give.
Json parse_json(std::string_view text);

// Parses `text` building, of a top-level object, only the members named in `keep`, and at most
// `max_values` values in all (past that, `capped` is set and the rest is skipped); everything else
// is checked but not built, so memory is what is kept whatever the text, and time is linear. The
// result is_discarded() when the text is not JSON or nests deeper than k_max_json_depth. For
// looking at what a stranger sent before deciding to keep it.
Json parse_json_members(std::string_view text,
                        const std::vector<std::string_view>& keep,
                        size_t max_values,
                        bool& capped);

// The text that stands for a lifted string while nlohmann parses (random per process). Exposed
// for tests, which check that a payload holding it is still read as it is.
const std::string& json_lift_marker();

} // namespace core

#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace core {

// Objects keep their keys in the order they were written or received, so a callback payload is
// printed in the shape the service sent it.
using Json = nlohmann::ordered_json;

// One-line JSON text; invalid UTF-8 from the network is replaced, never a throw.
inline std::string dump_line(const Json& j) {
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

// Deeper JSON than this is refused: nlohmann parses any depth, but copying or printing a value
// recurses, and tens of thousands of levels (a few hundred KB of brackets) overflow the stack.
inline constexpr int k_max_json_depth = 256;

// Parses `text`; the result is_discarded() when it is not JSON or nests deeper than
// k_max_json_depth. Never throws. Use it for everything read from outside.
inline Json parse_json(std::string_view text) {
  bool too_deep = false;
  Json::parser_callback_t limit = [&too_deep](int depth, Json::parse_event_t, Json&) {
    if (depth > k_max_json_depth) {
      too_deep = true;
      return false; // drop it: the parse goes on without building it
    }
    return true;
  };
  Json j = Json::parse(text, limit, /*allow_exceptions=*/false);
  return too_deep ? Json(Json::value_t::discarded) : j;
}

} // namespace core

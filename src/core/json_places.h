#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>

namespace core {

// Where a value sits in a JSON text, for messages that point into a file.
struct TextPlace {
  size_t line = 0;   // 1-based
  size_t column = 0; // 1-based, the value's last character (nlohmann reports events after them)
};

// The places of every value of a JSON text, by JSON Pointer ("" is the whole document; an
// object member's place is its key's). nlohmann/json parses the text (its SAX interface) and
// the input iterator counts the characters it has read; nlohmann has no position API. A text
// that is not JSON gives the places read before the error.
std::unordered_map<std::string, TextPlace> json_places(std::string_view text);

// The place of `pointer`, or of the nearest enclosing value that has one.
TextPlace place_of(const std::unordered_map<std::string, TextPlace>& places, std::string pointer);

// "/a~1b" for the key "a/b": a key escaped for a JSON Pointer.
std::string pointer_token(std::string_view key);

} // namespace core

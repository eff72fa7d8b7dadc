#pragma once

// Small string helpers every module wants the same way: trimming, quoting a value for a message,
// lower-casing a word, joining a list.

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>
#include <vector>

namespace core {

// The white space std::isspace knows in the "C" locale.
inline constexpr std::string_view k_white_space = " \t\r\n\f\v";

// `s` without the leading and trailing characters of `chars` (white space by default). The
// result views `s`.
constexpr std::string_view trim(std::string_view s, std::string_view chars = k_white_space) {
  auto first = s.find_first_not_of(chars);
  if (first == std::string_view::npos) {
    return {};
  }
  return s.substr(first, s.find_last_not_of(chars) - first + 1);
}

// `s` in double quotes for a message, with `"` and `\` escaped by a backslash and the control
// characters (and DEL) as \xNN, so a value from a file cannot garble a terminal: a"b\n is
// "a\"b\x0a". Bytes from 0x80 up (UTF-8) are kept.
inline std::string quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      if (c == '"' || c == '\\') {
        out += '\\';
      }
      out += static_cast<char>(c);
    }
  }
  out += '"';
  return out;
}

// `s` with ASCII letters lower-cased (locale-independent).
inline std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) {
    return static_cast<char>(std::tolower(c));
  });
  return s;
}

// The parts with `separator` between them; with `last_separator`, that one goes before the last
// part instead: join({"a", "b", "c"}, ", ", " or ") is "a, b or c".
inline std::string join(const std::vector<std::string>& parts,
                        std::string_view separator,
                        std::string_view last_separator = {}) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) {
      bool last = i + 1 == parts.size() && !last_separator.empty();
      out += last ? last_separator : separator;
    }
    out += parts[i];
  }
  return out;
}

} // namespace core

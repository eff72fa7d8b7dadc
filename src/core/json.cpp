#include "core/json.h"

#include "core/token.h"

#include <charconv>
#include <cstdint>
#include <cstring>
#include <vector>

namespace core {

namespace {

// A byte that stands for itself inside a JSON string and in nlohmann's output: printable ASCII
// but the quote and the backslash (DEL and non-ASCII take nlohmann's path).
inline bool plain_byte(char c) {
  auto u = static_cast<unsigned char>(c);
  return u >= 0x20 && u < 0x7f && c != '"' && c != '\\';
}

// Whether none of the 8 bytes of `w` needs escaping or checking: none below 0x20, at or above
// 0x7f, '"' or '\' (the word-at-a-time tests of "Bit Twiddling Hacks": exact for "any byte").
inline bool plain_word(uint64_t w) {
  constexpr uint64_t ones = 0x0101010101010101ULL;
  constexpr uint64_t highs = 0x8080808080808080ULL;
  auto has_zero = [](uint64_t v) { return (v - ones) & ~v & highs; };
  uint64_t below_space = (w - ones * 0x20) & ~w & highs;
  return (below_space | (w & highs) | has_zero(w ^ (ones * 0x7f)) | has_zero(w ^ (ones * '"')) |
          has_zero(w ^ (ones * '\\'))) == 0;
}

size_t plain_run(const char* p, const char* end) {
  const char* q = p;
  while (end - q >= 8) {
    uint64_t w;
    std::memcpy(&w, q, 8);
    if (!plain_word(w)) {
      break;
    }
    q += 8;
  }
  while (q < end && plain_byte(*q)) {
    ++q;
  }
  return static_cast<size_t>(q - p);
}

void dump_string(const std::string& s, std::string& out) {
  if (plain_run(s.data(), s.data() + s.size()) == s.size()) {
    out += '"';
    out += s;
    out += '"';
    return;
  }
  out += Json(s).dump(-1, ' ', false, Json::error_handler_t::replace);
}

void dump_value(const Json& j, std::string& out) {
  switch (j.type()) {
  case Json::value_t::object: {
    out += '{';
    bool first = true;
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (!first) {
        out += ',';
      }
      first = false;
      dump_string(it.key(), out);
      out += ':';
      dump_value(it.value(), out);
    }
    out += '}';
    break;
  }
  case Json::value_t::array: {
    out += '[';
    bool first = true;
    for (const auto& element : j) {
      if (!first) {
        out += ',';
      }
      first = false;
      dump_value(element, out);
    }
    out += ']';
    break;
  }
  case Json::value_t::string:
    dump_string(j.get_ref<const std::string&>(), out);
    break;
  default:
    out += j.dump(-1, ' ', false, Json::error_handler_t::replace);
    break;
  }
}

// Strings shorter than this are left to nlohmann.
constexpr size_t k_lift_min = 256;

} // namespace

// Stands for a lifted string in the text nlohmann parses: random per process, so no payload
// can hold it by chance or on purpose.
const std::string& json_lift_marker() {
  static const std::string marker = "@optexity-lifted-" + random_token() + "-";
  return marker;
}

namespace {

Json parse_limited(std::string_view text) {
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

void restore(Json& j, const std::vector<std::string_view>& lifted, const std::string& marker) {
  if (j.is_string()) {
    const std::string& s = j.get_ref<const std::string&>();
    if (s.size() > marker.size() && s.compare(0, marker.size(), marker) == 0) {
      // Only the marker and an index we wrote; anything else is a string of the payload.
      size_t index = 0;
      const char* first = s.data() + marker.size();
      const char* last = s.data() + s.size();
      auto [end, ec] = std::from_chars(first, last, index);
      if (ec == std::errc() && end == last && index < lifted.size() &&
          static_cast<size_t>(last - first) == std::to_string(index).size()) {
        j = std::string(lifted[index]);
      }
    }
  } else if (j.is_structured()) {
    for (auto& element : j) {
      restore(element, lifted, marker);
    }
  }
}

} // namespace

std::string dump_line(const Json& j) {
  std::string out;
  dump_value(j, out);
  return out;
}

Json parse_json(std::string_view text) {
  if (text.size() < k_lift_min) {
    return parse_limited(text);
  }
  // Outside strings, every '"' opens one; a string ends at the first '"' not escaped. A long
  // plain string value (not a key: no ':' follows) is replaced by the marker and its index.
  // The replacement is a string token where one was, so the text is JSON exactly when the
  // original is, and nlohmann reports the same errors.
  const std::string& marker = json_lift_marker();
  std::string skeleton;
  std::vector<std::string_view> lifted;
  const char* p = text.data();
  const char* const end = p + text.size();
  const char* copied = p;
  while (p < end) {
    const char* quote = static_cast<const char*>(std::memchr(p, '"', static_cast<size_t>(end - p)));
    if (!quote) {
      break;
    }
    const char* s = quote + 1;
    size_t run = plain_run(s, end);
    const char* after = s + run;
    if (after < end && *after == '"') {
      p = after + 1;
      if (run >= k_lift_min) {
        const char* next = p;
        while (next < end && (*next == ' ' || *next == '\t' || *next == '\n' || *next == '\r')) {
          ++next;
        }
        if (next == end || *next != ':') {
          skeleton.append(copied, quote);
          skeleton += '"';
          skeleton += marker;
          skeleton += std::to_string(lifted.size());
          skeleton += '"';
          lifted.emplace_back(s, run);
          copied = p;
        }
      }
      continue;
    }
    // Not plain: find its end, stepping over escapes.
    const char* r = after;
    while (r < end && *r != '"') {
      r += *r == '\\' && r + 1 < end ? 2 : 1;
    }
    p = r < end ? r + 1 : end;
  }
  if (lifted.empty()) {
    return parse_limited(text);
  }
  skeleton.append(copied, end);
  Json j = parse_limited(skeleton);
  if (!j.is_discarded()) {
    restore(j, lifted, marker);
  }
  return j;
}

} // namespace core

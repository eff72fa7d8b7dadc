#include "core/json.h"

#include "core/token.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <unordered_map>
#include <unordered_set>
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

// Builds a Json from nlohmann's SAX events in time linear in the text. Not nlohmann's own DOM
// parser with a callback (the way to limit depth): after every object it scans the parent for a
// discarded member, so `[{},{},...]` costs quadratic time (a 1 MB body took 20 s). Nor
// ordered_json's operator[]: it looks a key up linearly, quadratic for an object of many keys.
// Members are appended; duplicate keys (rare) are settled once per object at its end, the last
// value at the first key's place, as nlohmann does. With a filter it builds only the members of a
// top-level object it is asked to keep, up to a number of values: memory is then what is kept.
class Builder final : public nlohmann::json_sax<Json> {
public:
  struct Filter {
    const std::vector<std::string_view>* keep = nullptr; // members of the top-level object
    size_t max_values = 0;                               // values built, in all
  };

  Builder() = default;
  explicit Builder(Filter filter) : m_filter(filter) {}

  Json root;
  bool too_deep = false;
  bool capped = false; // the filter's value budget ran out: some kept members are missing

  bool null() override { return scalar(nullptr); }
  bool boolean(bool v) override { return scalar(v); }
  bool number_integer(number_integer_t v) override { return scalar(v); }
  bool number_unsigned(number_unsigned_t v) override { return scalar(v); }
  bool number_float(number_float_t v, const string_t&) override { return scalar(v); }
  bool string(string_t& v) override { return scalar(std::move(v)); }
  bool binary(binary_t& v) override { return scalar(Json::binary(std::move(v))); }
  bool start_object(std::size_t) override { return open(Json::value_t::object); }
  bool key(string_t& k) override {
    if (m_skip == 0) {
      m_key = std::move(k);
    }
    return true;
  }
  bool end_object() override {
    if (m_skip > 0) {
      return close_skipped();
    }
    settle_duplicates(m_stack.back()->get_ref<Json::object_t&>());
    m_stack.pop_back();
    return true;
  }
  bool start_array(std::size_t) override { return open(Json::value_t::array); }
  bool end_array() override {
    if (m_skip > 0) {
      return close_skipped();
    }
    m_stack.pop_back();
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

private:
  using Members = std::vector<std::pair<const std::string, Json>>;

  // Whether the value starting now is built: everything without a filter; with one, the kept
  // members of a top-level object while the budget lasts.
  bool wanted() {
    if (!m_filter.keep) {
      return true;
    }
    if (m_stack.size() == 1 && m_stack.front()->is_object()) {
      const auto& keep = *m_filter.keep;
      if (std::find(keep.begin(), keep.end(), m_key) == keep.end()) {
        return false;
      }
    } else if (m_stack.size() == 1) {
      return false; // the members of a top-level array: not a callback, nothing to keep
    }
    if (m_values >= m_filter.max_values) {
      capped = true;
      return false;
    }
    ++m_values;
    return true;
  }

  Json* put(Json v) {
    if (m_stack.empty()) {
      root = std::move(v);
      return &root;
    }
    Json& parent = *m_stack.back();
    if (parent.is_array()) {
      auto& a = parent.get_ref<Json::array_t&>();
      a.push_back(std::move(v));
      return &a.back();
    }
    Members& members = parent.get_ref<Json::object_t&>();
    members.emplace_back(std::move(m_key), std::move(v));
    m_key.clear();
    return &members.back().second;
  }

  template <class T>
  bool scalar(T&& v) {
    if (m_skip == 0 && wanted()) {
      put(Json(std::forward<T>(v)));
    }
    return true;
  }

  bool open(Json::value_t type) {
    if (m_stack.size() + m_skip >= static_cast<size_t>(k_max_json_depth)) {
      too_deep = true;
      return false; // ends the parse
    }
    if (m_skip > 0 || !wanted()) {
      ++m_skip;
      return true;
    }
    m_stack.push_back(put(Json(type)));
    return true;
  }

  bool close_skipped() {
    --m_skip;
    return true;
  }

  static void settle_duplicates(Members& members) {
    if (members.size() < 2) {
      return;
    }
    bool duplicates = false;
    if (members.size() <= 8) {
      for (size_t i = 0; i < members.size() && !duplicates; ++i) {
        for (size_t j = i + 1; j < members.size() && !duplicates; ++j) {
          duplicates = members[i].first == members[j].first;
        }
      }
    } else {
      std::unordered_set<std::string_view> seen;
      for (const auto& m : members) {
        if (!seen.insert(m.first).second) {
          duplicates = true;
          break;
        }
      }
    }
    if (!duplicates) {
      return;
    }
    Members settled;
    std::unordered_map<std::string, size_t> at;
    for (auto& m : members) {
      auto [it, fresh] = at.emplace(m.first, settled.size());
      if (fresh) {
        settled.emplace_back(m.first, std::move(m.second));
      } else {
        settled[it->second].second = std::move(m.second);
      }
    }
    members.swap(settled);
  }

  Filter m_filter;
  std::vector<Json*> m_stack; // the values being built, outermost first
  std::string m_key;
  size_t m_skip = 0; // depth inside a value being skipped
  size_t m_values = 0;
};

Json parse_limited(std::string_view text) {
  Builder builder;
  bool ok = Json::sax_parse(text, &builder, nlohmann::detail::input_format_t::json, true);
  return ok && !builder.too_deep ? std::move(builder.root) : Json(Json::value_t::discarded);
}

} // namespace

Json parse_json_members(std::string_view text,
                        const std::vector<std::string_view>& keep,
                        size_t max_values,
                        bool& capped) {
  Builder builder(Builder::Filter{&keep, max_values});
  bool ok = Json::sax_parse(text, &builder, nlohmann::detail::input_format_t::json, true);
  capped = builder.capped;
  return ok && !builder.too_deep ? std::move(builder.root) : Json(Json::value_t::discarded);
}

namespace {

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

std::string canonical_line(const Json& j) {
  // nlohmann::json (not ordered_json) keeps object keys sorted.
  return nlohmann::json(j).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
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

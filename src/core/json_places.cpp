#include "core/json_places.h"

#include "core/json.h"

#include <algorithm>
#include <iterator>
#include <vector>

namespace core {

namespace {

// An input iterator over the text that records how many characters have been read.
class CountingIterator {
public:
  using iterator_category = std::input_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = const char&;

  CountingIterator(const char* p, const char* base, size_t* consumed)
      : m_p(p), m_base(base), m_consumed(consumed) {}
  reference operator*() const { return *m_p; }
  CountingIterator& operator++() {
    ++m_p;
    *m_consumed = static_cast<size_t>(m_p - m_base);
    return *this;
  }
  CountingIterator operator++(int) {
    CountingIterator old = *this;
    ++*this;
    return old;
  }
  bool operator==(const CountingIterator& other) const { return m_p == other.m_p; }
  bool operator!=(const CountingIterator& other) const { return m_p != other.m_p; }

private:
  const char* m_p;
  const char* m_base;
  size_t* m_consumed;
};

class PlaceRecorder : public nlohmann::json_sax<Json> {
public:
  PlaceRecorder(std::string_view text, const size_t* consumed)
      : m_text(text), m_consumed(consumed) {
    m_line_starts.push_back(0);
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '\n') {
        m_line_starts.push_back(i + 1);
      }
    }
  }

  std::unordered_map<std::string, TextPlace> places;

  bool null() override { return scalar(); }
  bool boolean(bool) override { return scalar(); }
  bool number_integer(number_integer_t) override { return scalar(true); }
  bool number_unsigned(number_unsigned_t) override { return scalar(true); }
  bool number_float(number_float_t, const string_t&) override { return scalar(true); }
  bool string(string_t&) override { return scalar(); }
  bool binary(binary_t&) override { return scalar(); }
  bool start_object(std::size_t) override {
    open(false);
    return true;
  }
  bool key(string_t& key) override {
    m_frames.back().key = key;
    places[m_frames.back().path + "/" + pointer_token(key)] = here();
    return true;
  }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override {
    open(true);
    return true;
  }
  bool end_array() override { return close(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

private:
  struct Frame {
    std::string path;
    bool array = false;
    size_t index = 0;
    std::string key;
  };

  // The pointer of the value starting now.
  std::string child_path() const {
    if (m_frames.empty()) {
      return "";
    }
    const Frame& f = m_frames.back();
    return f.path + "/" + (f.array ? std::to_string(f.index) : pointer_token(f.key));
  }
  void record(const std::string& path, bool number = false) {
    // An object member keeps its key's place; array elements and the root get their own.
    if (m_frames.empty() || m_frames.back().array) {
      places[path] = here(number);
    }
  }
  bool scalar(bool number = false) {
    record(child_path(), number);
    if (!m_frames.empty() && m_frames.back().array) {
      ++m_frames.back().index;
    }
    return true;
  }
  void open(bool array) {
    std::string path = child_path();
    record(path);
    m_frames.push_back(Frame{path, array, 0, {}});
  }
  bool close() {
    m_frames.pop_back();
    if (!m_frames.empty() && m_frames.back().array) {
      ++m_frames.back().index;
    }
    return true;
  }
  TextPlace here(bool number = false) const {
    size_t offset = *m_consumed == 0 ? 0 : *m_consumed - 1;
    // nlohmann reads one character past a number (unless the text ends there).
    auto in_number = [](char c) {
      return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
    };
    while (number && offset > 0 && offset < m_text.size() && !in_number(m_text[offset])) {
      --offset;
    }
    auto it = std::upper_bound(m_line_starts.begin(), m_line_starts.end(), offset);
    size_t line = static_cast<size_t>(it - m_line_starts.begin());
    return TextPlace{line, offset - m_line_starts[line - 1] + 1};
  }

  std::string_view m_text;
  const size_t* m_consumed;
  std::vector<size_t> m_line_starts;
  std::vector<Frame> m_frames;
};

} // namespace

std::string pointer_token(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::unordered_map<std::string, TextPlace> json_places(std::string_view text) {
  size_t consumed = 0;
  PlaceRecorder recorder(text, &consumed);
  CountingIterator first(text.data(), text.data(), &consumed);
  CountingIterator last(text.data() + text.size(), text.data(), &consumed);
  Json::sax_parse(first, last, &recorder, nlohmann::detail::input_format_t::json, false);
  return std::move(recorder.places);
}

TextPlace place_of(const std::unordered_map<std::string, TextPlace>& places, std::string pointer) {
  for (;;) {
    if (auto it = places.find(pointer); it != places.end()) {
      return it->second;
    }
    if (pointer.empty()) {
      return {};
    }
    pointer.erase(pointer.rfind('/'));
  }
}

} // namespace core

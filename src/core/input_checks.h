#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace core {

// What every inputs reader does the same way: the byte-order mark, binary files, a bounded list
// of problems, the raw text of a bad line. Pure, network-free.

// The UTF-8 byte-order mark Notepad and Excel write first: never part of an input.
inline constexpr std::string_view k_utf8_bom = "\xef\xbb\xbf";

// The length of the valid UTF-8 sequence starting at `s[i]` (1 to 4), or 0 when none does
// (overlong forms, surrogates and values past U+10FFFF are not UTF-8).
size_t utf8_sequence_length(std::string_view s, size_t i);

// `first_line` without a leading byte-order mark.
std::string_view without_bom(std::string_view first_line);

// Whether `sample` (the start of a file) looks like a binary file rather than text: it holds a
// NUL byte, or more than one byte in ten (and at least 8) is a control character (other than
// tab, CR, LF, FF) or not part of valid UTF-8. A few stray bytes in a text file are not enough.
bool looks_binary(std::string_view sample);

// How many problems an inputs file lists before "and N more".
inline constexpr size_t k_problems_shown = 20;

// The problems of one inputs file, for one error (exit 2): the first k_problems_shown, then
// "and N more problems"; first of all "NAME: this looks like a binary file ..." when the lines
// sampled say so.
class ProblemList {
public:
  explicit ProblemList(std::string name) : m_name(std::move(name)) {}
  // One problem, already "name:line: what".
  void add(std::string problem);
  // A line of the file, for the binary check (the first 8 KiB are kept).
  void sample(std::string_view line);
  bool empty() const { return m_count == 0; }
  size_t count() const { return m_count; }
  bool binary() const { return looks_binary(m_sample); }
  // Every line of the error, one problem a line.
  std::string text() const;

private:
  std::string m_name;
  std::vector<std::string> m_shown;
  size_t m_count = 0;
  std::string m_sample;
};

// The raw text of a bad input for its `invalid_input` line: bytes that are not UTF-8 become
// U+FFFD, and the text is cut to at most `max_bytes` bytes on a character boundary; `cut` says
// whether anything was left out.
std::string raw_excerpt(std::string_view raw, size_t max_bytes, bool& cut);

// When the first non-blank line of an NDJSON file shows the whole file is JSON of another shape
// (an array, a pretty-printed object): one error naming `name` and the jq command that converts
// it; "" otherwise.
std::string not_ndjson_hint(std::string_view first_line, const std::string& name);

} // namespace core

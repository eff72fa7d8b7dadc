#include "core/input_checks.h"

#include "core/text.h"

#include <fmt/format.h>

namespace core {

namespace {

constexpr size_t k_sample_bytes = 8192;

} // namespace

size_t utf8_sequence_length(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  size_t n = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
  if (c < 0x80) {
    return 1;
  } else if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    low = c == 0xE0 ? 0xA0 : 0x80;  // no overlong forms
    high = c == 0xED ? 0x9F : 0xBF; // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    low = c == 0xF0 ? 0x90 : 0x80;
    high = c == 0xF4 ? 0x8F : 0xBF;
  } else {
    return 0;
  }
  if (i + n > s.size()) {
    return 0;
  }
  if (byte(i + 1) < low || byte(i + 1) > high) {
    return 0;
  }
  for (size_t k = 2; k < n; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) {
      return 0;
    }
  }
  return n;
}

std::string_view without_bom(std::string_view first_line) {
  if (first_line.starts_with(k_utf8_bom)) {
    first_line.remove_prefix(k_utf8_bom.size());
  }
  return first_line;
}

bool looks_binary(std::string_view sample) {
  size_t odd = 0;
  for (size_t i = 0; i < sample.size();) {
    const auto c = static_cast<unsigned char>(sample[i]);
    if (c == 0) {
      return true;
    }
    if (c < 0x20 && c != '\t' && c != '\r' && c != '\n' && c != '\f') {
      ++odd;
      ++i;
      continue;
    }
    size_t n = utf8_sequence_length(sample, i);
    if (n == 0) {
      // A sequence cut by the end of the sample is no evidence.
      if (sample.size() - i < 4) {
        break;
      }
      ++odd;
      n = 1;
    }
    i += n;
  }
  // A few stray bytes (a Latin-1 name in a short file) are a text problem, not a binary file.
  return odd >= 8 && odd * 10 > sample.size();
}

void ProblemList::add(std::string problem) {
  ++m_count;
  if (m_shown.size() < k_problems_shown) {
    m_shown.push_back(std::move(problem));
  }
}

void ProblemList::sample(std::string_view line) {
  if (m_sample.size() < k_sample_bytes) {
    m_sample.append(line.substr(0, k_sample_bytes - m_sample.size()));
    m_sample += '\n';
  }
}

std::string ProblemList::text() const {
  std::vector<std::string> lines;
  if (m_sample.starts_with("\xff\xfe") || m_sample.starts_with("\xfe\xff")) {
    // Excel's "Unicode text", PowerShell's `>`: UTF-16, whose NUL bytes look binary.
    lines.push_back(fmt::format("{}: UTF-16 text, not UTF-8: convert it with iconv -f UTF-16 -t "
                                "UTF-8 {} > inputs.txt",
                                m_name,
                                m_name));
  } else if (binary()) {
    lines.push_back(fmt::format("{}: this looks like a binary file, not a text file of inputs "
                                "(lines, CSV, TSV or NDJSON)",
                                m_name));
  }
  lines.insert(lines.end(), m_shown.begin(), m_shown.end());
  if (m_count > m_shown.size()) {
    const size_t more = m_count - m_shown.size();
    lines.push_back(fmt::format("{}: and {} more problem{}", m_name, more, more == 1 ? "" : "s"));
  }
  return join(lines, "\n");
}

std::string raw_excerpt(std::string_view raw, size_t max_bytes, bool& cut) {
  static constexpr std::string_view k_replacement = "\xef\xbf\xbd"; // U+FFFD
  std::string out;
  cut = false;
  for (size_t i = 0; i < raw.size();) {
    size_t n = utf8_sequence_length(raw, i);
    std::string_view piece = n == 0 ? k_replacement : raw.substr(i, n);
    if (out.size() + piece.size() > max_bytes) {
      cut = true;
      break;
    }
    out.append(piece);
    i += n == 0 ? 1 : n;
  }
  return out;
}

std::string not_ndjson_hint(std::string_view first_line, const std::string& name) {
  std::string_view line = trim(without_bom(first_line));
  if (line.starts_with('[')) {
    return fmt::format("{}: a JSON array, not one JSON object per line (NDJSON): convert it with "
                       "jq -c '.[]' {} > inputs.ndjson",
                       name,
                       name);
  }
  if (line == "{") {
    return fmt::format("{}: pretty-printed JSON, not one JSON object per line (NDJSON): convert "
                       "it with jq -c . {} > inputs.ndjson",
                       name,
                       name);
  }
  return {};
}

} // namespace core

#include "core/inputs.h"

#include "core/error.h"
#include "core/input_checks.h"
#include "core/text.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <poll.h>
#include <unistd.h>

namespace core {

std::string missing_unique_name(const Json& params, const std::vector<std::string>& unique) {
  for (const std::string& name : unique) {
    if (!params.is_object() || !params.contains(name)) {
      std::string have;
      if (params.is_object()) {
        for (const auto& [key, value] : params.items()) {
          have += (have.empty() ? "" : ", ") + key;
        }
      }
      return fmt::format("--unique {}: this input has no parameter \"{}\" (it has: {})",
                         name,
                         name,
                         have.empty() ? "none" : have);
    }
  }
  return {};
}

namespace {

bool is_space(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

} // namespace

bool is_valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const size_t n = utf8_sequence_length(s, i);
    if (n == 0) {
      return false;
    }
    i += n;
  }
  return true;
}

EmailLine parse_email_line(std::string_view raw) {
  std::string_view line = trim(raw);
  if (line.empty() || line.front() == '#') {
    return {EmailLine::Kind::skip, {}};
  }
  if (!is_valid_utf8(line)) {
    return {EmailLine::Kind::bad, "not valid UTF-8"};
  }
  for (unsigned char c : line) {
    if (is_space(c)) {
      return {EmailLine::Kind::bad, fmt::format("white space inside {}", quote(line))};
    }
    if (c < 0x20 || c == 0x7f) {
      return {EmailLine::Kind::bad, fmt::format("control character inside {}", quote(line))};
    }
  }
  auto at = line.find('@');
  if (at == std::string_view::npos) {
    return {EmailLine::Kind::bad, fmt::format("no '@' in {}", quote(line))};
  }
  if (at == 0 || at + 1 == line.size()) {
    return {EmailLine::Kind::bad, fmt::format("nothing before or after '@' in {}", quote(line))};
  }
  return {EmailLine::Kind::email, std::string(line)};
}

Json email_params(const std::string& email) {
  return Json{{"email", Json::array({email})}};
}

std::vector<Input> read_email_file(std::istream& in, const std::string& name) {
  std::vector<Input> inputs;
  ProblemList problems(name);
  std::string raw;
  size_t line_no = 0;
  while (std::getline(in, raw)) {
    ++line_no;
    problems.sample(raw);
    EmailLine parsed = parse_email_line(line_no == 1 ? without_bom(raw) : raw);
    if (parsed.kind == EmailLine::Kind::bad) {
      problems.add(fmt::format("{}:{}: {}", name, line_no, parsed.text));
    } else if (parsed.kind == EmailLine::Kind::email) {
      inputs.push_back(Input{email_params(parsed.text), fmt::format("{}:{}", name, line_no), {}});
    }
  }
  if (in.bad()) {
    throw Error(fmt::format("{}: read error: {}", name, std::strerror(errno)));
  }
  if (!problems.empty()) {
    throw Error(problems.text());
  }
  return inputs;
}

void add_raw_input(Json& line, const Input& input) {
  if (input.raw.empty()) {
    return;
  }
  if (input.raw.find("secure_parameters") != std::string::npos) {
    // Its secrets would reach stdout and the journal: the text is not kept.
    line["raw_input"] = "(not kept: the line holds secure_parameters)";
    return;
  }
  line["raw_input"] = input.raw;
  if (input.raw_cut) {
    line["raw_input_truncated"] = true;
  }
}

std::vector<Input> load_email_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw Error(fmt::format("cannot open {}: {}", path, std::strerror(errno)));
  }
  return read_email_file(in, path);
}

std::optional<Input> VectorSource::next(std::stop_token) {
  std::lock_guard lock(m_mutex);
  if (m_next >= m_inputs.size()) {
    return std::nullopt;
  }
  return std::move(m_inputs[m_next++]);
}

std::optional<std::string> IstreamLineReader::next_line(std::stop_token stop) {
  std::string line;
  if (stop.stop_requested() || !std::getline(m_in, line)) {
    return std::nullopt;
  }
  return line;
}

std::optional<std::string> FdLineReader::next_line(std::stop_token stop) {
  for (;;) {
    auto nl = m_buffer.find('\n', m_pos);
    if (nl != std::string::npos) {
      std::string line = m_buffer.substr(m_pos, nl - m_pos);
      m_pos = nl + 1;
      if (m_pos > 65536) {
        m_buffer.erase(0, m_pos);
        m_pos = 0;
      }
      return line;
    }
    if (m_eof) {
      if (m_pos < m_buffer.size()) {
        std::string line = m_buffer.substr(m_pos); // a last line without a newline
        m_pos = m_buffer.size();
        return line;
      }
      return std::nullopt;
    }
    if (stop.stop_requested()) {
      return std::nullopt;
    }
    pollfd pfd{m_fd, POLLIN, 0};
    int ready = ::poll(&pfd, 1, 100);
    if (ready < 0 && errno != EINTR) {
      throw Error(fmt::format("cannot read stdin: {}", std::strerror(errno)));
    }
    if (ready <= 0) {
      continue;
    }
    char chunk[65536];
    ssize_t n = ::read(m_fd, chunk, sizeof chunk);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) {
        continue;
      }
      throw Error(fmt::format("cannot read stdin: {}", std::strerror(errno)));
    }
    if (n == 0) {
      m_eof = true;
    } else {
      m_buffer.append(chunk, static_cast<size_t>(n));
    }
  }
}

std::optional<Input> EmailStreamSource::next(std::stop_token stop) {
  std::lock_guard lock(m_mutex);
  while (auto line = m_reader->next_line(stop)) {
    const std::string& raw = *line;
    ++m_line;
    EmailLine parsed = parse_email_line(m_line == 1 ? without_bom(raw) : std::string_view(raw));
    std::string where = fmt::format("{}:{}", m_name, m_line);
    if (parsed.kind == EmailLine::Kind::email) {
      return Input{email_params(parsed.text), where, {}};
    }
    if (parsed.kind == EmailLine::Kind::bad) {
      // On a stream the run goes on: the bad line becomes that input's `invalid_input` line.
      Input bad;
      bad.where = where;
      bad.error = fmt::format("{}: {}", where, parsed.text);
      bad.raw = raw_excerpt(raw, k_raw_input_bytes, bad.raw_cut);
      return bad;
    }
  }
  return std::nullopt;
}

} // namespace core

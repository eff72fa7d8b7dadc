#include "core/output.h"

#include "core/error.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <unistd.h>

namespace core {

Json failure_line(const std::string& status,
                  const std::string& error,
                  const Json& input,
                  const std::optional<std::string>& task_id) {
  Json line = Json::object();
  if (task_id) {
    line["task_id"] = *task_id;
  }
  line["status"] = status;
  line["error"] = error;
  line["input"] = input;
  return line;
}

Json result_line(Json payload, const Json& input) {
  payload["input"] = input;
  return payload;
}

std::string line_status(const Json& line) {
  auto it = line.find("status");
  return it != line.end() && it->is_string() ? it->get<std::string>() : std::string();
}

void LineWriter::write_line(const std::string& text) {
  std::string buf;
  buf.reserve(text.size() + 1);
  buf += text;
  buf += '\n';
  const char* p = buf.data();
  size_t left = buf.size();
  while (left > 0) {
    ssize_t n = ::write(m_fd, p, left);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      if (errno == EPIPE) {
        throw StdoutClosed{};
      }
      throw Error(fmt::format("cannot write to stdout: {}", std::strerror(errno)));
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
}

} // namespace core

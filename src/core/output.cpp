#include "core/output.h"

#include "core/error.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <sys/uio.h>
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

std::string line_status(const Json& line) {
  auto it = line.find("status");
  return it != line.end() && it->is_string() ? it->get<std::string>() : std::string();
}

void LineWriter::write_line(const std::string& text) {
  // The line and its newline in one writev: no copy of a large line just to end it.
  char newline = '\n';
  iovec parts[2] = {{const_cast<char*>(text.data()), text.size()}, {&newline, 1}};
  iovec* part = parts;
  int count = 2;
  while (count > 0) {
    ssize_t n = ::writev(m_fd, part, count);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      if (errno == EPIPE) {
        throw StdoutClosed{};
      }
      throw Error(fmt::format("cannot write to stdout: {}", std::strerror(errno)));
    }
    // A short write: skip what went out and write the rest.
    auto done = static_cast<size_t>(n);
    while (count > 0 && done >= part->iov_len) {
      done -= part->iov_len;
      ++part;
      --count;
    }
    if (count > 0) {
      part->iov_base = static_cast<char*>(part->iov_base) + done;
      part->iov_len -= done;
    }
  }
}

} // namespace core

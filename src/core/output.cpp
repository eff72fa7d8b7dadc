#include "core/output.h"

#include "core/error.h"
#include "core/files.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

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
  int err = write_all(m_fd, text, "\n");
  if (err == EPIPE) {
    throw StdoutClosed{};
  }
  if (err != 0) {
    throw Error(fmt::format("cannot write to stdout: {}", std::strerror(err)));
  }
}

} // namespace core

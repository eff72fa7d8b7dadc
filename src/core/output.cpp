#include "core/output.h"

#include "core/error.h"
#include "core/files.h"
#include "core/redact.h"
#include "core/wait_policy.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <optional>
#include <sys/stat.h>
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

namespace {

bool looks_base64(const std::string& s) {
  std::string_view body = s;
  if (body.starts_with("data:")) {
    auto comma = body.find(";base64,");
    if (comma == std::string_view::npos) {
      return false;
    }
    body.remove_prefix(comma + 8);
  }
  return std::all_of(body.begin(), body.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '+' || c == '/' || c == '=' || c == '-' || c == '_' ||
           c == '\n' || c == '\r';
  });
}

void shorten(Json& value, size_t& shortened, size_t min_size) {
  if (value.is_string()) {
    const auto& s = value.get_ref<const std::string&>();
    if (s.size() >= min_size && looks_base64(s)) {
      value = fmt::format("<base64, {} KB, not shown on a terminal: --screenshots DIR saves "
                          "screenshots, a pipe or a file gets it whole>",
                          (s.size() + 1023) / 1024);
      ++shortened;
    }
  } else if (value.is_structured()) {
    for (auto& item : value) {
      shorten(item, shortened, min_size);
    }
  }
}

} // namespace

std::string shorten_for_terminal(const std::string& line, size_t& shortened, size_t min_size) {
  if (line.size() < min_size) {
    return line;
  }
  Json json = parse_json(line);
  if (json.is_discarded()) {
    return line;
  }
  const size_t before = shortened;
  shorten(json, shortened, min_size);
  return shortened == before ? line : dump_line(json);
}

std::optional<Json> status_line(const Json& answer, const std::string& task_id) {
  const Json* task = find_task_in_answer(answer, task_id);
  if (task == nullptr || !task->is_object() || !task->contains("status") ||
      !(*task)["status"].is_string()) {
    return std::nullopt;
  }
  // The keys a run line starts with, then the service's own, in its order.
  Json line = Json::object();
  line["task_id"] = task->value("task_id", Json(task_id));
  line["status"] = (*task)["status"];
  line["error"] = task->value("error", Json());
  for (const auto& [key, value] : task->items()) {
    if (!line.contains(key)) {
      line[key] = value;
    }
  }
  return line;
}

std::optional<Json> result_line(const Json& answer) {
  if (!answer.is_object()) {
    return std::nullopt;
  }
  auto data = answer.find("data");
  const Json& payload = data != answer.end() ? *data : answer;
  if (!payload.is_object()) {
    return std::nullopt;
  }
  return payload;
}

std::string line_status(const Json& line) {
  auto it = line.find("status");
  return it != line.end() && it->is_string() ? it->get<std::string>() : std::string();
}

LineWriter::LineWriter(int fd) : m_fd(fd) {
  // Asked once, not per line: what kind of file the lines go to.
  struct stat st {};
  m_regular = ::fstat(m_fd, &st) == 0 && S_ISREG(st.st_mode);
  int flags = ::fcntl(m_fd, F_GETFL);
  m_append = flags >= 0 && (flags & O_APPEND);
}

void LineWriter::write_line(const std::string& text) {
  // Where a regular file ended before the line: a failed write (disk full) is cut back to it,
  // so no half line is left for the next reader. (A pipe's reader may see a part of a line
  // longer than PIPE_BUF: that cannot be taken back.)
  std::optional<off_t> before;
  if (m_regular) {
    struct stat st {};
    before = m_append ? (::fstat(m_fd, &st) == 0 ? st.st_size : -1) : ::lseek(m_fd, 0, SEEK_CUR);
  }
  // The line and its newline in one writev: no copy of a large line just to end it.
  // Through the one redaction: no registered secret reaches stdout (no copy when none is).
  int err = has_secrets() ? write_all(m_fd, redact(text), "\n") : write_all(m_fd, text, "\n");
  if (err == EPIPE) {
    throw StdoutClosed{};
  }
  if (err != 0) {
    if (before && *before >= 0 && ::ftruncate(m_fd, *before) == 0) {
      ::lseek(m_fd, *before, SEEK_SET);
    }
    throw Error(fmt::format("cannot write to stdout: {}", std::strerror(err)));
  }
}

} // namespace core

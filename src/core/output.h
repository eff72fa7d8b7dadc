#pragma once

#include "core/json.h"

#include <optional>
#include <string>

namespace core {

// The line of an input that ended without a callback: `status` (submit_failed, timeout,
// invalid_input, interrupted), `error`, `input`, and `task_id` when known.
Json failure_line(const std::string& status,
                  const std::string& error,
                  const Json& input,
                  const std::optional<std::string>& task_id = std::nullopt);

// The status of a line ("" when it has none).
std::string line_status(const Json& line);

// A line as shown on a terminal: every long base64 string (an inline screenshot, a data: URI;
// at least `min_size` bytes) becomes a short placeholder naming its size and --screenshots DIR.
// Returns the line unchanged (the same bytes) when it holds none; `shortened` counts them.
std::string
shorten_for_terminal(const std::string& line, size_t& shortened, size_t min_size = 1024);

// Thrown when stdout is closed (EPIPE): the run stops quietly with exit 141.
struct StdoutClosed {};

// Writes whole lines to a file descriptor with write(2), retrying short writes, so every line
// is flushed at once and a closed pipe is noticed. Not thread-safe: one writer.
class LineWriter {
public:
  explicit LineWriter(int fd = 1);
  // Writes `text` and a newline; throws StdoutClosed on EPIPE, core::Error on other errors.
  void write_line(const std::string& text);

private:
  int m_fd;
  bool m_regular = false; // a regular file: a failed line is cut back
  bool m_append = false;  // opened O_APPEND (>>): a line starts at the file's end
};

} // namespace core

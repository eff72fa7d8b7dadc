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

// The line `status TASK_ID` prints for a task_status answer: the task it describes
// (find_task_in_answer), out of the service's envelope ({"success":true,"task":{...}}), with
// task_id, status and error first, as a run line has them, then what else the service says of
// it (created_at, started_at, ...). nullopt when the answer describes no task with a status.
std::optional<Json> status_line(const Json& answer, const std::string& task_id);

// The payload of a get_callback_data answer ({"success":true,"data":{...}}, or the payload
// itself): what the task's callback carried, a run line less its `input`. nullopt while the task
// has no result (`data` is null) or when the answer holds no payload object.
std::optional<Json> result_line(const Json& answer);

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

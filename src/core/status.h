#pragma once

#include <array>
#include <optional>
#include <string_view>

namespace core {

// Every status a line, a callback or a step can carry: the service's seven
// (docs/optexity-api.md §3: queued → allocated → running → success | failed | cancelled | killed)
// and the ones the tool gives an input that has no callback.
enum class Status {
  // The service's.
  queued,
  allocated,
  running,
  success,
  failed,
  cancelled,
  killed,
  // The tool's own.
  submit_failed, // the submit was refused or never answered
  timeout,       // no terminal callback before the deadline
  invalid_input, // the input could not become a request
  interrupted,   // SIGINT/SIGTERM before the task ended
  skipped,       // a flow step whose `when` did not hold, or whose dependency failed
  pending,       // a flow step not ended yet (in the line of an abandoned item)
};

// Every Status, in declaration order.
inline constexpr std::array<Status, 13> k_all_statuses = {
    Status::queued,
    Status::allocated,
    Status::running,
    Status::success,
    Status::failed,
    Status::cancelled,
    Status::killed,
    Status::submit_failed,
    Status::timeout,
    Status::invalid_input,
    Status::interrupted,
    Status::skipped,
    Status::pending,
};

// The word a line's (or the service's) "status" field uses.
constexpr std::string_view to_text(Status s) {
  switch (s) {
  case Status::queued:
    return "queued";
  case Status::allocated:
    return "allocated";
  case Status::running:
    return "running";
  case Status::success:
    return "success";
  case Status::failed:
    return "failed";
  case Status::cancelled:
    return "cancelled";
  case Status::killed:
    return "killed";
  case Status::submit_failed:
    return "submit_failed";
  case Status::timeout:
    return "timeout";
  case Status::invalid_input:
    return "invalid_input";
  case Status::interrupted:
    return "interrupted";
  case Status::skipped:
    return "skipped";
  case Status::pending:
    return "pending";
  }
  return "?";
}

// The Status a word names, exactly (case matters, as on the wire); nothing for another word.
constexpr std::optional<Status> status_from_text(std::string_view text) {
  for (Status s : k_all_statuses) {
    if (to_text(s) == text) {
      return s;
    }
  }
  return std::nullopt;
}

// A status the service sends when a task has ended: success, failed, cancelled, killed.
constexpr bool is_terminal(Status s) {
  return s == Status::success || s == Status::failed || s == Status::cancelled ||
         s == Status::killed;
}

// A status the tool, not the service, gives a line.
constexpr bool is_tool_status(Status s) {
  return s >= Status::submit_failed;
}

// The statuses an output line can end with (the service's terminal ones and the tool's, without
// skipped, which only flow steps carry): the choices of `run --where-status`.
inline constexpr std::array<Status, 8> k_line_statuses = {
    Status::success,
    Status::failed,
    Status::killed,
    Status::cancelled,
    Status::timeout,
    Status::submit_failed,
    Status::invalid_input,
    Status::interrupted,
};

// The statuses as NUL-terminated text, for code that builds JSON and compares strings:
// `core::status::success` is "success", to_text(Status::success).
namespace status {
inline constexpr const char* queued = to_text(Status::queued).data();
inline constexpr const char* allocated = to_text(Status::allocated).data();
inline constexpr const char* running = to_text(Status::running).data();
inline constexpr const char* success = to_text(Status::success).data();
inline constexpr const char* failed = to_text(Status::failed).data();
inline constexpr const char* cancelled = to_text(Status::cancelled).data();
inline constexpr const char* killed = to_text(Status::killed).data();
inline constexpr const char* submit_failed = to_text(Status::submit_failed).data();
inline constexpr const char* timeout = to_text(Status::timeout).data();
inline constexpr const char* invalid_input = to_text(Status::invalid_input).data();
inline constexpr const char* interrupted = to_text(Status::interrupted).data();
inline constexpr const char* skipped = to_text(Status::skipped).data();
inline constexpr const char* pending = to_text(Status::pending).data();
} // namespace status

} // namespace core

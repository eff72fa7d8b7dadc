#pragma once

// How long to wait for a task, and what to do when its callback is late: the decisions of the
// engine's status checks, network-free and clock-free (the caller passes the times), so unit
// tests drive them directly.
//
// The real service queues tasks (workspace capacity, one at a time per unique key), retries
// attempts, and may leave a task `allocated` or `running` for ever. A deadline counted from the
// submit turns a queue into false timeouts, so:
// - `--timeout` is measured from the task's `started_at` as the service reports it;
// - at a deadline the service is asked: queued/allocated -> ask again later (backoff); running ->
//   wait until started_at + timeout; terminal -> fetch the result;
// - `--max-wait` caps the whole wait from the submit: only then is a queued task a `timeout`.

#include "core/json.h"

#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace core {

using SteadyTime = std::chrono::steady_clock::time_point;
using WallTime = std::chrono::system_clock::time_point;

// "2026-08-20T10:00:09Z", with optional fractional seconds and a Z or +HH:MM / -HH:MM offset
// (naive times are read as UTC, as FastAPI writes them). nullopt for anything else.
std::optional<WallTime> parse_iso8601(std::string_view text);

// What one task_status answer says of a task.
struct TaskState {
  std::string status;                 // "" when the answer names none
  std::optional<WallTime> started_at; // when the service reports one
};

// The task a task_status answer describes: {"task":{...}}, {"tasks":[...]} or a list of tasks
// (the service's multi-task shapes, PR #225: the entry with `task_id`, else the first), or the
// answer itself. nullptr when it holds none.
const Json* find_task_in_answer(const Json& answer, const std::string& task_id);

// Reads a task_status answer: {"task":{...}}, {"tasks":[...]} or a list of tasks (the service's
// multi-task shapes, PR #225: the entry with `task_id`, else the first), or the task itself.
TaskState read_task_state(const Json& answer, const std::string& task_id);

// The limits of one task's wait.
struct WaitLimits {
  std::chrono::milliseconds timeout{std::chrono::minutes(15)}; // from started_at
  std::chrono::milliseconds max_wait{std::chrono::hours(24)};  // from the submit
};

// What to do after a status check.
struct WaitDecision {
  enum class Action {
    fetch,   // the task ended: fetch its result
    recheck, // ask again at `when`
    timeout, // give up: the line is `timeout`, `reason` says why
  };
  Action action = Action::recheck;
  SteadyTime when{};
  std::string reason;
};

// The pause before the (n+1)-th re-check of a task that waits in the queue: timeout/8 doubling
// with each check, between 1 s and 5 minutes (a queued task's callback ends the wait anyway; the
// checks only find tasks whose callback was lost).
std::chrono::milliseconds recheck_backoff(std::chrono::milliseconds timeout, int checks);

// The decision after the `checks`-th status check (1 for the first) of a task submitted at
// `submitted`, when the service said `state`. `now` and `wall_now` are the same instant on the
// two clocks; the service's started_at is compared with `wall_now` (a clock skew between the two
// machines shifts the deadline by as much; --max-wait still bounds it).
WaitDecision decide_after_check(const TaskState& state,
                                const WaitLimits& limits,
                                SteadyTime submitted,
                                SteadyTime now,
                                WallTime wall_now,
                                int checks);

// The first deadline of a task submitted at `submitted`: it cannot have started before its
// submit, so its --timeout cannot end before submitted + timeout (nor after the --max-wait).
SteadyTime first_deadline(const WaitLimits& limits, SteadyTime submitted);

// The default --timeout: `attempts` attempts of `attempt_limit` each, the service's pauses
// between them (10 s * 2^n), and its 5 minutes of callback delivery retries.
std::chrono::milliseconds default_timeout(std::chrono::minutes attempt_limit, int attempts);

// How long the run's finished tasks took (submit -> result), to tell a straggler: a task whose
// callback is overdue compared with its peers. Keeps the latest `capacity` samples.
class PeerDurations {
public:
  explicit PeerDurations(size_t capacity = 1024);
  void record(std::chrono::milliseconds took);
  size_t count() const;
  // The 90th percentile (nearest rank) of the samples kept; nullopt with none.
  std::optional<std::chrono::milliseconds> p90() const;
  // max(floor, 3 * p90): past it a task in flight is a straggler. nullopt with no samples
  // (nothing to compare with: the deadline and the watchdog cover it).
  std::optional<std::chrono::milliseconds> threshold(std::chrono::milliseconds floor) const;

private:
  size_t m_capacity;
  size_t m_next = 0;
  std::vector<long long> m_samples; // milliseconds, a ring once full
};

// A limit on the rate of status checks across a run (every check of every thread), as a
// virtual schedule: each request reserves the next free slot. Thread-safe.
class RateLimit {
public:
  // `per_second` requests a second on average, at most `burst` at once after a quiet period.
  RateLimit(double per_second, int burst);
  // Reserves a slot for a request at `now`: the time it may go (now, or later when over the
  // rate).
  SteadyTime reserve(SteadyTime now);

private:
  std::mutex m_mutex;
  std::chrono::nanoseconds m_interval;
  std::chrono::nanoseconds m_burst_span;
  SteadyTime m_next{}; // the earliest time the next request could go with no burst credit
};

} // namespace core

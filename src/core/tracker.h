#pragma once

#include "core/json.h"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace core {

using Clock = std::chrono::steady_clock;

// One input's slot: it receives exactly one final result (a terminal callback, or a local
// failure line) and wakes whoever waits on it. A waiter is a slot and a condition variable,
// not a thread, so ten thousand tasks in flight cost little memory.
class Waiter {
public:
  // Called (outside the waiter's lock) when the waiter completes; used for completion queues.
  using Hook = std::function<void()>;

  Waiter() = default;
  explicit Waiter(Hook on_complete) : m_on_complete(std::move(on_complete)) {}

  // Stores `result` unless the waiter already has one; returns whether it was stored.
  bool complete(Json result);
  // Waits until the waiter has a result, `deadline` passes or `stop` is requested.
  // Returns true when it has a result.
  bool wait_until(Clock::time_point deadline, std::stop_token stop = {});
  // Sets (or moves) the deadline that wait() honours, waking waiters to see it.
  void set_deadline(Clock::time_point deadline);
  // Waits until the waiter has a result, its deadline (once one is set) passes, or `stop` is
  // requested. Returns true when it has a result.
  bool wait(std::stop_token stop = {});
  bool done() const;
  // Moves the result out (call once, after done()).
  Json take();
  // When the result arrived (after done()).
  Clock::time_point completed_at() const;

private:
  mutable std::mutex m_mutex;
  std::condition_variable_any m_cv;
  std::optional<Json> m_result;
  Clock::time_point m_completed_at{};
  std::optional<Clock::time_point> m_deadline;
  unsigned m_deadline_generation = 0;
  Hook m_on_complete;
};

// What became of a delivered callback.
enum class Delivery {
  delivered,   // completed its waiter
  duplicate,   // its task already has a result: ignored
  progress,    // a non-terminal status: ignored
  buffered,    // no waiter yet: kept until one is bound (early callback or unknown task)
  buffer_full, // no waiter and no room: the sender should redeliver later (503)
  mismatch,    // the body names another task than the one its URL's input was submitted as
  closing,     // the run is stopping and this callback's input has no result: redeliver (503)
};

// A callback as the listener screened it: the fields the tracker routes by, and the body as it
// came. The body is parsed only when a waiter takes it; a callback kept for later stays text
// (a stranger's `[{},{},...]` costs its bytes, not the tens of times more a parsed value takes).
struct RawCallback {
  std::string task_id;
  std::string status;
  std::string content; // core::content_key of the body; "" when unknown
  std::string body;    // JSON text, an object
};

struct TrackerLimits {
  // What callbacks kept for later (early, or for tasks this run does not know) may hold in all,
  // counted as the memory they take. Past it they are refused (503) and their senders redeliver.
  size_t max_buffer_bytes = size_t{8} << 20;
  std::chrono::seconds max_age{600};
};

// Maps keys to waiters: a task id (callbacks to the plain callback path), or an input's key
// (per-run callback URLs name the input). A callback can reach the listener before the
// submitting side has read its task id (the service may call back at once): such callbacks are
// buffered, bounded by bytes and age, and delivered when the waiter is bound.
class Tracker {
public:
  explicit Tracker(TrackerLimits limits = {}) : m_limits(limits) {}

  // Binds `key` to `waiter`; a callback already buffered for it completes the waiter now. With
  // `expected_task_id`, only callbacks whose body names that task are accepted (a buffered one
  // that names another is dropped).
  void bind(const std::string& key,
            std::shared_ptr<Waiter> waiter,
            const std::string& expected_task_id = {});
  // Binds a waiter by content (core::content_key of its request): for a submit whose outcome is
  // unknown. A terminal callback whose key has no waiter and whose content matches completes the
  // first such waiter (oldest bound first), and its task id is bound to it from then on; one
  // already buffered completes it now.
  void bind_content(const std::string& content, std::shared_ptr<Waiter> waiter);
  // Forgets a waiter bound by content (it ended otherwise).
  void unbind_content(const std::string& content, const std::shared_ptr<Waiter>& waiter);
  // Hands a callback over; a waiter gets its body parsed.
  Delivery deliver(const std::string& key, RawCallback callback);
  // The same for a payload already parsed (tests; the listener hands over RawCallbacks).
  Delivery deliver(const std::string& key, const Json& payload);
  // Removes and returns a terminal callback buffered for `key`, if any (a result that arrived
  // although the submit's answer was lost).
  std::optional<Json> take_buffered(const std::string& key);
  // Forgets a printed input's waiter; later callbacks for it are duplicates.
  void retire(const std::string& key);
  // Forgets the waiter of an input that ended without its result (interrupted, or an unknown
  // outcome reported at its deadline): a later callback for it is kept (buffered), not dropped.
  void unbind(const std::string& key);
  // The run is stopping: from now on a terminal callback that completes no waiter (its input
  // ended without its result: interrupted) is refused with `closing`, so its sender redelivers
  // it to the next run (a rerun with --state) instead of calling it delivered. Returns the
  // terminal callbacks buffered so far (key, body text), oldest first: answered already, they
  // are the caller's to keep for the next run.
  std::vector<std::pair<std::string, std::string>> close();

  size_t buffered_count() const;
  // The memory the buffered callbacks are counted as.
  size_t buffered_bytes() const;
  // When the last well-formed callback (any status, any task) arrived; start time before any.
  Clock::time_point last_delivery() const;

private:
  struct Buffered {
    RawCallback callback;
    size_t bytes;
    Clock::time_point at;
  };
  void expire_buffer_locked(Clock::time_point now);
  std::shared_ptr<Waiter> take_content_waiter_locked(const std::string& content);

  TrackerLimits m_limits;
  mutable std::mutex m_mutex;
  struct Bound {
    std::shared_ptr<Waiter> waiter;
    std::string expected_task_id;
  };
  std::unordered_map<std::string, Bound> m_waiters;
  std::unordered_set<std::string> m_retired;
  std::unordered_map<std::string, std::deque<std::shared_ptr<Waiter>>> m_by_content;
  std::unordered_map<std::string, Buffered> m_buffer;
  std::deque<std::pair<Clock::time_point, std::string>> m_buffer_order;
  size_t m_buffer_bytes = 0;
  bool m_closed = false;
  Clock::time_point m_last_delivery = Clock::now();
};

} // namespace core

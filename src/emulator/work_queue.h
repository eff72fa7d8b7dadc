#pragma once

// The service's queue, as its docs describe it, without clocks or threads: a workspace runs at
// most `capacity` tasks at once, and tasks with equal unique-parameter values (the login queue)
// one after another; waiting tasks of one login queue go by `priority` (lower first, none last,
// ties in submit order), and the login queues in the order of their waiting tasks' submits.

#include "core/json.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "emulator/emulator_payload.h"

namespace emulator {

// The login-queue key of an inference request: the canonical JSON of the values of its
// unique_parameter_names in input_parameters, "" when it names none (never collides).
std::string unique_key(const core::Json& request);

class WorkQueue {
public:
  explicit WorkQueue(int capacity); // 0 or less: unlimited

  // Adds a task; returns the tasks that start now (it, or none).
  std::vector<std::string>
  enqueue(const std::string& id, const std::string& key, std::optional<int64_t> priority);
  // A task ended (or its worker died): frees its place and its key; returns those that start.
  std::vector<std::string> finish(const std::string& id);

  size_t running() const { return m_running.size(); }
  size_t waiting() const { return m_waiting.size(); }

private:
  struct Waiting {
    uint64_t seq = 0;
    std::string id;
    std::string key;
    std::optional<int64_t> priority;
  };
  static bool before(const Waiting& a, const Waiting& b); // within one login queue
  std::vector<std::string> start_what_can();
  bool has_room() const;

  int m_capacity;
  uint64_t m_seq = 0;
  std::vector<Waiting> m_waiting;                         // in submit order
  std::unordered_map<std::string, std::string> m_running; // id -> key
  std::unordered_set<std::string> m_busy_keys;            // keys of running tasks ("" never)
};

// How one task's attempts went: the service retries a failed or killed attempt (the
// recording's max_retries) after 10 s * 2^n, and calls back once, at the end.
struct AttemptPlan {
  TaskOutcome result = TaskOutcome::success; // the last attempt's
  int attempts = 1;
  std::chrono::milliseconds duration{0}; // from the first attempt's start to the end of the last
};

// `results[i]` is how attempt i would end (drawn beforehand; at least one entry); attempts stop
// at the first success or after max_retries + 1. A killed attempt runs `limit`, any other
// `run`; pauses between attempts are 10 s * 2^n * `time_scale`.
AttemptPlan plan_attempts(const std::vector<TaskOutcome>& results,
                          int max_retries,
                          std::chrono::milliseconds run,
                          std::chrono::milliseconds limit,
                          double time_scale);

} // namespace emulator

#pragma once

// The emulator's memory of its tasks, for the status endpoints and the download files.

#include "core/json.h"

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <queue>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "emulator/emulator_payload.h"

namespace emulator {

// One task as the status API sees it. The request itself is not kept: only what the answers
// need, so thousands of tasks cost little beyond their (small) payload heads.
struct TaskRecord {
  std::string task_id;
  TaskOutcome outcome = TaskOutcome::success;
  std::string error; // empty for success
  int downloads = 0; // files served for this task (success only)
  std::chrono::system_clock::time_point created_wall;
  std::chrono::steady_clock::time_point created;
  std::chrono::steady_clock::time_point completes; // the task's callback time
  std::shared_ptr<const CallbackBody> payload;
};

// A thread-safe map task_id -> record. A record lives until one hour (the retention) after
// its task completes, then lookups miss it and the next add() frees it.
class TaskTable {
public:
  using Clock = std::chrono::steady_clock;

  explicit TaskTable(Clock::duration retention = std::chrono::hours(1));

  // Remembers a task (replacing one with the same id) and frees expired records.
  void add(TaskRecord record);
  // The record of `task_id`, unless unknown or expired. Copies only the small fields and a
  // pointer to the payload.
  std::optional<TaskRecord> find(const std::string& task_id, Clock::time_point now) const;
  // Records held, expired or not (for tests and logs).
  size_t size() const;

private:
  using Expiry = std::pair<Clock::time_point, std::string>;

  Clock::duration m_retention;
  mutable std::mutex m_mutex;
  std::unordered_map<std::string, TaskRecord> m_records;
  // Earliest expiry first: jittered delays complete tasks out of submit order.
  std::priority_queue<Expiry, std::vector<Expiry>, std::greater<>> m_expiries;
};

// The `task` object of GET /api/v1/task_status at `now`: `running` until the task's callback
// time, then its outcome (whether or not the callback was delivered). ISO-8601 UTC times;
// completed_at and error are null while running.
core::Json task_status_json(const TaskRecord& record, TaskTable::Clock::time_point now);

// "2026-09-17T08:15:30.123456Z".
std::string iso8601_utc(std::chrono::system_clock::time_point t);

} // namespace emulator

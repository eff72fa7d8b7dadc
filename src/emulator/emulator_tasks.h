#pragma once

// The emulator's memory of its tasks, for the status endpoints and the download files, and of
// the answers it gave to their submits (the faults --bad-answer-rate and --repeat-task-id).

#include "core/json.h"

#include <chrono>
#include <functional>
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
  std::string error;            // empty for success
  int downloads = 0;            // files served for this task (success only)
  bool screenshot_file = false; // final_screenshot.png served once it ended
  std::chrono::system_clock::time_point created_wall;
  std::chrono::steady_clock::time_point created;
  // When it left the queue: allocated and started at once (none while `queued`).
  std::optional<std::chrono::steady_clock::time_point> started;
  bool stuck = false; // left `allocated` for ever
  // Its callback time; time_point::max() until it starts (and for ever when stuck).
  std::chrono::steady_clock::time_point completes = std::chrono::steady_clock::time_point::max();
  int attempts = 1;
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
  // Changes the record of `task_id` (as it leaves the queue); false when unknown.
  bool update(const std::string& task_id, const std::function<void(TaskRecord&)>& change);
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

// The `task` object of GET /api/v1/task_status at `now`: `queued` until it starts, `allocated`
// for ever when stuck, `running` until its callback time, then its outcome (whether or not the
// callback was delivered). ISO-8601 UTC times; those not reached yet, and error, are null.
core::Json task_status_json(const TaskRecord& record, TaskTable::Clock::time_point now);

// "2026-09-17T08:15:30.123456Z".
std::string iso8601_utc(std::chrono::system_clock::time_point t);

// What the answer to one accepted submit says. The task exists and runs in every case.
struct SubmitAnswer {
  enum class Kind {
    task_id,       // 202 {"success":true,"message":...,"task_id":...}
    html,          // 200, text/html "<html><body>OK</body></html>": no task_id
    ok_without_id, // 202 {"ok":true}: no task_id
  };
  Kind kind = Kind::task_id;
  std::string task_id; // Kind::task_id: the id the answer names (the task's own, or a repeat)
  int repeat = 0;      // 1..N when task_id is the first answer's instead of the task's own
  int repeats = 0;     // N, the --repeat-task-id the repeat counts against
};

// Decides, in the order of its calls, what each answered submit's answer says. A bad answer
// (`bad`, drawn from --bad-answer-rate) names no task: the 1st, 3rd, ... are HTML, the 2nd,
// 4th, ... 202 {"ok":true}. The first answer with a task_id names its own task; the next
// `repeat_task_id` answers with a task_id name that first task instead of their own. Submits
// that get no answer at all are not passed here. Thread-safe.
class AnswerPlanner {
public:
  explicit AnswerPlanner(int repeat_task_id);

  SubmitAnswer next(const std::string& own_task_id, bool bad);

private:
  std::mutex m_mutex;
  const int m_repeats;
  int m_repeated = 0;
  int m_bad = 0;
  std::string m_first; // the first answer's task_id, once there was one
};

// The HTTP answer to a submit.
struct AnswerBody {
  int status = 202;
  std::string content_type;
  std::string body;
};

// The answer `answer` stands for; `message` is the service's 202 message.
AnswerBody answer_body(const SubmitAnswer& answer, const std::string& message);

// How the log describes a submit's answer for task `own_task_id`, up to the plan in
// parentheses: "202 task ID", "200 text/html without task_id, task ID", "202 {"ok":true}
// without task_id, task ID". A repeat keeps "202 task ID" (the task's own id, as its callbacks
// name it); repeat_note() says which id the answer named.
std::string answer_log(const SubmitAnswer& answer, const std::string& own_task_id);
// "; the answer names task FIRST (repeat K of N)" for a repeat, "" otherwise.
std::string repeat_note(const SubmitAnswer& answer);

} // namespace emulator

#include "emulator/emulator_tasks.h"

#include "core/status.h"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>

namespace emulator {

TaskTable::TaskTable(Clock::duration retention) : m_retention(retention) {}

namespace {

bool expired(const TaskRecord& record,
             TaskTable::Clock::time_point now,
             TaskTable::Clock::duration retention) {
  return record.completes != TaskTable::Clock::time_point::max() &&
         record.completes + retention <= now;
}

} // namespace

void TaskTable::add(TaskRecord record) {
  const bool ends = record.completes != Clock::time_point::max();
  Clock::time_point expires = ends ? record.completes + m_retention : Clock::time_point::max();
  std::string id = record.task_id;
  std::lock_guard lock(m_mutex);
  // Freeing on add keeps the work proportional to the submits, and needs no sweeper thread.
  auto now = Clock::now();
  while (!m_expiries.empty() && m_expiries.top().first <= now) {
    auto it = m_records.find(m_expiries.top().second);
    // A re-added id has a later expiry of its own: only the matching entry frees it.
    if (it != m_records.end() && expired(it->second, now, m_retention)) {
      m_records.erase(it);
    }
    m_expiries.pop();
  }
  m_records.insert_or_assign(id, std::move(record));
  if (ends) {
    m_expiries.emplace(expires, std::move(id));
  }
}

bool TaskTable::update(const std::string& task_id, const std::function<void(TaskRecord&)>& change) {
  std::lock_guard lock(m_mutex);
  auto it = m_records.find(task_id);
  if (it == m_records.end()) {
    return false;
  }
  const bool ended = it->second.completes != Clock::time_point::max();
  change(it->second);
  if (!ended && it->second.completes != Clock::time_point::max()) {
    m_expiries.emplace(it->second.completes + m_retention, task_id);
  }
  return true;
}

std::optional<TaskRecord> TaskTable::find(const std::string& task_id, Clock::time_point now) const {
  std::lock_guard lock(m_mutex);
  auto it = m_records.find(task_id);
  if (it == m_records.end() || expired(it->second, now, m_retention)) {
    return std::nullopt;
  }
  return it->second;
}

size_t TaskTable::size() const {
  std::lock_guard lock(m_mutex);
  return m_records.size();
}

std::string iso8601_utc(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  auto micros = duration_cast<microseconds>(t.time_since_epoch()).count();
  // Floor division, so times before 1970 (a badly set clock) still print a valid date.
  auto seconds = micros / 1000000 - (micros % 1000000 < 0 ? 1 : 0);
  auto fraction = micros - seconds * 1000000;
  std::time_t tt = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
                     tm.tm_year + 1900,
                     tm.tm_mon + 1,
                     tm.tm_mday,
                     tm.tm_hour,
                     tm.tm_min,
                     tm.tm_sec,
                     fraction);
}

core::Json task_status_json(const TaskRecord& record, TaskTable::Clock::time_point now) {
  const bool done = now >= record.completes;
  // Wall times derive from one wall reading plus steady offsets, so a clock step during the
  // run cannot make completed_at precede created_at.
  auto wall = [&](TaskTable::Clock::time_point t) {
    return core::Json(iso8601_utc(
        record.created_wall +
        std::chrono::duration_cast<std::chrono::system_clock::duration>(t - record.created)));
  };
  core::Json task = core::Json::object();
  task["task_id"] = record.task_id;
  if (!record.started) {
    task["status"] = core::status::queued;
  } else if (record.stuck) {
    task["status"] = core::status::allocated;
  } else {
    task["status"] = done ? outcome_status(record.outcome) : core::status::running;
  }
  task["created_at"] = iso8601_utc(record.created_wall);
  // Allocated and started the moment it leaves the queue; a stuck task never starts.
  task["allocated_at"] = record.started ? wall(*record.started) : core::Json(nullptr);
  task["started_at"] =
      record.started && !record.stuck ? wall(*record.started) : core::Json(nullptr);
  task["completed_at"] = done ? wall(record.completes) : core::Json(nullptr);
  task["error"] = done && !record.error.empty() ? core::Json(record.error) : core::Json(nullptr);
  return task;
}

AnswerPlanner::AnswerPlanner(int repeat_task_id) : m_repeats(std::max(0, repeat_task_id)) {}

SubmitAnswer AnswerPlanner::next(const std::string& own_task_id, bool bad) {
  std::lock_guard lock(m_mutex);
  SubmitAnswer answer;
  if (bad) {
    // Alternating, so a run with a few bad answers meets both shapes a proxy might send.
    answer.kind = m_bad++ % 2 == 0 ? SubmitAnswer::Kind::html : SubmitAnswer::Kind::ok_without_id;
    return answer;
  }
  answer.task_id = own_task_id;
  if (m_first.empty()) {
    m_first = own_task_id;
  } else if (m_repeated < m_repeats) {
    answer.task_id = m_first;
    answer.repeat = ++m_repeated;
    answer.repeats = m_repeats;
  }
  return answer;
}

AnswerBody answer_body(const SubmitAnswer& answer, const std::string& message) {
  switch (answer.kind) {
  case SubmitAnswer::Kind::html:
    return {200, "text/html", "<html><body>OK</body></html>"};
  case SubmitAnswer::Kind::ok_without_id:
    return {202, "application/json", R"({"ok":true})"};
  case SubmitAnswer::Kind::task_id:
    break;
  }
  core::Json body = {{"success", true}, {"message", message}, {"task_id", answer.task_id}};
  return {202, "application/json", core::dump_line(body)};
}

std::string answer_log(const SubmitAnswer& answer, const std::string& own_task_id) {
  switch (answer.kind) {
  case SubmitAnswer::Kind::html:
    return fmt::format("200 text/html without task_id, task {}", own_task_id);
  case SubmitAnswer::Kind::ok_without_id:
    return fmt::format("202 {{\"ok\":true}} without task_id, task {}", own_task_id);
  case SubmitAnswer::Kind::task_id:
    break;
  }
  return fmt::format("202 task {}", own_task_id);
}

std::string repeat_note(const SubmitAnswer& answer) {
  if (answer.repeat == 0) {
    return {};
  }
  return fmt::format("; the answer names task {} (repeat {} of {})",
                     answer.task_id,
                     answer.repeat,
                     answer.repeats);
}

} // namespace emulator

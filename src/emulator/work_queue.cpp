#include "emulator/work_queue.h"

#include <algorithm>

namespace emulator {

std::string unique_key(const core::Json& request) {
  auto names = request.find("unique_parameter_names");
  auto params = request.find("input_parameters");
  if (names == request.end() || !names->is_array() || names->empty() || params == request.end() ||
      !params->is_object()) {
    return {};
  }
  core::Json values = core::Json::object();
  for (const auto& name : *names) {
    if (name.is_string()) {
      auto it = params->find(name.get<std::string>());
      values[name.get<std::string>()] = it == params->end() ? core::Json(nullptr) : *it;
    }
  }
  return core::canonical_line(values);
}

WorkQueue::WorkQueue(int capacity) : m_capacity(capacity) {}

bool WorkQueue::before(const Waiting& a, const Waiting& b) {
  if (a.priority.has_value() != b.priority.has_value()) {
    return a.priority.has_value(); // none runs last
  }
  if (a.priority && *a.priority != *b.priority) {
    return *a.priority < *b.priority;
  }
  return a.seq < b.seq;
}

bool WorkQueue::has_room() const {
  return m_capacity <= 0 || m_running.size() < static_cast<size_t>(m_capacity);
}

std::vector<std::string>
WorkQueue::enqueue(const std::string& id, const std::string& key, std::optional<int64_t> priority) {
  m_waiting.push_back(Waiting{m_seq++, id, key, priority});
  return start_what_can();
}

std::vector<std::string> WorkQueue::finish(const std::string& id) {
  auto it = m_running.find(id);
  if (it == m_running.end()) {
    return {};
  }
  if (!it->second.empty()) {
    m_busy_keys.erase(it->second);
  }
  m_running.erase(it);
  return start_what_can();
}

std::vector<std::string> WorkQueue::start_what_can() {
  std::vector<std::string> started;
  bool progress = true;
  while (progress && has_room() && !m_waiting.empty()) {
    progress = false;
    // The earliest waiting task whose login queue is free, replaced by the one that queue
    // runs first.
    for (size_t i = 0; i < m_waiting.size(); ++i) {
      const std::string& key = m_waiting[i].key;
      if (!key.empty() && m_busy_keys.contains(key)) {
        continue;
      }
      size_t best = i;
      if (!key.empty()) {
        for (size_t j = i + 1; j < m_waiting.size(); ++j) {
          if (m_waiting[j].key == key && before(m_waiting[j], m_waiting[best])) {
            best = j;
          }
        }
      }
      Waiting w = std::move(m_waiting[best]);
      m_waiting.erase(m_waiting.begin() + static_cast<std::ptrdiff_t>(best));
      if (!w.key.empty()) {
        m_busy_keys.insert(w.key);
      }
      m_running.emplace(w.id, w.key);
      started.push_back(std::move(w.id));
      progress = true;
      break;
    }
  }
  return started;
}

AttemptPlan plan_attempts(const std::vector<TaskOutcome>& results,
                          int max_retries,
                          std::chrono::milliseconds run,
                          std::chrono::milliseconds limit,
                          double time_scale) {
  AttemptPlan plan;
  const int allowed = std::max(0, max_retries) + 1;
  plan.attempts = 0;
  for (int i = 0; i < allowed; ++i) {
    TaskOutcome r = results.empty() ? TaskOutcome::success
                                    : results[std::min(static_cast<size_t>(i), results.size() - 1)];
    if (i > 0) {
      auto pause = std::chrono::duration<double, std::milli>(
          10000.0 * double(1LL << std::min(i - 1, 20)) * time_scale);
      plan.duration += std::chrono::milliseconds(static_cast<long long>(pause.count()));
    }
    plan.duration += r == TaskOutcome::killed ? limit : run;
    plan.result = r;
    plan.attempts = i + 1;
    if (r == TaskOutcome::success) {
      break;
    }
  }
  return plan;
}

} // namespace emulator

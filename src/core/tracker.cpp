#include "core/tracker.h"

#include "core/api.h"

namespace core {

bool Waiter::complete(Json result) {
  {
    std::lock_guard lock(m_mutex);
    if (m_result) {
      return false;
    }
    m_result = std::move(result);
  }
  m_cv.notify_all();
  if (m_on_complete) {
    m_on_complete();
  }
  return true;
}

bool Waiter::wait_until(Clock::time_point deadline, std::stop_token stop) {
  std::unique_lock lock(m_mutex);
  return m_cv.wait_until(lock, stop, deadline, [&] { return m_result.has_value(); });
}

void Waiter::set_deadline(Clock::time_point deadline) {
  {
    std::lock_guard lock(m_mutex);
    m_deadline = deadline;
    ++m_deadline_generation;
  }
  m_cv.notify_all();
}

bool Waiter::wait(std::stop_token stop) {
  std::unique_lock lock(m_mutex);
  while (!m_result) {
    if (stop.stop_requested()) {
      return false;
    }
    unsigned generation = m_deadline_generation;
    auto changed = [&] { return m_result.has_value() || m_deadline_generation != generation; };
    if (!m_deadline) {
      m_cv.wait(lock, stop, changed);
    } else if (Clock::now() >= *m_deadline) {
      return false;
    } else {
      m_cv.wait_until(lock, stop, *m_deadline, changed);
    }
  }
  return true;
}

bool Waiter::done() const {
  std::lock_guard lock(m_mutex);
  return m_result.has_value();
}

Json Waiter::take() {
  std::lock_guard lock(m_mutex);
  Json out = std::move(m_result.value());
  // Keep the slot marked done: a late callback must still see a result here.
  m_result = Json();
  return out;
}

void Tracker::bind(const std::string& task_id, std::shared_ptr<Waiter> waiter) {
  std::optional<Json> early;
  {
    std::lock_guard lock(m_mutex);
    m_waiters[task_id] = waiter;
    if (auto it = m_buffer.find(task_id); it != m_buffer.end()) {
      early = std::move(it->second.payload);
      m_buffer_bytes -= it->second.bytes;
      m_buffer.erase(it);
    }
  }
  if (early) {
    waiter->complete(std::move(*early));
  }
}

Delivery Tracker::deliver(const std::string& task_id, Json payload, size_t bytes) {
  const auto* status = payload.is_object() && payload.contains("status") &&
                               payload["status"].is_string()
                           ? &payload["status"].get_ref<const std::string&>()
                           : nullptr;
  bool terminal = status && is_terminal_status(*status);
  std::shared_ptr<Waiter> waiter;
  {
    std::lock_guard lock(m_mutex);
    if (m_retired.count(task_id)) {
      return Delivery::duplicate;
    }
    if (!terminal) {
      return Delivery::progress;
    }
    if (auto it = m_waiters.find(task_id); it != m_waiters.end()) {
      waiter = it->second;
    } else {
      auto now = Clock::now();
      expire_buffer_locked(now);
      if (m_buffer.count(task_id)) {
        return Delivery::duplicate;
      }
      if (m_buffer_bytes + bytes > m_limits.max_buffer_bytes) {
        return Delivery::buffer_full;
      }
      m_buffer.emplace(task_id, Buffered{std::move(payload), bytes, now});
      m_buffer_order.emplace_back(now, task_id);
      m_buffer_bytes += bytes;
      return Delivery::buffered;
    }
  }
  return waiter->complete(std::move(payload)) ? Delivery::delivered : Delivery::duplicate;
}

void Tracker::retire(const std::string& task_id) {
  std::lock_guard lock(m_mutex);
  m_waiters.erase(task_id);
  m_retired.insert(task_id);
}

size_t Tracker::buffered_count() const {
  std::lock_guard lock(m_mutex);
  return m_buffer.size();
}

void Tracker::expire_buffer_locked(Clock::time_point now) {
  while (!m_buffer_order.empty() && now - m_buffer_order.front().first > m_limits.max_age) {
    auto it = m_buffer.find(m_buffer_order.front().second);
    // An entry may already be gone (bound since); only drop the one buffered at that time.
    if (it != m_buffer.end() && it->second.at == m_buffer_order.front().first) {
      m_buffer_bytes -= it->second.bytes;
      m_buffer.erase(it);
    }
    m_buffer_order.pop_front();
  }
}

} // namespace core

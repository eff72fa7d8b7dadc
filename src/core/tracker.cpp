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
    m_completed_at = Clock::now();
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

Clock::time_point Waiter::completed_at() const {
  std::lock_guard lock(m_mutex);
  return m_completed_at;
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

namespace {

// The memory a kept callback is counted as: its text, its strings and the map entries.
size_t kept_bytes(const std::string& key, const RawCallback& c) {
  return c.body.capacity() + c.task_id.capacity() + c.status.capacity() + c.content.capacity() +
         2 * key.capacity() + 256;
}

// A callback's body as the waiter's result. It was screened as a JSON object; a body that
// somehow no longer parses still completes the waiter, as the error it is.
Json parsed(const RawCallback& c) {
  Json payload = parse_json(c.body);
  if (!payload.is_object()) {
    return Json{{"task_id", c.task_id}, {"status", c.status}, {"error", "unreadable callback"}};
  }
  return payload;
}

} // namespace

void Tracker::bind(const std::string& key,
                   std::shared_ptr<Waiter> waiter,
                   const std::string& expected_task_id) {
  std::optional<RawCallback> early;
  {
    std::lock_guard lock(m_mutex);
    m_waiters[key] = Bound{waiter, expected_task_id};
    if (auto it = m_buffer.find(key); it != m_buffer.end()) {
      if (expected_task_id.empty() || it->second.callback.task_id == expected_task_id) {
        early = std::move(it->second.callback);
      }
      m_buffer_bytes -= it->second.bytes;
      m_buffer.erase(it);
    }
  }
  if (early) {
    waiter->complete(parsed(*early));
  }
}

void Tracker::bind_content(const std::string& content, std::shared_ptr<Waiter> waiter) {
  if (content.empty()) {
    return;
  }
  std::optional<RawCallback> early;
  {
    std::lock_guard lock(m_mutex);
    // A matching callback that came first (the answer was lost, its callback was not): oldest
    // buffered first.
    for (const auto& [at, key] : m_buffer_order) {
      auto it = m_buffer.find(key);
      if (it == m_buffer.end() || it->second.at != at || it->second.callback.content != content) {
        continue;
      }
      early = std::move(it->second.callback);
      m_buffer_bytes -= it->second.bytes;
      m_buffer.erase(it);
      m_waiters[key] = Bound{waiter, {}};
      break;
    }
    if (!early) {
      m_by_content[content].push_back(waiter);
    }
  }
  if (early) {
    waiter->complete(parsed(*early));
  }
}

void Tracker::unbind_content(const std::string& content, const std::shared_ptr<Waiter>& waiter) {
  std::lock_guard lock(m_mutex);
  auto it = m_by_content.find(content);
  if (it == m_by_content.end()) {
    return;
  }
  std::erase(it->second, waiter);
  if (it->second.empty()) {
    m_by_content.erase(it);
  }
}

std::shared_ptr<Waiter> Tracker::take_content_waiter_locked(const std::string& content) {
  if (m_by_content.empty() || content.empty()) {
    return nullptr;
  }
  auto it = m_by_content.find(content);
  if (it == m_by_content.end()) {
    return nullptr;
  }
  while (!it->second.empty()) {
    auto waiter = std::move(it->second.front());
    it->second.pop_front();
    if (!waiter->done()) {
      if (it->second.empty()) {
        m_by_content.erase(it);
      }
      return waiter;
    }
  }
  m_by_content.erase(it);
  return nullptr;
}

Delivery Tracker::deliver(const std::string& key, RawCallback callback) {
  bool terminal = is_terminal_status(callback.status);
  std::shared_ptr<Waiter> waiter;
  {
    std::lock_guard lock(m_mutex);
    m_last_delivery = Clock::now();
    if (m_retired.count(key)) {
      return Delivery::duplicate;
    }
    auto it = m_waiters.find(key);
    if (it != m_waiters.end() && !it->second.expected_task_id.empty() &&
        callback.task_id != it->second.expected_task_id) {
      return Delivery::mismatch;
    }
    if (!terminal) {
      return Delivery::progress;
    }
    if (m_closed) {
      if (it == m_waiters.end() || it->second.waiter->done()) {
        return Delivery::closing;
      }
      waiter = it->second.waiter;
    } else if (it != m_waiters.end()) {
      waiter = it->second.waiter;
    } else if (auto by_content = take_content_waiter_locked(callback.content)) {
      // An unknown task whose input is one whose submit's outcome is unknown: that input's.
      m_waiters[key] = Bound{by_content, {}};
      waiter = std::move(by_content);
    } else {
      auto now = Clock::now();
      expire_buffer_locked(now);
      if (m_buffer.count(key)) {
        return Delivery::duplicate;
      }
      callback.body.shrink_to_fit(); // counted as what it takes, not as what it was read into
      size_t bytes = kept_bytes(key, callback);
      if (m_buffer_bytes + bytes > m_limits.max_buffer_bytes) {
        return Delivery::buffer_full;
      }
      m_buffer.emplace(key, Buffered{std::move(callback), bytes, now});
      m_buffer_order.emplace_back(now, key);
      m_buffer_bytes += bytes;
      return Delivery::buffered;
    }
  }
  if (waiter->done()) {
    return Delivery::duplicate; // parse nothing for a waiter that has its result
  }
  return waiter->complete(parsed(callback)) ? Delivery::delivered : Delivery::duplicate;
}

Delivery Tracker::deliver(const std::string& key, const Json& payload) {
  auto text = [&](const char* name) {
    auto it = payload.is_object() ? payload.find(name) : payload.end();
    return it != payload.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  return deliver(
      key, RawCallback{text("task_id"), text("status"), content_key(payload), dump_line(payload)});
}

std::optional<Json> Tracker::take_buffered(const std::string& key) {
  std::lock_guard lock(m_mutex);
  auto it = m_buffer.find(key);
  if (it == m_buffer.end()) {
    return std::nullopt;
  }
  RawCallback callback = std::move(it->second.callback);
  m_buffer_bytes -= it->second.bytes;
  m_buffer.erase(it);
  return parsed(callback);
}

void Tracker::retire(const std::string& key) {
  std::lock_guard lock(m_mutex);
  m_waiters.erase(key);
  m_retired.insert(key);
}

void Tracker::unbind(const std::string& key) {
  std::lock_guard lock(m_mutex);
  m_waiters.erase(key);
}

std::vector<std::pair<std::string, std::string>> Tracker::close() {
  std::lock_guard lock(m_mutex);
  m_closed = true;
  std::vector<std::pair<std::string, std::string>> kept;
  for (const auto& [at, key] : m_buffer_order) {
    auto it = m_buffer.find(key);
    if (it != m_buffer.end() && it->second.at == at) {
      kept.emplace_back(key, std::move(it->second.callback.body));
      m_buffer.erase(it);
    }
  }
  m_buffer_order.clear();
  m_buffer_bytes = 0;
  return kept;
}

Clock::time_point Tracker::last_delivery() const {
  std::lock_guard lock(m_mutex);
  return m_last_delivery;
}

size_t Tracker::buffered_bytes() const {
  std::lock_guard lock(m_mutex);
  return m_buffer_bytes;
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

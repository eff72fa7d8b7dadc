#include "core/wait_policy.h"

#include "core/api.h"
#include "core/status.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <ctime>

namespace core {

namespace {

using std::chrono::milliseconds;

// Reads exactly `n` digits at `pos`.
bool read_digits(std::string_view text, size_t& pos, size_t n, int& out) {
  if (pos + n > text.size()) {
    return false;
  }
  int value = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = text[pos + i];
    if (c < '0' || c > '9') {
      return false;
    }
    value = value * 10 + (c - '0');
  }
  pos += n;
  out = value;
  return true;
}

bool expect(std::string_view text, size_t& pos, char c) {
  if (pos < text.size() && text[pos] == c) {
    ++pos;
    return true;
  }
  return false;
}

double seconds(milliseconds d) {
  return std::chrono::duration<double>(d).count();
}

} // namespace

const Json* find_task_in_answer(const Json& answer, const std::string& task_id) {
  const Json* list = nullptr;
  if (answer.is_array()) {
    list = &answer;
  } else if (answer.is_object()) {
    if (auto it = answer.find("task"); it != answer.end()) {
      if (it->is_object()) {
        return &*it;
      }
      if (it->is_array()) {
        list = &*it;
      }
    } else if (auto tasks = answer.find("tasks"); tasks != answer.end() && tasks->is_array()) {
      list = &*tasks;
    } else {
      return &answer;
    }
  }
  if (list == nullptr) {
    return nullptr;
  }
  const Json* first = nullptr;
  for (const Json& entry : *list) {
    if (!entry.is_object()) {
      continue;
    }
    if (first == nullptr) {
      first = &entry;
    }
    auto id = entry.find("task_id");
    if (id != entry.end() && id->is_string() && id->get<std::string>() == task_id) {
      return &entry;
    }
  }
  return first;
}

std::optional<WallTime> parse_iso8601(std::string_view text) {
  size_t pos = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!read_digits(text, pos, 4, year) || !expect(text, pos, '-') ||
      !read_digits(text, pos, 2, month) || !expect(text, pos, '-') ||
      !read_digits(text, pos, 2, day)) {
    return std::nullopt;
  }
  if (!(expect(text, pos, 'T') || expect(text, pos, 't') || expect(text, pos, ' ')) ||
      !read_digits(text, pos, 2, hour) || !expect(text, pos, ':') ||
      !read_digits(text, pos, 2, minute) || !expect(text, pos, ':') ||
      !read_digits(text, pos, 2, second)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  long long micros = 0;
  if (expect(text, pos, '.')) {
    long long scale = 100000;
    size_t digits = 0;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
      if (scale > 0) {
        micros += (text[pos] - '0') * scale;
        scale /= 10;
      }
      ++pos;
      ++digits;
    }
    if (digits == 0) {
      return std::nullopt;
    }
  }
  long long offset_seconds = 0;
  if (pos < text.size()) {
    if (text[pos] == 'Z' || text[pos] == 'z') {
      ++pos;
    } else if (text[pos] == '+' || text[pos] == '-') {
      int sign = text[pos] == '-' ? -1 : 1;
      ++pos;
      int oh = 0, om = 0;
      if (!read_digits(text, pos, 2, oh)) {
        return std::nullopt;
      }
      expect(text, pos, ':');
      if (!read_digits(text, pos, 2, om) || oh > 23 || om > 59) {
        return std::nullopt;
      }
      offset_seconds = sign * (oh * 3600LL + om * 60LL);
    } else {
      return std::nullopt;
    }
  }
  if (pos != text.size()) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  std::time_t t = timegm(&tm);
  auto since_epoch = std::chrono::seconds(static_cast<long long>(t) - offset_seconds) +
                     std::chrono::microseconds(micros);
  return WallTime(std::chrono::duration_cast<WallTime::duration>(since_epoch));
}

TaskState read_task_state(const Json& answer, const std::string& task_id) {
  TaskState state;
  const Json* task = find_task_in_answer(answer, task_id);
  if (task == nullptr || !task->is_object()) {
    return state;
  }
  if (auto it = task->find("status"); it != task->end() && it->is_string()) {
    state.status = it->get<std::string>();
  }
  if (auto it = task->find("started_at"); it != task->end() && it->is_string()) {
    state.started_at = parse_iso8601(it->get<std::string>());
  }
  return state;
}

milliseconds recheck_backoff(milliseconds timeout, int checks) {
  const milliseconds floor = std::chrono::seconds(1);
  const milliseconds cap = std::chrono::minutes(5);
  milliseconds pause = std::max(floor, timeout / 8);
  for (int i = 1; i < checks && pause < cap; ++i) {
    pause *= 2;
  }
  return std::clamp(pause, floor, cap);
}

SteadyTime first_deadline(const WaitLimits& limits, SteadyTime submitted) {
  return submitted + std::min(limits.timeout, limits.max_wait);
}

WaitDecision decide_after_check(const TaskState& state,
                                const WaitLimits& limits,
                                SteadyTime submitted,
                                SteadyTime now,
                                WallTime wall_now,
                                int checks) {
  WaitDecision d;
  if (is_terminal_status(state.status)) {
    d.action = WaitDecision::Action::fetch;
    d.when = now;
    return d;
  }
  const SteadyTime end = submitted + limits.max_wait;
  const std::string said = state.status.empty() ? "no status" : state.status;
  if (now >= end) {
    d.action = WaitDecision::Action::timeout;
    d.when = now;
    d.reason = fmt::format(
        "no result within --max-wait {:g} s (the service says {})", seconds(limits.max_wait), said);
    return d;
  }
  if (state.status == status::running && !state.started_at) {
    // Running since no one knows when: since the submit at the latest, so past the timeout.
    d.action = WaitDecision::Action::timeout;
    d.when = now;
    d.reason = fmt::format("still running {:g} s after its submit, past --timeout {:g} s (the "
                           "service gives no started_at)",
                           seconds(std::chrono::duration_cast<milliseconds>(now - submitted)),
                           seconds(limits.timeout));
    return d;
  }
  if (state.status == status::running) {
    // The attempt budget runs from the start the service reports.
    auto ran = std::chrono::duration_cast<milliseconds>(wall_now - *state.started_at);
    if (ran >= limits.timeout) {
      d.action = WaitDecision::Action::timeout;
      d.when = now;
      d.reason = fmt::format("still running {:g} s after it started, past --timeout {:g} s",
                             seconds(ran),
                             seconds(limits.timeout));
      return d;
    }
    d.when = std::min(end, now + (limits.timeout - std::max(ran, milliseconds(0))));
    return d;
  }
  // Queued, allocated, or a status the tool does not know: the attempt budget has not begun;
  // ask again later.
  d.when = std::min(end, now + recheck_backoff(limits.timeout, checks));
  return d;
}

milliseconds default_timeout(std::chrono::minutes attempt_limit, int attempts) {
  attempts = std::max(1, attempts);
  milliseconds total = attempt_limit * attempts + std::chrono::minutes(5);
  for (int n = 0; n + 1 < attempts; ++n) {
    total += std::chrono::seconds(10) * (1LL << std::min(n, 20));
  }
  return total;
}

PeerDurations::PeerDurations(size_t capacity) : m_capacity(std::max<size_t>(1, capacity)) {}

void PeerDurations::record(milliseconds took) {
  if (m_samples.size() < m_capacity) {
    m_samples.push_back(took.count());
    return;
  }
  m_samples[m_next] = took.count();
  m_next = (m_next + 1) % m_capacity;
}

size_t PeerDurations::count() const {
  return m_samples.size();
}

std::optional<milliseconds> PeerDurations::p90() const {
  if (m_samples.empty()) {
    return std::nullopt;
  }
  std::vector<long long> sorted = m_samples;
  // Nearest rank: the smallest sample with at least 90 % of the samples at or below it.
  size_t rank = (sorted.size() * 9 + 9) / 10; // ceil(0.9 n), 1-based
  auto nth = sorted.begin() + static_cast<std::ptrdiff_t>(rank - 1);
  std::nth_element(sorted.begin(), nth, sorted.end());
  return milliseconds(*nth);
}

std::optional<milliseconds> PeerDurations::threshold(milliseconds floor) const {
  auto p = p90();
  if (!p) {
    return std::nullopt;
  }
  return std::max(floor, *p * 3);
}

RateLimit::RateLimit(double per_second, int burst)
    : m_interval(
          std::chrono::nanoseconds(static_cast<long long>(1e9 / std::max(per_second, 1e-3)))),
      m_burst_span(m_interval * std::max(0, burst - 1)) {}

SteadyTime RateLimit::reserve(SteadyTime now) {
  std::lock_guard lock(m_mutex);
  // A quiet period earns at most `burst` slots: the schedule never lags `now` by more.
  SteadyTime slot = std::max(m_next, now - m_burst_span);
  m_next = slot + m_interval;
  return std::max(slot, now);
}

} // namespace core

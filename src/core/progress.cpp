#include "core/progress.h"

#include "core/status.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace core {

namespace {

constexpr size_t k_window = 50;
constexpr size_t k_failures_shown = 10;

size_t count_of(const std::map<std::string, size_t>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? 0 : it->second;
}

} // namespace

size_t display_width(const std::string& text) {
  size_t n = 0;
  for (unsigned char c : text) {
    n += (c & 0xC0) != 0x80; // continuation bytes take no column
  }
  return n;
}

std::string cut_to_width(const std::string& text, size_t columns) {
  if (display_width(text) <= columns) {
    return text;
  }
  if (columns == 0) {
    return "";
  }
  size_t kept = 0;
  size_t end = 0;
  while (end < text.size()) {
    size_t next = end + 1;
    while (next < text.size() && (static_cast<unsigned char>(text[next]) & 0xC0) == 0x80) {
      ++next;
    }
    if (kept + 1 > columns - 1) {
      break;
    }
    ++kept;
    end = next;
  }
  return text.substr(0, end) + "…";
}

std::string format_duration(double seconds) {
  if (seconds < 0 || !std::isfinite(seconds)) {
    return "?";
  }
  auto s = static_cast<long long>(std::llround(seconds));
  if (s >= 3600) {
    return fmt::format("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60);
  }
  return fmt::format("{}:{:02}", s / 60, s % 60);
}

void Progress::finished(const std::string& status,
                        std::chrono::duration<double> took,
                        const std::string& where,
                        const std::string& error,
                        Clock::time_point now,
                        const std::string& origin) {
  ++m_done;
  ++m_by_status[status];
  m_recent_ends.push_back(now);
  m_recent_durations.push_back(took.count());
  if (m_recent_ends.size() > k_window) {
    m_recent_ends.pop_front();
    m_recent_durations.pop_front();
  }
  if (took.count() > m_slowest) {
    m_slowest = took.count();
    m_slowest_where = where;
  }
  if (status != status::success) {
    if (m_failures.size() < k_failures_shown) {
      m_failures.push_back(fmt::format("{} {}{}{}",
                                       where,
                                       status,
                                       origin.empty() ? "" : " (" + origin + ")",
                                       error.empty() ? "" : ": " + error));
    } else {
      ++m_more_failures;
    }
  }
  if (!m_total_known && m_done > m_total) {
    m_total = m_done;
  }
}

double Progress::eta_seconds(Clock::time_point now) const {
  if (!m_total_known || m_recent_ends.size() < 2 || m_done >= m_total) {
    return m_total_known && m_done >= m_total ? 0 : -1;
  }
  double span = std::chrono::duration<double>(m_recent_ends.back() - m_recent_ends.front()).count();
  // Time since the last completion counts too, so a stall shows as a growing ETA.
  span += std::chrono::duration<double>(now - m_recent_ends.back()).count();
  if (span <= 0) {
    return -1;
  }
  double rate = static_cast<double>(m_recent_ends.size() - 1) / span;
  return static_cast<double>(m_total - m_done) / rate;
}

std::string Progress::status_line(Clock::time_point now, size_t columns) const {
  double elapsed = std::chrono::duration<double>(now - m_start).count();
  std::string total = m_total_known ? std::to_string(m_total) : std::to_string(m_total) + "+";
  const size_t ok = count_of(m_by_status, status::success);
  const size_t timeouts = count_of(m_by_status, status::timeout);
  const size_t failed = m_done - ok - timeouts;
  // Each field with its rank: when the line is too wide, the highest rank goes first.
  struct Field {
    std::string text;
    int rank;
  };
  std::vector<Field> fields;
  fields.push_back({fmt::format("{} ok", ok), 0});
  fields.push_back({fmt::format("{} failed", failed), failed > 0 ? 0 : 5});
  fields.push_back({fmt::format("{} timeout", timeouts), timeouts > 0 ? 3 : 7});
  fields.push_back({fmt::format("{} in flight", m_in_flight), 2});
  fields.push_back({format_duration(elapsed), 4});
  if (double eta = eta_seconds(now); eta > 0) {
    fields.push_back({"ETA " + format_duration(eta), 1});
  }
  if (!m_recent_durations.empty()) {
    std::vector<double> d(m_recent_durations.begin(), m_recent_durations.end());
    std::nth_element(d.begin(), d.begin() + static_cast<long>(d.size() / 2), d.end());
    fields.push_back({fmt::format("task {:.1f} s", d[d.size() / 2]), 6});
  }
  const std::string head = fmt::format("[{}/{}]", m_done, total);
  // One column short of the edge: a line that fills the last column wraps on some terminals.
  const size_t room = columns > 1 ? columns - 1 : 1;
  auto compose = [&](const std::string& label) {
    std::string line = label.empty() ? head : label + " " + head;
    for (size_t i = 0; i < fields.size(); ++i) {
      line += (i == 0 ? " " : " · ") + fields[i].text;
    }
    return line;
  };
  std::string label = m_label;
  std::string line = compose(label);
  while (display_width(line) > room) {
    auto worst = std::max_element(fields.begin(), fields.end(), [](const Field& a, const Field& b) {
      return a.rank < b.rank;
    });
    if (worst != fields.end() && worst->rank > 0) {
      fields.erase(worst);
    } else if (display_width(label) > 12) {
      label = cut_to_width(label, 12);
    } else if (!label.empty()) {
      label.clear();
    } else {
      return cut_to_width(line, room);
    }
    line = compose(label);
  }
  return line;
}

Json Progress::status_json(Clock::time_point now) const {
  double elapsed = std::chrono::duration<double>(now - m_start).count();
  size_t failed =
      m_done - count_of(m_by_status, status::success) - count_of(m_by_status, status::timeout);
  Json j = {{"done", m_done},
            {"total", m_total},
            {"total_known", m_total_known},
            {"succeeded", count_of(m_by_status, status::success)},
            {"failed", failed},
            {"timeout", count_of(m_by_status, status::timeout)},
            {"in_flight", m_in_flight},
            {"elapsed_s", std::round(elapsed * 10) / 10}};
  double eta = eta_seconds(now);
  j["eta_s"] = eta >= 0 ? Json(std::round(eta * 10) / 10) : Json();
  return j;
}

std::vector<std::string> Progress::summary_lines(Clock::time_point now) const {
  std::vector<std::string> lines;
  double elapsed = std::chrono::duration<double>(now - m_start).count();
  std::string counts;
  for (const auto& [status, n] : m_by_status) {
    counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ", n, status);
  }
  lines.push_back(fmt::format("{} {}{} in {}{}{}",
                              m_done,
                              m_unit,
                              m_done == 1 ? "" : "s",
                              format_duration(elapsed),
                              counts.empty() ? "" : ": ",
                              counts));
  if (m_slowest >= 0) {
    lines.push_back(fmt::format("slowest: {} ({:.1f} s)", m_slowest_where, m_slowest));
  }
  for (const std::string& f : m_failures) {
    lines.push_back("  " + f);
  }
  if (m_more_failures > 0) {
    lines.push_back(fmt::format("  ... and {} more not successful", m_more_failures));
  }
  return lines;
}

} // namespace core

#pragma once

#include "core/json.h"

#include <chrono>
#include <deque>
#include <map>
#include <string>
#include <vector>

namespace core {

// Counts what a run has done, for the live status line, `--progress json` and the summary at
// the end. Pure: the caller passes the time. Not thread-safe.
class Progress {
public:
  using Clock = std::chrono::steady_clock;

  explicit Progress(Clock::time_point start) : m_start(start) {}

  // The number of inputs: known up front for a file; for a stream it grows as lines arrive.
  void set_total(size_t total, bool known) {
    m_total = total;
    m_total_known = known;
  }
  void set_in_flight(size_t n) { m_in_flight = n; }
  // What is counted, for the summary: "input" (run) or "item" (flow).
  void set_unit(std::string unit) { m_unit = std::move(unit); }
  // Names the stage in the live line (its endpoint, or the flow's name): two stages of a
  // pipeline share one terminal.
  void set_label(std::string label) { m_label = std::move(label); }
  // One input's line was printed. `origin` says where a line not run here came from
  // ("journaled earlier", "passed on"); `error` is the line's own error.
  void finished(const std::string& status,
                std::chrono::duration<double> took,
                const std::string& where,
                const std::string& error,
                Clock::time_point now,
                const std::string& origin = "");

  size_t done() const { return m_done; }
  // "demo [12/100] 10 ok · 1 failed · 1 timeout · 8 in flight · 0:12 · ETA 1:30 · task 2.1 s",
  // at most `columns` wide: the least useful fields go first (the typical task time, zero
  // counts, the elapsed time, ...), then the label is shortened; the counts of done, ok and
  // failed stay (the label goes before them). Never wraps a terminal `columns` wide (it stops one short of the edge).
  std::string status_line(Clock::time_point now, size_t columns = 1000) const;
  // {"done", "total", "succeeded", "failed", "timeout", "in_flight", "elapsed_s", "eta_s"}.
  Json status_json(Clock::time_point now) const;
  // The end-of-run summary: counts by status, wall time, the slowest task, the first ten
  // failures and a count of the rest.
  std::vector<std::string> summary_lines(Clock::time_point now) const;

private:
  double eta_seconds(Clock::time_point now) const; // < 0 when unknown

  Clock::time_point m_start;
  size_t m_total = 0;
  bool m_total_known = false;
  size_t m_in_flight = 0;
  std::string m_unit = "input";
  std::string m_label;
  size_t m_done = 0;
  std::map<std::string, size_t> m_by_status;
  std::deque<Clock::time_point> m_recent_ends; // for the rate
  std::deque<double> m_recent_durations;       // for the typical task time
  double m_slowest = -1;
  std::string m_slowest_where;
  std::vector<std::string> m_failures; // the first ten
  size_t m_more_failures = 0;
};

// How many terminal columns `text` takes: one per UTF-8 code point (what the live line holds).
size_t display_width(const std::string& text);
// `text` cut to at most `columns` columns, ending with "…" when cut; never splits a UTF-8
// sequence.
std::string cut_to_width(const std::string& text, size_t columns);

// "1:05", "12:00:03": a duration for people.
std::string format_duration(double seconds);

} // namespace core

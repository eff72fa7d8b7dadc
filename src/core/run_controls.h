#pragma once

// What operators of long runs steer a run with, network-free: --halt (stop after failures),
// --shard (this process's part of the inputs), --rate (submits per second) and --joblog (a TSV
// line per finished input). Parsers throw core::Error (exit 2) with one line naming the flag.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace core {

// --halt WHEN,fail=N|P% (GNU parallel's spelling): after N failures, or once P % of at least
// k_halt_min_finished finished tasks failed, stop submitting. `soon` waits for the tasks in
// flight; `now` stops waiting for them (they still run on the service).
struct HaltPolicy {
  enum class When { never, soon, now };
  When when = When::never;
  size_t failures = 0; // fail=N (0: a percentage)
  double percent = 0;  // fail=P%
  std::string text;    // as given, for messages: "soon,fail=5"

  bool active() const { return when != When::never; }
  // Why the run halts after `failed` of `finished` tasks failed, or nothing.
  std::optional<std::string> reason(size_t failed, size_t finished) const;
};

inline constexpr size_t k_halt_min_finished = 10;

// "never", "soon,fail=5", "now,fail=10%"; "fail=5" alone means soon.
HaltPolicy parse_halt(std::string_view text);

// --shard I/N: this process runs the inputs whose key falls in shard I (1..N) of N. The shard of
// a key is a hash of the key (the input's content hash and occurrence), so it does not move
// when the file is reordered or other lines are edited, and N processes split one input with no
// coordination.
struct Shard {
  unsigned index = 1; // 1..count
  unsigned count = 1;
  bool active() const { return count > 1; }
  bool holds(std::string_view key) const;
  std::string text() const; // "2/4"
};

Shard parse_shard(std::string_view text);

// The shard (1..count) `key` falls in: SHA-256 of the key, first 8 bytes, modulo count.
unsigned shard_of(std::string_view key, unsigned count);

// --rate N/s or N/m: at most N submits a second (minute), evenly spaced.
struct Rate {
  double per_second = 0; // 0: no limit
  std::string text;      // as given: "10/s"
  bool active() const { return per_second > 0; }
};

Rate parse_rate(std::string_view text);

// Spaces submits evenly at `per_second` (a token bucket holding one token): each caller gets
// the instant it may go, at least 1/rate after the previous one. Thread-safe.
class RateLimiter {
public:
  using Clock = std::chrono::steady_clock;
  explicit RateLimiter(double per_second);
  // The instant the next submit may leave (now, or later), reserved for the caller.
  Clock::time_point reserve(Clock::time_point now);

private:
  std::mutex m_mutex;
  Clock::duration m_interval;
  Clock::time_point m_next{};
};

// One line of --joblog: what an operator sorts, joins and counts with awk and `column -t`.
struct JoblogEntry {
  size_t seq = 0;        // the input's number, from 1, in input order
  std::string source;    // "file:line"
  std::string task_id;   // the last task's id ("" when none)
  std::string status;    // the line's status
  std::string submitted; // ISO 8601 UTC ("" when never submitted)
  std::string started;   // when the service says the task started ("" when unknown)
  std::string ended;     // when its line was done
  double seconds = -1;   // submit to end (< 0: never submitted)
  std::string error;     // the error's first line ("" when none)
};

// The header line, then one line per entry: tab-separated, no field empty ("-" stands for
// nothing), tabs and line breaks in fields made spaces, each line ending in '\n'.
std::string joblog_header();
std::string joblog_line(const JoblogEntry& entry);

// The --joblog file: opened for appending (created 0644), the header written when it is empty,
// then one write(2) per line. Open and write failures are core::Error (exit 2 at open, 74 after).
class JobLog {
public:
  explicit JobLog(const std::string& path);
  ~JobLog();
  JobLog(const JobLog&) = delete;
  JobLog& operator=(const JobLog&) = delete;
  void write(const JoblogEntry& entry);

private:
  std::string m_path;
  int m_fd = -1;
};

} // namespace core

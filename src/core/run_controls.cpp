#include "core/run_controls.h"

#include "core/error.h"
#include "core/files.h"
#include "core/number_range.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace core {

namespace {

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  for (;;) {
    size_t at = text.find(sep);
    parts.push_back(text.substr(0, at));
    if (at == std::string_view::npos) {
      return parts;
    }
    text.remove_prefix(at + 1);
  }
}

std::optional<unsigned long long> whole(std::string_view text) {
  unsigned long long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

std::optional<double> decimal(std::string_view text) {
  if (text.empty() || !check_number(text, NumberRange::positive()).empty()) {
    return std::nullopt;
  }
  return std::stod(std::string(text));
}

} // namespace

// --- --halt ------------------------------------------------------------------------------------

HaltPolicy parse_halt(std::string_view text) {
  HaltPolicy policy;
  policy.text = std::string(text);
  auto bad = [&](std::string_view why) {
    return Error(fmt::format("--halt: {} (got \"{}\"); expected soon,fail=N, soon,fail=P%, "
                             "now,fail=N, now,fail=P% or never",
                             why,
                             text),
                 ExitCode::usage);
  };
  if (text == "never") {
    return policy;
  }
  std::vector<std::string_view> parts = split(text, ',');
  policy.when = HaltPolicy::When::soon;
  size_t at = 0;
  if (parts[0] == "soon" || parts[0] == "now") {
    policy.when = parts[0] == "now" ? HaltPolicy::When::now : HaltPolicy::When::soon;
    at = 1;
  } else if (parts.size() > 1) {
    throw bad(fmt::format("\"{}\" is neither soon nor now", parts[0]));
  }
  if (parts.size() != at + 1) {
    throw bad(parts.size() <= at ? "no fail=N condition" : "one condition only");
  }
  std::string_view condition = parts[at];
  if (!condition.starts_with("fail=")) {
    auto eq = condition.find('=');
    throw bad(eq == std::string_view::npos
                  ? fmt::format("\"{}\" is neither soon, now nor a fail= condition", condition)
                  : fmt::format("only fail= conditions are supported, not {}",
                                condition.substr(0, eq + 1)));
  }
  std::string_view value = condition.substr(5);
  if (value.ends_with('%')) {
    value.remove_suffix(1);
    auto percent = decimal(value);
    if (!percent || *percent > 100) {
      throw bad("fail=P% takes a percentage greater than 0, at most 100");
    }
    policy.percent = *percent;
    return policy;
  }
  auto count = whole(value);
  if (!count || *count == 0 || *count > 1'000'000'000) {
    throw bad("fail=N takes a whole number of failures, at least 1");
  }
  policy.failures = static_cast<size_t>(*count);
  return policy;
}

std::optional<std::string> HaltPolicy::reason(size_t failed, size_t finished) const {
  if (when == When::never) {
    return std::nullopt;
  }
  if (failures > 0) {
    if (failed < failures) {
      return std::nullopt;
    }
    return fmt::format("--halt {}: {} task{} failed", text, failed, failed == 1 ? "" : "s");
  }
  if (finished < k_halt_min_finished || static_cast<double>(failed) * 100 < percent * finished) {
    return std::nullopt;
  }
  return fmt::format("--halt {}: {} of {} finished tasks failed ({:.0f}%)",
                     text,
                     failed,
                     finished,
                     100.0 * static_cast<double>(failed) / static_cast<double>(finished));
}

// --- --shard -----------------------------------------------------------------------------------

Shard parse_shard(std::string_view text) {
  auto slash = text.find('/');
  auto index = whole(text.substr(0, slash));
  auto count = slash == std::string_view::npos ? std::nullopt : whole(text.substr(slash + 1));
  if (!index || !count || *count == 0 || *count > 1'000'000) {
    throw Error(fmt::format("--shard: expected I/N, shard I of N counted from 1, e.g. 2/4 (got "
                            "\"{}\")",
                            text),
                ExitCode::usage);
  }
  if (*index == 0 || *index > *count) {
    throw Error(fmt::format("--shard: shard {} of {} does not exist: I counts from 1 to N{} (got "
                            "\"{}\")",
                            *index,
                            *count,
                            *index == 0 ? " (a 0-based index such as JOB_COMPLETION_INDEX is "
                                          "I-1)"
                                        : "",
                            text),
                ExitCode::usage);
  }
  return Shard{static_cast<unsigned>(*index), static_cast<unsigned>(*count)};
}

unsigned shard_of(std::string_view key, unsigned count) {
  if (count <= 1) {
    return 1;
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(key.data(), key.size(), digest, &size, EVP_sha256(), nullptr) != 1) {
    throw Error("SHA-256 failed (OpenSSL EVP_Digest)");
  }
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) {
    value = value << 8 | digest[i];
  }
  return static_cast<unsigned>(value % count) + 1;
}

bool Shard::holds(std::string_view key) const {
  return shard_of(key, count) == index;
}

std::string Shard::text() const {
  return fmt::format("{}/{}", index, count);
}

// --- --rate ------------------------------------------------------------------------------------

Rate parse_rate(std::string_view text) {
  auto slash = text.find('/');
  auto number = decimal(text.substr(0, slash));
  std::string_view unit = slash == std::string_view::npos ? "" : text.substr(slash + 1);
  double per = unit == "s" || unit == "sec" ? 1 : unit == "m" || unit == "min" ? 60 : 0;
  if (!number || per == 0) {
    throw Error(fmt::format("--rate: expected N/s or N/m, submits a second or a minute, e.g. 10/s "
                            "(got \"{}\"){}",
                            text,
                            slash == std::string_view::npos && number
                                ? fmt::format("; did you mean {}/s?", text)
                                : ""),
                ExitCode::usage);
  }
  double per_second = *number / per;
  if (per_second > 1e6) {
    throw Error(fmt::format("--rate: at most 1000000/s (got \"{}\")", text), ExitCode::usage);
  }
  return Rate{per_second, std::string(text)};
}

RateLimiter::RateLimiter(double per_second)
    : m_interval(std::chrono::duration_cast<Clock::duration>(
          std::chrono::duration<double>(1.0 / per_second))) {}

RateLimiter::Clock::time_point RateLimiter::reserve(Clock::time_point now) {
  std::lock_guard lock(m_mutex);
  Clock::time_point at = std::max(now, m_next);
  m_next = at + m_interval;
  return at;
}

// --- --joblog ----------------------------------------------------------------------------------

namespace {

std::string field(std::string_view text) {
  if (text.empty()) {
    return "-";
  }
  std::string out(text);
  std::replace_if(
      out.begin(), out.end(), [](char c) { return c == '\t' || c == '\n' || c == '\r'; }, ' ');
  return out;
}

} // namespace

std::string joblog_header() {
  return "Seq\tSource\tTaskId\tStatus\tSubmitted\tStarted\tEnded\tSeconds\tError\n";
}

std::string joblog_line(const JoblogEntry& e) {
  std::string_view error = e.error;
  error = error.substr(0, error.find('\n'));
  return fmt::format("{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
                     e.seq,
                     field(e.source),
                     field(e.task_id),
                     field(e.status),
                     field(e.submitted),
                     field(e.started),
                     field(e.ended),
                     e.seconds < 0 ? "-" : fmt::format("{:.3f}", e.seconds),
                     field(error));
}

JobLog::JobLog(const std::string& path) : m_path(path) {
  m_fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (m_fd < 0) {
    throw Error(fmt::format("--joblog {}: {}", path, std::strerror(errno)), ExitCode::usage);
  }
  struct stat st {};
  if (::fstat(m_fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0) {
    if (int err = write_all(m_fd, joblog_header()); err != 0) {
      ::close(m_fd);
      throw Error(fmt::format("--joblog {}: {}", path, std::strerror(err)), ExitCode::usage);
    }
  }
}

JobLog::~JobLog() {
  if (m_fd >= 0) {
    ::close(m_fd);
  }
}

void JobLog::write(const JoblogEntry& entry) {
  if (int err = write_all(m_fd, joblog_line(entry)); err != 0) {
    throw Error(fmt::format("--joblog {}: {}", m_path, std::strerror(err)), ExitCode::write_failed);
  }
}

} // namespace core

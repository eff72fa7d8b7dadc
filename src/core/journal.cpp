#include "core/journal.h"

#include "core/clock.h"
#include "core/error.h"
#include "core/files.h"
#include "core/json.h"
#include "core/log.h"
#include "core/redact.h"
#include "core/text.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <fcntl.h>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>
#include <unordered_set>

namespace core {

namespace {

// The run record's token when the token is in its own file.
constexpr std::string_view k_token_in_file = k_redacted;

std::optional<std::string> string_field(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) {
    return std::nullopt;
  }
  return it->get<std::string>();
}

// fdatasync(2) as a JournalHooks::sync: 0, or the errno value.
int data_sync(int fd) {
  while (::fdatasync(fd) != 0) {
    if (errno != EINTR) {
      return errno;
    }
  }
  return 0;
}

} // namespace

JournalState read_journal(std::istream& in, const std::string& name) {
  JournalState state;
  std::string text;
  size_t line_no = 0;
  while (std::getline(in, text)) {
    ++line_no;
    bool complete = !in.eof(); // getline hit a newline
    if (text.empty()) {
      continue;
    }
    Json record = parse_json(text);
    auto type = record.is_object() ? string_field(record, "type") : std::nullopt;
    if (!type) {
      if (!complete) {
        state.cut_short = true; // a record cut by a crash: everything before it stands
        break;
      }
      throw Error(fmt::format("{}:{}: not a journal record (corrupt journal; move it aside to "
                              "start over)",
                              name,
                              line_no));
    }
    ++state.records;
    if (*type == "callback") {
      auto route = string_field(record, "route");
      auto kept_text = string_field(record, "payload_text");
      auto payload = record.find("payload");
      if (route && kept_text) {
        state.callbacks.emplace_back(*route, std::move(*kept_text));
      } else if (route && payload != record.end() && payload->is_object()) {
        state.callbacks.emplace_back(*route, dump_line(*payload)); // written by 0.x before raw
      }
      continue;
    }
    if (*type == "run") {
      if (state.token.empty()) {
        state.token = string_field(record, "token").value_or("");
        state.listen = string_field(record, "listen").value_or("");
        state.endpoint = string_field(record, "endpoint").value_or("");
      }
      continue;
    }
    auto key = string_field(record, "key");
    if (!key) {
      throw Error(fmt::format("{}:{}: journal record without a key", name, line_no));
    }
    JournalEntry& entry = state.entries[*key];
    if (*type == "attempt") {
      entry = JournalEntry{}; // a new attempt: what earlier ones said no longer holds
      entry.attempted = true;
      continue;
    }
    if (auto task_id = string_field(record, "task_id")) {
      if (*type == "submit") {
        state.task_ids.push_back(*task_id); // duplicates dropped at the end
      }
      entry.task_id = task_id;
    }
    if (*type == "result") {
      entry.status = string_field(record, "status");
      entry.line = string_field(record, "line");
      auto unknown = record.find("unknown_outcome");
      entry.unknown_outcome =
          unknown != record.end() && unknown->is_boolean() && unknown->get<bool>();
    } else if (*type != "submit") { // "attempt" was handled above
      std::string shown = type->substr(0, 40);
      for (char& ch : shown) {
        ch = static_cast<unsigned char>(ch) < 0x20 ? '?' : ch;
      }
      throw Error(fmt::format("{}:{}: unknown journal record type \"{}\"", name, line_no, shown));
    }
  }
  std::unordered_set<std::string> seen;
  std::erase_if(state.task_ids, [&](const std::string& id) { return !seen.insert(id).second; });
  return state;
}

std::string token_path(const std::string& journal_path) {
  return journal_path + ".token";
}

JournalState load_journal(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) {
      return {};
    }
    throw Error(fmt::format("--state: cannot read {}: {}", path, std::strerror(errno)));
  }
  JournalState state = read_journal(in, path);
  if (state.token == k_token_in_file) {
    // The token lives beside the journal (see Journal::run_started).
    std::optional<std::string> text = try_read_file(token_path(path));
    state.token = text ? std::string(trim(*text)) : "";
    if (state.token.empty()) {
      log_warning(fmt::format("--state: {} is missing: a new callback token is used, so callbacks "
                              "of tasks still running are found through the status API",
                              token_path(path)));
    }
  }
  return state;
}

ResumeAction resume_action(const JournalEntry* entry, bool retry_failed, bool resubmit_unfinished) {
  if (!entry) {
    return ResumeAction::submit;
  }
  const std::string status = entry->status.value_or("");
  if (status == "success") {
    return ResumeAction::reprint;
  }
  if (status == "failed" || status == "killed" || status == "cancelled" ||
      status == "invalid_input") {
    return retry_failed ? ResumeAction::submit : ResumeAction::reprint;
  }
  // The task may exist but its id is not known: running it again is the user's call.
  const bool unknown =
      entry->unknown_outcome || (entry->attempted && !entry->task_id && !entry->status);
  if (unknown) {
    return resubmit_unfinished ? ResumeAction::submit : ResumeAction::await_unknown;
  }
  if (status == "submit_failed") {
    return ResumeAction::submit; // the service surely created nothing
  }
  // Submitted with no final result, or timeout/interrupted: the task may have finished.
  if (entry->task_id) {
    return resubmit_unfinished ? ResumeAction::submit : ResumeAction::await;
  }
  return ResumeAction::submit;
}

Journal::Journal(const std::string& path) : Journal(path, JournalHooks{}) {}

Journal::Journal(const std::string& path, JournalHooks hooks)
    : m_hooks(std::move(hooks)), m_path(path) {
  if (!m_hooks.sync) {
    m_hooks.sync = data_sync;
  }
  m_fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (m_fd < 0) {
    throw Error(fmt::format("--state: cannot open {}: {}", path, std::strerror(errno)));
  }
  // An existing journal keeps its mode unless it is readable by others: it holds the token.
  struct stat st {};
  if (::fstat(m_fd, &st) == 0 && (st.st_mode & 077) != 0) {
    ::fchmod(m_fd, 0600);
  }
  drop_cut_record(st.st_size);
}

void Journal::drop_cut_record(off_t size) {
  // A record cut by a crash (no newline at the end) was never completed: remove it, or the next
  // record would be glued to it and the journal would read as corrupt.
  int rfd = ::open(m_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (rfd < 0 || size <= 0) {
    if (rfd >= 0) {
      ::close(rfd);
    }
    return;
  }
  off_t end = size;
  char c = 0;
  while (end > 0 && ::pread(rfd, &c, 1, end - 1) == 1 && c != '\n') {
    --end;
  }
  ::close(rfd);
  if (end != size && ::ftruncate(m_fd, end) != 0) {
    throw Error(fmt::format("--state: cannot repair {}: {}", m_path, std::strerror(errno)));
  }
}

Journal::~Journal() {
  if (m_fd >= 0) {
    ::close(m_fd);
  }
}

void Journal::append(const std::string& record, Durability durability) {
  // Through the one redaction: the journal can be shared without the run's secrets.
  uint64_t seq = write_record(redact(record) + "\n");
  if (m_hooks.after_write) {
    m_hooks.after_write();
  }
  if (durability == Durability::now) {
    wait_durable(seq);
  }
}

uint64_t Journal::write_record(const std::string& buf) {
  std::lock_guard lock(m_mutex);
  if (m_failure) {
    throw Error(*m_failure, ExitCode::write_failed);
  }
  if (int err = write_all(m_fd, buf); err != 0) {
    // A record may now be cut in the middle: nothing more can be appended after it.
    m_failure = fmt::format("--state: cannot write {}: {}", m_path, std::strerror(err));
    m_synced.notify_all();
    throw Error(*m_failure, ExitCode::write_failed);
  }
  return ++m_written;
}

void Journal::wait_durable(uint64_t seq) {
  std::unique_lock lock(m_mutex);
  while (m_durable < seq) {
    if (m_failure) {
      throw Error(*m_failure, ExitCode::write_failed);
    }
    if (m_syncing) {
      m_synced.wait(lock); // the running sync may not cover `seq`: look again when it ends
      continue;
    }
    // Lead one sync, covering every record written so far, without the lock: writers go on
    // appending meanwhile, and the next leader covers them.
    m_syncing = true;
    ++m_syncs;
    const uint64_t covered = m_written;
    lock.unlock();
    int err = EIO;
    std::exception_ptr thrown;
    try {
      err = m_hooks.sync(m_fd);
    } catch (...) {
      thrown = std::current_exception(); // still end this sync, or the waiters wait forever
    }
    lock.lock();
    m_syncing = false;
    if (err == 0 && !thrown) {
      m_durable = std::max(m_durable, covered);
    } else if (!m_failure) {
      m_failure = fmt::format("--state: cannot sync {}: {}", m_path, std::strerror(err));
    }
    m_synced.notify_all();
    if (thrown) {
      std::rethrow_exception(thrown);
    }
  }
}

uint64_t Journal::syncs() const {
  std::lock_guard lock(m_mutex);
  return m_syncs;
}

void Journal::run_started(const std::string& token,
                          const std::string& listen,
                          const std::string& endpoint) {
  // The token, which a rerun needs to keep the callback URLs of tasks in flight, is kept in a
  // file of its own (mode 0600) written before the record, so the journal holds no secret.
  if (!token.empty()) {
    try {
      write_file_atomic(token_path(m_path), token + "\n", 0600);
    } catch (const Error& e) {
      throw Error(fmt::format("--state: {}", e.what()), ExitCode::write_failed);
    }
  }
  append(dump_line(Json{{"type", "run"},
                        {"time", utc_now_iso(true)},
                        {"token", token.empty() ? "" : std::string(k_token_in_file)},
                        {"listen", listen},
                        {"endpoint", endpoint}}));
}

void Journal::attempted(const std::string& key) {
  append(dump_line(Json{{"type", "attempt"}, {"time", utc_now_iso(true)}, {"key", key}}));
}

void Journal::kept_callback(const std::string& route_key, const std::string& body) {
  // The body as text: it was screened, not parsed, and parsing a stranger's body to write it
  // would cost what the listener avoided.
  append(dump_line(Json{{"type", "callback"},
                        {"time", utc_now_iso(true)},
                        {"route", route_key},
                        {"payload_text", body}}));
}

void Journal::submitted(const std::string& key, const std::string& task_id) {
  // Not waited for: lost in a crash, the attempt before it still says the task may exist (its
  // callback is then awaited by content instead of its id); the next sync covers it anyway.
  append(dump_line(Json{
             {"type", "submit"}, {"time", utc_now_iso(true)}, {"key", key}, {"task_id", task_id}}),
         Durability::later);
}

void Journal::finished(const std::string& key,
                       const std::string& status,
                       const std::string& line,
                       const std::optional<std::string>& task_id,
                       bool unknown_outcome) {
  Json record = {{"type", "result"}, {"time", utc_now_iso(true)}, {"key", key}, {"status", status}};
  if (task_id) {
    record["task_id"] = *task_id;
  }
  if (unknown_outcome) {
    record["unknown_outcome"] = true;
  }
  record["line"] = line;
  append(dump_line(record));
}

} // namespace core

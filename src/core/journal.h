#pragma once

#include "core/json.h"

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <istream>
#include <mutex>
#include <optional>
#include <string>
#include <sys/types.h>
#include <unordered_map>
#include <utility>
#include <vector>

namespace core {

// What the journal knows of one input (by input key), from its records in order.
struct JournalEntry {
  std::optional<std::string> task_id; // from a submit (or a result that names one)
  std::optional<std::string> status;  // from the last result
  std::optional<std::string> line;    // the last result exactly as printed
  bool unknown_outcome = false; // a result whose task may exist (its submit's outcome unknown)
  bool attempted = false;       // the last attempt's intent was journaled (before sending)
};

// A journal read back: the run's callback token and listen address, and every input's entry.
struct JournalState {
  std::string token;
  std::string listen;
  std::unordered_map<std::string, JournalEntry> entries;
  std::string endpoint;              // what the first run record names ("flow:NAME" for a flow)
  std::vector<std::string> task_ids; // every task id submitted, first submit first, once each
  size_t records = 0;
  bool cut_short = false; // the last record was cut mid-line (kill -9 while writing): ignored
  // Callbacks an earlier run answered but could not match before it stopped (route key,
  // payload), oldest first: a rerun hands them to its tracker before anything else.
  std::vector<std::pair<std::string, std::string>> callbacks; // (route, body text)
};

// Reads a journal (JSON lines). A last line without its newline is ignored (`cut_short`); any
// other line that is not a journal record is a core::Error naming `name:line`.
JournalState read_journal(std::istream& in, const std::string& name);

// Where a journal keeps the run's callback token: `<journal>.token`, mode 0600. The journal's
// run record says "token": "***" and holds no secret.
std::string token_path(const std::string& journal_path);

// Loads `path` when it exists (an empty state otherwise), and the token from token_path(path).
JournalState load_journal(const std::string& path);

// What a rerun does with an input, by its journal entry (see the resume table in the man page).
enum class ResumeAction {
  submit,  // never submitted, or a submit that surely created nothing
  reprint, // a final result: print the journaled line again
  await,   // submitted, no final result: check its status, else wait for its callback
  // A submit whose outcome is unknown (sent, no task id known: killed or interrupted before the
  // answer, an answer without a task id, a task id already another input's): the task may exist.
  // Wait for its callback (by the input's own URL, or by content), never submit it again.
  await_unknown,
};
ResumeAction resume_action(const JournalEntry* entry, bool retry_failed, bool resubmit_unfinished);

// Seams for tests: how the journal makes its file durable, and a call after each record is
// written (before the caller waits for it to be durable). The defaults are fdatasync(2) and
// nothing.
struct JournalHooks {
  // Returns 0, or an errno value. Called by one thread at a time, outside the append lock.
  std::function<int(int fd)> sync;
  std::function<void()> after_write;
};

// The append-only journal of a run: one JSON line per record, written with write(2) and
// fdatasync'd before the call returns (all but `submitted`, which the next sync covers), so a
// crash loses at most the record being written.
// Created with mode 0600. Every record passes core::redact; the run's callback token is written
// to token_path() instead (see run_started). Thread-safe.
//
// Group commit: a record is written under a short lock and gets a sequence number; then one
// thread at a time (the leader) runs fdatasync, outside that lock, covering every record written
// before it started. A caller whose record a finished sync covered returns without syncing
// itself; the others wait, and one of them leads the next sync. So concurrent tasks share
// syncs, and every call still returns only once its record is durable.
//
// A failed write or sync is a core::Error naming the file. It is final: the file's state is no
// longer known (a failed fdatasync may drop the dirty pages), so every later call, and every
// caller waiting for that sync, throws it too.
class Journal {
public:
  // Opens (creating) `path` for appending; throws core::Error naming it.
  explicit Journal(const std::string& path);
  Journal(const std::string& path, JournalHooks hooks);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  void
  run_started(const std::string& token, const std::string& listen, const std::string& endpoint);
  // The intent to submit, before the request is sent: with no submit or result after it, the
  // submit's outcome is unknown. It starts the input's entry afresh (a new attempt).
  void attempted(const std::string& key);
  // Written, not waited for: the attempt before it is what keeps the input from a resubmit.
  void submitted(const std::string& key, const std::string& task_id);
  // A callback answered but not matched when the run stopped (its route key and payload).
  void kept_callback(const std::string& route_key, const std::string& body);
  // A final line as printed; `task_id` when known; `unknown_outcome` for a submit whose task
  // may exist.
  void finished(const std::string& key,
                const std::string& status,
                const std::string& line,
                const std::optional<std::string>& task_id,
                bool unknown_outcome);

  // How many syncs have been run so far (for tests and statistics).
  uint64_t syncs() const;

private:
  enum class Durability { now, later }; // later: the next sync covers it, nobody waits
  void append(const std::string& record, Durability durability = Durability::now);
  uint64_t write_record(const std::string& buf);
  void wait_durable(uint64_t seq);
  void drop_cut_record(off_t size);

  mutable std::mutex m_mutex;
  std::condition_variable m_synced; // a sync ended (or failed)
  uint64_t m_written = 0;           // sequence number of the last record written
  uint64_t m_durable = 0;           // the last record a successful sync covered
  bool m_syncing = false;           // a leader is running a sync
  uint64_t m_syncs = 0;
  std::optional<std::string> m_failure; // the first failed write or sync: final
  JournalHooks m_hooks;
  int m_fd = -1;
  std::string m_path;
};

} // namespace core

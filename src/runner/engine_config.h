#pragma once

#include "core/api.h"
#include "core/inputs.h"
#include "core/journal.h"
#include "core/json.h"
#include "core/report.h"
#include "core/run_controls.h"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>

namespace runner {

// What the engine needs to know about a run (`run` and `flow` alike).
struct EngineConfig {
  core::RequestOptions request;
  core::Json set_params = core::Json::object(); // --set: added to every input
  core::Json secure_params = nullptr;           // --secure-parameters: added to every input
  int parallel = 1;
  bool unordered = false;
  // Per task, from the start the service reports (--timeout); a task not started yet waits on,
  // asked about with backoff, until `max_wait` from its submit (--max-wait).
  std::chrono::milliseconds timeout{std::chrono::minutes(15)};
  std::chrono::milliseconds max_wait{std::chrono::hours(24)};
  // A task whose callback is overdue compared with the run's finished ones (running longer than
  // max(straggler_floor, 3 x their p90)) has its status checked, then re-checked with backoff.
  std::chrono::milliseconds straggler_floor{std::chrono::seconds(60)};
  // --poll: the status of every task in flight is checked at this interval (0: off).
  std::chrono::milliseconds poll{0};
  // Status checks per second across the run for stragglers, --poll and the watchdog.
  double status_rate = 10;
  // Per-run callback URLs: when `token` is set, each request carries
  // task_callback_url = callback_base + "<callback path>/<token>/<task key>".
  std::string token;
  std::string callback_base;
  std::string callback_path = "/receive_callback";
  std::string callback_key; // sent as task_callback_api_key
  bool stats = false;       // --stats: callback->line latency summary on stderr at the end
  // --state: the journal to append to, and what an earlier run journaled (resume).
  core::Journal* journal = nullptr;
  const core::JournalState* resume = nullptr;
  bool retry_failed = false;        // resubmit journaled failures
  bool resubmit_unfinished = false; // resubmit tasks that may still run (may run them twice)
  // --grace: after the first signal, seconds to keep waiting for tasks in flight.
  std::chrono::milliseconds grace{0};
  // Callback silence (with tasks in flight) after which their status is checked.
  std::chrono::milliseconds watchdog{std::chrono::seconds(360)};
  // Progress on stderr: a live line on a terminal (`live`), a JSON status object every few
  // seconds (`json`), or nothing; and a summary at the end (not with -q).
  enum class ProgressMode { live, json, none };
  ProgressMode progress = ProgressMode::live;
  bool summary = true;
  int output_fd = 1; // where the lines go (stdout; a file in tests)
  // The lines go to a terminal: long base64 values (inline screenshots) are shown as
  // placeholders there; a pipe or a file gets every line as sent.
  bool terminal_output = false;
  // Operators' controls: stop after failures (--halt), this process's part of the inputs
  // (--shard), the first N inputs only (--limit), submits a second (--rate, 0: no limit), a TSV
  // line per finished input (--joblog, open), "source": "file:line" on each line (--tag).
  core::HaltPolicy halt;
  core::Shard shard;
  std::optional<size_t> limit;
  double rate = 0;
  std::shared_ptr<core::JobLog> joblog;
  bool tag = false;
  // --report: every printed line goes into it too (with its times), on the printing thread.
  core::Report* report = nullptr;
  // Called with each input as it is read, in input order (--record).
  std::function<void(const core::Input&)> on_input;
  // Turns a final result into what is printed (screenshots to files, downloads); may be empty.
  // The engine calls it on a worker thread, never the printing one; `stop` is requested on
  // interrupt (a download in progress ends).
  std::function<void(core::Json&, std::stop_token)> finish_line;
};

// Adds what lets the service call back: the per-run callback URL naming `key` (with
// --public-url) and the callback key.
void add_callback_fields(core::Json& request, const EngineConfig& config, const std::string& key);

} // namespace runner

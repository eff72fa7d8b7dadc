#pragma once

#include "core/api.h"
#include "core/inputs.h"
#include "core/journal.h"
#include "core/keys.h"
#include "core/output.h"
#include "core/progress.h"
#include "core/stats.h"
#include "core/tracker.h"
#include "net/service.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

namespace runner {

// What the engine needs to know about a run.
struct EngineConfig {
  core::RequestOptions request;
  core::Json set_params = core::Json::object(); // --set: added to every input
  core::Json secure_params = nullptr;           // --secure-parameters: added to every input
  int parallel = 1;
  bool unordered = false;
  std::chrono::milliseconds timeout{std::chrono::minutes(15)};
  // Per-run callback URLs: when `token` is set, each request carries
  // task_callback_url = callback_base + "<callback path>/<token>/<input key>".
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
  // Called with each input as it is pulled, in input order (--record).
  std::function<void(const core::Input&)> on_input;
  // Turns a result line into what is printed (screenshots to files, downloads); may be empty.
  std::function<void(core::Json&)> finish_line;
};

// Adds what lets the service call back: the per-run callback URL naming `key` (with
// --public-url) and the callback key.
void add_callback_fields(core::Json& request, const EngineConfig& config, const std::string& key);

// The orchestration of one run. Submitting threads pull inputs and submit them, keeping at most
// `parallel` inputs between "pulled" and "printed" (a finished task whose line waits for an
// earlier one still counts). The writer (the thread calling execute) prints each input's line:
// in input order, waiting on that input's waiter, or with `unordered`, as tasks finish.
class Engine {
public:
  Engine(EngineConfig config,
         core::InputSource& source,
         core::Tracker& tracker,
         net::Service& client);
  ~Engine();

  // Submits and waits for everything; returns the exit code.
  int execute();

  // From the signal thread: stop submitting, print what is left, exit 130 (SIGINT) or 143.
  // A second signal exits at once.
  void interrupt(int signo);

  // The request an input would send (for --dry-run and tests).
  core::Json build_request(const core::Input& input, const std::string& key) const;

private:
  struct Slot;

  void submit_loop();
  std::shared_ptr<Slot> pull_next_slot();
  void process(Slot& slot);
  bool resume(Slot& slot);
  void on_refused(Slot& slot, const net::SubmitResult& result);
  std::shared_ptr<Slot> wait_for_slot(size_t index);
  std::vector<std::shared_ptr<Slot>> wait_for_finished();
  core::Json await_in_order(Slot& slot);
  void expire(Slot& slot);
  std::optional<core::Json> reconcile(const std::string& task_id);
  void print(Slot& slot, core::Json line);
  void count(Slot& slot, const std::string& status, const std::string& what);
  void stop_now();
  void notify_everyone();
  void watch(std::stop_token stop);
  void tick(std::stop_token stop);
  void release(Slot& slot);
  void finish_interrupted();
  int exit_code() const;

  EngineConfig m_config;
  core::InputSource& m_source;
  core::Tracker& m_tracker;
  net::Service& m_client;
  core::LineWriter m_out;
  std::stop_source m_stop;
  std::atomic<int> m_signal{0};
  std::jthread m_grace_timer; // ends the grace period after a first signal

  std::mutex m_read_mutex; // keeps "pull an input" and "append its slot" in input order
  core::InputKeys m_keys;  // guarded by m_read_mutex

  mutable std::mutex m_mutex;
  // Two condition variables on m_mutex: submitters wait on m_cv for a free place, the writer on
  // m_writer_cv for a finished task, so a burst of callbacks wakes the writer only.
  std::condition_variable_any m_cv;
  std::condition_variable_any m_writer_cv;
  std::deque<std::shared_ptr<Slot>> m_slots; // by input index; printed ones become null
  size_t m_first_index = 0;                  // index of m_slots.front()
  size_t m_in_flight = 0;                    // pulled and not yet printed
  bool m_input_done = false;
  bool m_draining = false; // a signal arrived: no new submits, tasks in flight may finish
  bool m_any_accepted = false;
  std::optional<std::string> m_refusal;         // set when the service refused the run
  std::deque<std::shared_ptr<Slot>> m_finished; // unordered: completed, not yet printed
  using Deadlines = std::multimap<core::Clock::time_point, std::shared_ptr<Slot>>;
  Deadlines m_deadlines; // unordered: accepted tasks by deadline

  core::LatencyStats m_latency;
  std::mutex m_progress_mutex;
  core::Progress m_progress{core::Clock::now()};
  size_t m_printed = 0;
  size_t m_succeeded = 0;
};

} // namespace runner

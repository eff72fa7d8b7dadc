#pragma once

#include "core/inputs.h"
#include "core/keys.h"
#include "core/output.h"
#include "core/progress.h"
#include "core/stats.h"
#include "core/tracker.h"
#include "net/service.h"
#include "runner/engine_config.h"
#include "runner/plan.h"
#include "runner/reconcile.h"

#include <atomic>
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

namespace runner {

// The one scheduler of `run` and `flow`: what an item runs comes from its plan (one job per
// input, or the steps of a flow). Its threads:
// - the reader pulls inputs (a stream may block) while fewer than `parallel` items are open;
// - submitters (at most 64) take jobs from the dispatch queue while fewer than `parallel` are in
//   flight, submit them and bind their waiters (a waiter is a slot, not a thread); they also run
//   the status checks of tasks whose deadline passed, so no check runs on the printing thread;
// - the watchdog asks the service about the tasks in flight after a long callback silence;
// - the chaser checks the status of stragglers (tasks whose callback is overdue compared with
//   their finished peers) and, with --poll, of every task in flight at that interval;
// - the coordinator (the thread calling execute) owns every item's plan: it feeds it the results
//   of finished jobs, queues the jobs that become ready, hands expired deadlines to the checks and
//   prints each item's line (in input order, or as items end with `unordered`).
class Engine {
public:
  Engine(Planner& planner,
         EngineConfig config,
         core::InputSource& source,
         core::Tracker& tracker,
         net::Service& service);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Runs every item; returns the exit code.
  int execute();

  // From the signal thread: stop submitting, print what is left, exit 130 (SIGINT) or 143. With
  // --grace, tasks in flight may end first. A second signal exits at once.
  void interrupt(int signo);

private:
  struct Item;
  struct Task;
  using Deadlines = std::multimap<core::Clock::time_point, std::shared_ptr<Task>>;

  void notify_everyone();
  void stop_now();
  void read_loop();
  void submit_loop();
  void process(const std::shared_ptr<Task>& task);
  bool resume(const std::shared_ptr<Task>& task);
  void await_callback(const std::shared_ptr<Task>& task, const std::string& task_id);
  void finish_line(const std::shared_ptr<Task>& task);
  bool journal(const std::function<void(core::Journal&)>& write);
  void on_write_failure(const std::string& what);
  void close_listening();
  std::string write_failure() const;
  void await_unknown(const std::shared_ptr<Task>& task, const std::string& why);
  void fail(Task& task, const std::string& status, const std::string& error);
  void on_refused(Task& task, const net::SubmitResult& result);
  void check_at_deadline(const std::shared_ptr<Task>& task);
  std::shared_ptr<Item> make_item(core::Input input);
  bool take(const Item& item);
  void read_rest();
  bool wait_for_rate(const std::shared_ptr<Task>& task);
  void note_started(Task& task, const StatusCheck& check);
  void count_for_halt(const std::string& status);
  void halt(const std::string& reason);
  void finish_halted();
  // Ends every open item (and every input of a file not read yet) and prints it: those with a
  // task sent (or, with `ran_is_sent`, with a job ended here) with `running_status`, the others
  // with `unsent_status`. Returns how many of each.
  std::pair<size_t, size_t> end_open_items(const std::string& running_status,
                                           const std::string& why_running,
                                           const std::string& unsent_status,
                                           const std::string& why_unsent,
                                           bool ran_is_sent);
  void write_joblog(const Item& item, const ItemLine& line);
  void say_what_was_left();
  void start_item(const std::shared_ptr<Item>& item);
  void schedule(const std::shared_ptr<Item>& item);
  void finish_task(const std::shared_ptr<Task>& task);
  void purge_dispatch(Item& item);
  void release_place(Item& item);
  void print_ready();
  void print(Item& item);
  void finish_interrupted();
  void watch(std::stop_token stop);
  void chase(std::stop_token stop);
  void rearm(const std::shared_ptr<Task>& task, core::Clock::time_point when);
  // Fetches an ended task's result and completes its waiter with it; says so on stderr, as news
  // when the check was `asked` for (--poll), else as a warning naming `why` it was made.
  bool recover(const std::shared_ptr<Task>& task,
               const std::string& task_id,
               const std::string& why,
               bool asked = false);
  void tick(std::stop_token stop);
  int exit_code() const;

  Planner& m_planner;
  EngineConfig m_config;
  core::InputSource& m_source;
  core::Tracker& m_tracker;
  net::Service& m_service;
  // The status API for the checks no deadline asks for (stragglers, --poll, the watchdog),
  // paced across the run; deadline checks and result fetches, one per task and deadline, not.
  PacedService m_paced;
  core::LineWriter m_out;
  std::stop_source m_stop;
  std::atomic<int> m_signal{0};
  core::InputKeys m_keys; // reader thread only (then the coordinator, once it has stopped)
  size_t m_pulled = 0;    // likewise
  // --shard and --limit, likewise: inputs this process runs, inputs of other shards, inputs
  // past the limit (of a file: a stream is not read past it).
  size_t m_taken = 0;
  size_t m_other_shards = 0;
  size_t m_left = 0;
  bool m_limit_reached = false;
  std::unique_ptr<core::RateLimiter> m_rate; // --rate

  mutable std::mutex m_mutex;
  // On m_mutex, one condition variable per kind of waiter, so a callback wakes the coordinator
  // alone: submitters wait on m_cv (a job and a free place, or a check), the reader on
  // m_reader_cv (room for an item), the coordinator on m_coord_cv (items, results, deadlines).
  std::condition_variable_any m_cv;
  std::condition_variable_any m_reader_cv;
  std::condition_variable_any m_coord_cv;
  std::condition_variable_any m_rate_cv; // submitters waiting for their --rate turn
  // reader -> coordinator
  std::deque<std::shared_ptr<Item>> m_new_items;
  size_t m_open = 0;             // items read and not yet printed
  size_t m_active = 0;           // of those, items that hold a place: not done when they started
  bool m_said_shortened = false; // coordinator only
  bool m_reading = false; // the reader waits for the next input (its place counted in m_open)
  bool m_input_done = false;
  bool m_draining = false; // a signal with --grace, or --halt: no new submits, tasks in flight
                           // may end
  std::optional<std::string> m_halt; // why --halt stopped the run
  std::jthread m_grace_timer;
  // coordinator -> submitters
  std::deque<std::shared_ptr<Task>> m_dispatch;
  std::deque<std::shared_ptr<Task>> m_checks; // deadline passed: ask the service
  std::deque<std::shared_ptr<Task>> m_post;   // final results for finish_line
  size_t m_in_flight = 0;                     // tasks taken by a submitter and not yet finished
  // waiters -> coordinator
  std::deque<std::shared_ptr<Task>> m_completed;
  Deadlines m_deadlines; // tasks awaiting their result, by deadline
  bool m_any_accepted = false;
  std::optional<std::string> m_refusal;                   // every endpoint (key, network)
  std::map<std::string, std::string> m_refused_endpoints; // one endpoint (404 in a flow)
  std::map<std::string, std::string> m_task_owners;       // task id -> the input it is
  std::optional<std::string> m_write_failure;             // the journal or stdout: final
  size_t m_printed = 0;                                   // read by the ticker
  size_t m_succeeded = 0;
  core::PeerDurations m_peers; // submit -> result of the tasks that ended with a callback
  size_t m_callbacks = 0;      // how many did (m_peers keeps the latest only)

  // coordinator only
  std::deque<std::shared_ptr<Item>> m_items_open; // by item index
  bool m_stdout_failed = false;
  bool m_joblog_failed = false;
  size_t m_tasks_ended = 0; // tasks that ended here (--halt counts their failures)
  size_t m_tasks_failed = 0;
  core::LatencyStats m_latency;

  std::mutex m_progress_mutex;
  core::Progress m_progress{core::Clock::now()};
};

} // namespace runner

#pragma once

#include "core/flow.h"
#include "core/flow_run.h"
#include "core/inputs.h"
#include "core/keys.h"
#include "core/output.h"
#include "core/progress.h"
#include "core/tracker.h"
#include "net/service.h"
#include "runner/engine.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>

namespace runner {

// The inference request of one job of `step`; `key` names it in a per-run callback URL.
core::Json build_flow_request(const core::FlowStep& step,
                              const core::FlowJob& job,
                              const EngineConfig& config,
                              const std::string& key);

// Runs a flow for every item. Three kinds of threads share the work:
// - the reader pulls items (a stream may block) while fewer than `parallel` are open;
// - submitters (at most 64) take jobs from the dispatch queue while fewer than `parallel` are in
//   flight, submit them and bind their waiters; a waiter is a slot, not a thread;
// - the coordinator (the thread calling execute) owns every item's core::ItemRun: it feeds it
//   the results of completed jobs, queues the jobs that become ready, expires deadlines and
//   prints each item's line (in item order, or as items end with `unordered`).
class FlowEngine {
public:
  FlowEngine(const core::Flow& flow,
             EngineConfig config,
             core::InputSource& items,
             core::Tracker& tracker,
             net::Service& service);
  ~FlowEngine();

  // Runs every item's flow; returns the exit code.
  int execute();
  // From the signal thread: stop now; every open item is printed as interrupted, with the
  // results its steps already have (a second signal exits at once).
  void interrupt(int signo);

  // The request a job sends; `key` names it in a per-run callback URL.
  core::Json build_request(const core::FlowJob& job, const std::string& key) const;

private:
  struct Item;
  struct Task;

  void notify_everyone();
  void read_loop();
  void submit_loop();
  void process(const std::shared_ptr<Task>& task);
  bool resume(const std::shared_ptr<Task>& task);
  void await_callback(const std::shared_ptr<Task>& task, const std::string& task_id);
  void fail(Task& task, const std::string& status, const std::string& error);
  void on_refused(Task& task, const net::SubmitResult& result);
  std::shared_ptr<Item> make_item(core::Input input);
  void start_item(const std::shared_ptr<Item>& item);
  void schedule(const std::shared_ptr<Item>& item);
  void finish_task(const std::shared_ptr<Task>& task);
  void purge_dispatch(Item& item);
  void expire(Task& task);
  void print_ready();
  void print(Item& item);
  void finish_interrupted();
  int exit_code() const;

  const core::Flow& m_flow;
  EngineConfig m_config;
  core::InputSource& m_items;
  core::Tracker& m_tracker;
  net::Service& m_service;
  core::LineWriter m_out;
  std::stop_source m_stop;
  std::atomic<int> m_signal{0};
  core::InputKeys m_keys;            // reader thread only
  bool m_warned_item_secure = false; // reader thread only
  size_t m_pulled = 0; // reader thread only (then the coordinator, once it has stopped)

  mutable std::mutex m_mutex;
  // On m_mutex, one condition variable per kind of waiter, so a callback wakes the coordinator
  // alone: submitters wait on m_cv (a job and a free place), the reader on m_reader_cv (room for
  // an item), the coordinator on m_coord_cv (items, results, deadlines).
  std::condition_variable_any m_cv;
  std::condition_variable_any m_reader_cv;
  std::condition_variable_any m_coord_cv;
  // reader -> coordinator
  std::deque<std::shared_ptr<Item>> m_new_items;
  size_t m_open = 0; // items pulled and not yet printed
  bool m_input_done = false;
  // coordinator -> submitters
  std::deque<std::shared_ptr<Task>> m_dispatch;
  size_t m_in_flight = 0; // tasks taken by a submitter and not yet finished
  // waiters -> coordinator
  std::deque<std::shared_ptr<Task>> m_completed;
  std::multimap<core::Clock::time_point, std::shared_ptr<Task>> m_deadlines;
  bool m_any_accepted = false;
  std::optional<std::string> m_refusal;                   // every endpoint (key, network)
  std::map<std::string, std::string> m_refused_endpoints; // one endpoint (404)

  // coordinator only
  std::deque<std::shared_ptr<Item>> m_items_open; // by item index
  size_t m_first_open = 0;                        // index of m_items_open.front()
  size_t m_printed = 0;
  size_t m_succeeded = 0;

  std::mutex m_progress_mutex;
  core::Progress m_progress{core::Clock::now()};
};

} // namespace runner

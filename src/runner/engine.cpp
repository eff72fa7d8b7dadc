#include "runner/engine.h"

#include "core/api.h"
#include "core/callback_handler.h"
#include "core/callback_route.h"
#include "core/clock.h"
#include "core/crash_point.h"
#include "core/error.h"
#include "core/log.h"
#include "runner/progress_view.h"
#include "runner/reconcile.h"

#include <fmt/format.h>

#include <algorithm>
#include <csignal>
#include <vector>

namespace runner {

using core::Clock;
using core::Json;

namespace {

core::WaitLimits limits_of(const Job& job, const EngineConfig& config) {
  return core::WaitLimits{job.timeout, config.max_wait};
}

double seconds(std::chrono::nanoseconds d) {
  return std::chrono::duration<double>(d).count();
}

// How many lines done as they start (journaled, passed on) may wait for their turn in input
// order beyond the `parallel` places: a bound on memory only.
constexpr size_t k_waiting_lines = 1024;

// How often the chaser looks for stragglers and tasks due a --poll check.
constexpr auto k_chase_tick = std::chrono::milliseconds(200);

} // namespace

// One input on its way through the run.
struct Engine::Item {
  size_t index = 0;
  core::Input input;
  std::string key; // content hash + occurrence: names the item's jobs
  Clock::time_point started{};
  // Coordinator only:
  std::unique_ptr<ItemPlan> plan;
  std::vector<std::shared_ptr<Task>> tasks; // handed out and not finished
  Clock::time_point result_at{};            // when its last result arrived (--stats)
  bool printed = false;
  // Counted in Engine::m_active: read by the reader, not printed, and something of it ran here
  // or may (a line reprinted from the journal or passed on holds no place while it waits).
  bool holds_place = false;
  bool ran = false; // a job of it ended here other than as a reprint of the journal
  // For --joblog: its last task's id, its first submit, when the service says it started.
  std::string task_id;
  std::optional<std::chrono::system_clock::time_point> submitted_wall;
  std::optional<core::WallTime> started_at;
};

// One job of one item: a submit, then a wait on its waiter.
struct Engine::Task {
  std::shared_ptr<Item> item;
  Job job;
  std::shared_ptr<core::Waiter> waiter;
  // Guarded by Engine::m_mutex:
  std::optional<std::string> task_id;
  bool taken = false; // a submitter has it (it counts as in flight)
  bool sent = false;  // its submit may have left (not waiting for its --rate turn)
  std::optional<std::chrono::system_clock::time_point> sent_wall;
  std::optional<core::WallTime> started_at; // from a status check
  bool finished = false;                    // the coordinator has its result
  std::optional<Deadlines::iterator> deadline;
  Clock::time_point submitted{}; // when its submit left (or it was resumed)
  int checks = 0;                // status checks at its deadlines so far
  // The chaser's (its thread only): when it asks next about this task, and how often it did.
  Clock::time_point next_chase{};
  Clock::time_point next_poll{};
  int chases = 0;
  std::atomic<bool> recovered{false}; // its result came from a status check, not its callback
  // Written by the submitter before the waiter completes, read by the coordinator after:
  std::optional<std::string> journaled; // the result is this line, journaled by an earlier run
  // Its submit's outcome is unknown (the task may exist, its id is not known): it waits for its
  // callback by its own URL or by content, until its deadline.
  bool unknown_outcome = false;
  std::string unknown_error; // why the outcome is unknown
  std::string content;       // bound by content in the tracker (core::content_key)
  // A final result on its way through finish_line (on a submitter), then back to the coordinator.
  std::optional<Json> held;
  bool post_done = false;
};

void add_callback_fields(Json& request, const EngineConfig& config, const std::string& key) {
  if (!config.token.empty()) {
    request["task_callback_url"] =
        config.callback_base + core::callback_suffix(config.callback_path, config.token, key);
  }
  if (!config.callback_key.empty()) {
    request["task_callback_api_key"] = config.callback_key;
  }
}

Engine::Engine(Planner& planner,
               EngineConfig config,
               core::InputSource& source,
               core::Tracker& tracker,
               net::Service& service)
    : m_planner(planner), m_config(std::move(config)), m_source(source), m_tracker(tracker),
      m_service(service), m_paced(service, m_config.status_rate, 10), m_out(m_config.output_fd) {
  m_progress.set_unit(m_planner.unit());
  m_progress.set_label(m_planner.label());
  if (m_config.rate > 0) {
    m_rate = std::make_unique<core::RateLimiter>(m_config.rate);
  }
}

Engine::~Engine() = default;

void Engine::interrupt(int signo) {
  int expected = 0;
  if (!m_signal.compare_exchange_strong(expected, signo)) {
    // A second signal: the user insists; leave now (journaled work stays journaled).
    std::_Exit(core::to_int(core::signal_exit_code(signo)));
  }
  if (m_config.grace.count() <= 0) {
    stop_now();
    return;
  }
  // Stop submitting, let the tasks in flight finish for a while, then stop waiting.
  {
    std::lock_guard lock(m_mutex);
    m_draining = true;
  }
  notify_everyone();
  core::log_warning(fmt::format("signal received: no new submits; waiting up to {:g} s for "
                                "tasks in flight (signal again to stop now)",
                                std::chrono::duration<double>(m_config.grace).count()));
  std::jthread timer([this](std::stop_token st) {
    if (core::sleep_for(m_config.grace, st)) {
      stop_now(); // the grace period ended (not the run: then the engine stops the timer)
    }
  });
  std::lock_guard lock(m_mutex); // execute() takes the timer out under the same lock
  m_grace_timer = std::move(timer);
}

void Engine::notify_everyone() {
  m_cv.notify_all();
  m_rate_cv.notify_all();
  m_reader_cv.notify_all();
  m_coord_cv.notify_all();
}

void Engine::stop_now() {
  m_stop.request_stop();
  m_paced.cancel_all(); // and the service's requests in progress
  notify_everyone();
}

// --- reading -------------------------------------------------------------------------------

std::shared_ptr<Engine::Item> Engine::make_item(core::Input input) {
  auto item = std::make_shared<Item>();
  item->input = std::move(input);
  item->index = m_pulled++;
  item->started = Clock::now();
  std::string content = m_planner.admit(item->input);
  if (item->input.error.empty()) {
    item->key = m_keys.next(content);
  }
  return item;
}

bool Engine::take(const Item& item) {
  if (m_config.shard.active()) {
    // An input that could not be read has no key: its text decides (its line still gets printed
    // by exactly one shard).
    const std::string& key =
        !item.key.empty() ? item.key : (item.input.raw.empty() ? item.input.where : item.input.raw);
    if (!m_config.shard.holds(key)) {
      ++m_other_shards;
      return false;
    }
  }
  if (m_limit_reached) {
    ++m_left;
    return false;
  }
  ++m_taken;
  if (m_config.limit && m_taken >= *m_config.limit) {
    m_limit_reached = true;
  }
  return true;
}

void Engine::read_rest() {
  // Past --limit: a file's other inputs are counted (for the summary), never run; a stream is
  // not read on.
  if (!m_source.streaming()) {
    while (auto input = m_source.next()) {
      take(*make_item(std::move(*input)));
    }
  }
}

void Engine::read_loop() {
  const auto parallel = static_cast<size_t>(std::max(1, m_config.parallel));
  // After a refusal, a stream stops being read; a file's inputs each still get their line.
  auto stop_reading = [&] {
    return m_stop.stop_requested() || m_draining || m_limit_reached ||
           (m_refusal && m_source.streaming());
  };
  for (;;) {
    {
      std::unique_lock lock(m_mutex);
      // Places are for items that run: one reprinted from the journal, passed on or invalid
      // holds none while it waits for its turn in input order (only a bound on memory).
      m_reader_cv.wait(lock, m_stop.get_token(), [&] {
        return (m_active < parallel && m_open < parallel + k_waiting_lines) || stop_reading();
      });
      if (stop_reading()) {
        if (m_limit_reached && !m_stop.stop_requested()) {
          lock.unlock();
          read_rest();
          lock.lock();
        }
        m_input_done = true;
        m_coord_cv.notify_one();
        return;
      }
      ++m_open;
      ++m_active;
      m_reading = true;
    }
    std::optional<core::Input> input = m_source.next(m_stop.get_token());
    std::shared_ptr<Item> item = input ? make_item(std::move(*input)) : nullptr;
    const bool taken = item && take(*item);
    if (taken && m_config.on_input) {
      m_config.on_input(item->input); // --record: what was read
    }
    std::lock_guard lock(m_mutex);
    m_reading = false;
    if (!taken) {
      --m_open;
      --m_active;
      if (item) {
        continue; // another shard's (or past --limit: the loop stops above)
      }
      m_input_done = true;
      m_coord_cv.notify_one();
      return;
    }
    item->holds_place = true;
    m_new_items.push_back(std::move(item));
    m_coord_cv.notify_one();
  }
}

// --- submitting ----------------------------------------------------------------------------

void Engine::submit_loop() {
  const auto parallel = static_cast<size_t>(std::max(1, m_config.parallel));
  for (;;) {
    std::shared_ptr<Task> task;
    bool check = false;
    {
      std::unique_lock lock(m_mutex);
      m_cv.wait(lock, m_stop.get_token(), [&] {
        return !m_checks.empty() || !m_post.empty() ||
               (!m_draining && !m_dispatch.empty() && m_in_flight < parallel);
      });
      if (m_stop.stop_requested()) {
        return;
      }
      if (!m_post.empty()) {
        task = std::move(m_post.front());
        m_post.pop_front();
        lock.unlock();
        finish_line(task);
        continue;
      }
      if (!m_checks.empty()) {
        task = std::move(m_checks.front());
        m_checks.pop_front();
        check = true;
      } else {
        task = std::move(m_dispatch.front());
        m_dispatch.pop_front();
        task->taken = true;
        ++m_in_flight;
      }
    }
    if (check) {
      check_at_deadline(task);
    } else {
      process(task);
    }
  }
}

void Engine::finish_line(const std::shared_ptr<Task>& task) {
  // Screenshots to files, downloads: off the printing thread; a stop ends a download.
  m_config.finish_line(*task->held, m_stop.get_token());
  std::lock_guard lock(m_mutex);
  m_completed.push_back(task);
  m_coord_cv.notify_one();
}

void Engine::fail(Task& task, const std::string& status, const std::string& error) {
  std::optional<std::string> task_id;
  {
    std::lock_guard lock(m_mutex);
    task_id = task.task_id;
  }
  task.waiter->complete(core::failure_line(status, error, task.job.params, task_id));
}

void Engine::await_callback(const std::shared_ptr<Task>& task, const std::string& task_id) {
  if (!m_config.token.empty()) {
    m_tracker.bind(task->job.key, task->waiter, task_id);
  } else {
    m_tracker.bind(task_id, task->waiter);
  }
  rearm(task, core::first_deadline(limits_of(task->job, m_config), task->submitted));
}

void Engine::rearm(const std::shared_ptr<Task>& task, Clock::time_point when) {
  std::lock_guard lock(m_mutex);
  if (!task->finished && !task->waiter->done() && !task->deadline) {
    task->deadline = m_deadlines.emplace(when, task);
    m_coord_cv.notify_one();
  }
}

bool Engine::journal(const std::function<void(core::Journal&)>& write) {
  if (!m_config.journal) {
    return true;
  }
  try {
    write(*m_config.journal);
    return true;
  } catch (const core::Error& e) {
    on_write_failure(e.what());
    return false;
  }
}

void Engine::on_write_failure(const std::string& what) {
  {
    std::lock_guard lock(m_mutex);
    if (m_write_failure) {
      return;
    }
    m_write_failure = what;
  }
  core::log_error(what + ": stopping the run (no new submits)");
  // From now on, callbacks of what ends unfinished go back to their sender (redelivered to a
  // rerun), as after a signal.
  close_listening();
  stop_now();
}

void Engine::close_listening() {
  // Callbacks answered already and not matched yet are kept in the journal for the rerun.
  for (auto& [route, body] : m_tracker.close()) {
    journal([&](core::Journal& j) { j.kept_callback(route, body); });
  }
}

void Engine::process(const std::shared_ptr<Task>& task) {
  if (m_config.resume && resume(task)) {
    return;
  }
  std::optional<std::string> refusal;
  {
    std::lock_guard lock(m_mutex);
    if (m_refusal) {
      refusal = m_refusal;
    } else if (auto it = m_refused_endpoints.find(task->job.endpoint);
               it != m_refused_endpoints.end()) {
      refusal = it->second;
    }
  }
  if (refusal) {
    fail(*task, core::status::submit_failed, *refusal);
    return;
  }
  if (m_rate && !wait_for_rate(task)) {
    return;
  }
  Json request = task->job.request;
  add_callback_fields(request, m_config, task->job.key);
  {
    std::lock_guard lock(m_mutex);
    task->sent = true;
    task->sent_wall = std::chrono::system_clock::now();
  }
  core::crash_point("before_send"); // tests: nothing of this submit journaled yet
  // Intent before send: a submit without a journaled answer is an unknown outcome on a rerun.
  if (!journal([&](core::Journal& j) { j.attempted(task->job.key); })) {
    fail(*task, core::status::interrupted, "not submitted: " + write_failure());
    return;
  }
  core::crash_point("after_attempt"); // tests: the intent journaled, the request not sent
  task->submitted = Clock::now();
  net::SubmitResult result = m_service.submit(request, m_stop.get_token());
  if (result.kind == net::SubmitResult::Kind::accepted) {
    core::crash_point("after_answer"); // tests: the task id read, not journaled
    std::optional<std::string> owner;
    {
      std::lock_guard lock(m_mutex);
      m_any_accepted = true;
      auto [it, fresh] = m_task_owners.emplace(result.task_id, task->job.where);
      if (fresh) {
        task->task_id = result.task_id;
      } else {
        owner = it->second;
      }
    }
    if (owner) {
      // Two inputs cannot share a task: this input's own task may exist under another id.
      task->unknown_outcome = true;
      core::log_warning(fmt::format("{}: the service answered with task id {}, already the task "
                                    "of {}",
                                    task->job.where,
                                    result.task_id,
                                    *owner));
      fail(*task,
           core::status::submit_failed,
           fmt::format("the service answered with task id {}, already the task of {}: this "
                       "input's own task may exist (outcome unknown)",
                       result.task_id,
                       *owner));
      return;
    }
    core::log_debug(fmt::format("{}: submitted as task {}", task->job.where, result.task_id));
    if (!journal([&](core::Journal& j) { j.submitted(task->job.key, result.task_id); })) {
      fail(*task, core::status::interrupted, "submitted, not journaled: " + write_failure());
      return;
    }
    core::crash_point("after_submit"); // tests: OPTEXITY_CRASH_AT=after_submit:N
    await_callback(task, result.task_id);
    return;
  }
  if (result.kind == net::SubmitResult::Kind::refused ||
      (result.unreachable && !m_stop.stop_requested())) {
    // A refusal (bad key, unknown endpoint) or no connection before any task was accepted is
    // the run's problem, not this input's.
    bool refused = false;
    {
      std::lock_guard lock(m_mutex);
      refused = !m_any_accepted ||
                (result.kind == net::SubmitResult::Kind::refused && !task->job.step.empty());
    }
    if (refused) {
      on_refused(*task, result);
      return;
    }
  }
  if (result.unknown_outcome) {
    task->unknown_outcome = true;
    if (m_stop.stop_requested()) {
      fail(*task, core::status::interrupted, result.error);
      return;
    }
    await_unknown(task, result.error);
    return;
  }
  fail(*task,
       m_stop.stop_requested() && result.http_status == 0 ? core::status::interrupted
                                                          : core::status::submit_failed,
       result.error);
}

bool Engine::wait_for_rate(const std::shared_ptr<Task>& task) {
  const auto at = m_rate->reserve(core::RateLimiter::Clock::now());
  std::unique_lock lock(m_mutex);
  // Its own condition variable: a wake-up meant for an idle submitter is never taken here.
  m_rate_cv.wait_until(lock, m_stop.get_token(), at, [&] { return m_draining; });
  if (!m_stop.stop_requested() && !m_draining) {
    return true;
  }
  // Stopped (a signal, --halt) while waiting for its turn: never sent.
  const bool halted = m_halt.has_value();
  const std::string why = halted ? "not submitted: " + *m_halt
                                 : fmt::format("not submitted ({})",
                                               m_signal.load() == SIGTERM  ? "SIGTERM"
                                               : m_signal.load() == SIGHUP ? "SIGHUP"
                                                                           : "SIGINT");
  lock.unlock();
  fail(*task, halted ? core::status::skipped : core::status::interrupted, why);
  return false;
}

void Engine::note_started(Task& task, const StatusCheck& check) {
  if (check.answered && check.state.started_at) {
    std::lock_guard lock(m_mutex);
    task.started_at = check.state.started_at;
  }
}

std::string Engine::write_failure() const {
  std::lock_guard lock(m_mutex);
  return m_write_failure.value_or("a write failed");
}

void Engine::await_unknown(const std::shared_ptr<Task>& task, const std::string& why) {
  // The task may exist: its callback still names the input, by the input's own URL (per-run
  // URLs) or by the parameters it echoes. Wait for it until the deadline; never submit again.
  task->unknown_error = why;
  core::log_warning(fmt::format("{}: {}: waiting up to {:g} s for its callback",
                                task->job.where,
                                why,
                                std::chrono::duration<double>(task->job.timeout).count()));
  if (!m_config.token.empty()) {
    m_tracker.bind(task->job.key, task->waiter);
  } else {
    task->content = core::content_key(task->job.request);
    m_tracker.bind_content(task->content, task->waiter);
  }
  if (task->submitted == Clock::time_point{}) {
    task->submitted = Clock::now(); // resumed from an earlier run's journal
  }
  rearm(task, core::first_deadline(limits_of(task->job, m_config), task->submitted));
}

void Engine::on_refused(Task& task, const net::SubmitResult& result) {
  // In a flow, a 404 concerns one endpoint (one step); a bad key or no network concerns every
  // step. A run has one endpoint: any refusal is the run's.
  const bool one_endpoint = result.http_status == 404 && !task.job.step.empty();
  std::string text;
  bool first = false;
  {
    std::lock_guard lock(m_mutex);
    if (one_endpoint) {
      auto [it, fresh] = m_refused_endpoints.emplace(
          task.job.endpoint,
          fmt::format("the service refused endpoint \"{}\": {}", task.job.endpoint, result.error));
      first = fresh;
      text = it->second;
    } else {
      if (!m_refusal) {
        m_refusal =
            (result.unreachable ? "cannot reach the service: " : "the service refused the run: ") +
            result.error;
        first = true;
      }
      text = *m_refusal;
    }
  }
  if (first) {
    // Every input would get the same answer: say it once, with what to do.
    std::string hint = " (check --api-key, --api-key-file or OPTEXITY_API_KEY)";
    if (result.unreachable) {
      hint = " (check --api-url, the network and DNS)";
    } else if (result.http_status == 404) {
      hint = task.job.step.empty()
                 ? " (is the --endpoint name right?)"
                 : fmt::format(" (is the endpoint of step \"{}\" right?)", task.job.step);
    }
    core::log_error(text + hint);
    notify_everyone(); // a stream stops being read
  }
  fail(task, core::status::submit_failed, text);
}

bool Engine::resume(const std::shared_ptr<Task>& task) {
  auto it = m_config.resume->entries.find(task->job.key);
  const core::JournalEntry* entry = it == m_config.resume->entries.end() ? nullptr : &it->second;
  switch (core::resume_action(entry, m_config.retry_failed, m_config.resubmit_unfinished)) {
  case core::ResumeAction::submit:
    return false;
  case core::ResumeAction::reprint: {
    if (!entry->line) {
      return false;
    }
    Json line = core::parse_json(*entry->line);
    if (!line.is_object()) {
      line = Json{{"status", entry->status.value_or("")}};
    }
    task->journaled = *entry->line;
    task->waiter->complete(std::move(line));
    return true;
  }
  case core::ResumeAction::await:
    break;
  case core::ResumeAction::await_unknown: {
    {
      std::lock_guard lock(m_mutex);
      m_any_accepted = true;
    }
    task->unknown_outcome = true;
    await_unknown(task,
                  "its submit's outcome was unknown in an earlier run (not submitted again; "
                  "--resubmit-unfinished would)");
    return true;
  }
  }
  // Submitted by an earlier run: it may have ended while no one listened.
  const std::string task_id = *entry->task_id;
  task->submitted = Clock::now(); // its wait starts again here
  {
    std::lock_guard lock(m_mutex);
    m_any_accepted = true;
    task->task_id = task_id;
    m_task_owners.emplace(task_id, task->job.where);
  }
  if (auto payload =
          fetch_final_result(m_service, task_id, task->job.endpoint, m_stop.get_token())) {
    task->waiter->complete(std::move(*payload));
    return true;
  }
  core::log_info(fmt::format(
      "{}: task {} from an earlier run: waiting for its callback", task->job.where, task_id));
  await_callback(task, task_id);
  return true;
}

void Engine::check_at_deadline(const std::shared_ptr<Task>& task) {
  std::optional<std::string> task_id;
  {
    std::lock_guard lock(m_mutex);
    task_id = task->task_id;
  }
  if (task->unknown_outcome && !task_id) {
    // Nothing to ask the service about: reported, not guessed.
    if (!m_stop.stop_requested()) {
      fail(*task,
           core::status::submit_failed,
           fmt::format("{}; no callback came within {:g} s: the task may have run (a rerun with "
                       "--state waits for it again; --resubmit-unfinished submits it again)",
                       task->unknown_error,
                       std::chrono::duration<double>(task->job.timeout).count()));
    }
    return;
  }
  if (task->waiter->done()) {
    return;
  }
  StatusCheck check =
      task_id ? check_status(m_service, *task_id, m_stop.get_token()) : StatusCheck{};
  note_started(*task, check);
  if (m_stop.stop_requested()) {
    return; // a check cut short by a signal proves nothing: the task is interrupted, not late
  }
  const auto elapsed = std::chrono::duration<double>(Clock::now() - task->submitted).count();
  if (!check.answered || !task_id) {
    // No status API (a local worker), or it cannot be asked: the deadline is all there is.
    task->waiter->complete(
        core::failure_line(core::status::timeout,
                           fmt::format("no callback within {:g} s",
                                       std::chrono::duration<double>(task->job.timeout).count()),
                           task->job.params,
                           task_id));
    return;
  }
  const core::WaitLimits limits = limits_of(task->job, m_config);
  core::WaitDecision d = core::decide_after_check(check.state,
                                                  limits,
                                                  task->submitted,
                                                  Clock::now(),
                                                  std::chrono::system_clock::now(),
                                                  ++task->checks);
  switch (d.action) {
  case core::WaitDecision::Action::fetch:
    if (recover(task, *task_id, "its deadline")) {
      return;
    }
    // Ended, but its result cannot be fetched yet: ask again (within --max-wait).
    if (Clock::now() < task->submitted + limits.max_wait) {
      rearm(task,
            std::min(task->submitted + limits.max_wait,
                     Clock::now() + core::recheck_backoff(limits.timeout, task->checks)));
      return;
    }
    d.reason = fmt::format("the service says {}, but its result could not be fetched within "
                           "--max-wait {:g} s",
                           check.state.status,
                           std::chrono::duration<double>(limits.max_wait).count());
    break;
  case core::WaitDecision::Action::recheck:
    core::log_debug(
        fmt::format("{}: task {} is {} after {:.1f} s: asking again in {:.1f} s",
                    task->job.where,
                    *task_id,
                    check.state.status.empty() ? "of unknown status" : check.state.status,
                    elapsed,
                    std::chrono::duration<double>(d.when - Clock::now()).count()));
    rearm(task, d.when);
    return;
  case core::WaitDecision::Action::timeout:
    break;
  }
  task->waiter->complete(
      core::failure_line(core::status::timeout, d.reason, task->job.params, task_id));
}

bool Engine::recover(const std::shared_ptr<Task>& task,
                     const std::string& task_id,
                     const std::string& why,
                     bool asked) {
  auto payload = fetch_result(m_service, task_id, task->job.endpoint);
  if (!payload) {
    return false;
  }
  task->recovered = true; // read only once the waiter completed (never if it did already)
  if (task->waiter->complete(std::move(*payload))) {
    if (asked) {
      // Asked for (--poll): news, not a problem.
      core::log_info(fmt::format("{}: task {} ended ({} after {:.1f} s): result fetched",
                                 task->job.where,
                                 task_id,
                                 why,
                                 seconds(Clock::now() - task->submitted)));
    } else {
      core::log_warning(fmt::format("{}: no callback for task {} after {:.1f} s ({}), but the "
                                    "service says it ended: result fetched",
                                    task->job.where,
                                    task_id,
                                    seconds(Clock::now() - task->submitted),
                                    why));
    }
  }
  return true;
}

// --- coordinating --------------------------------------------------------------------------

void Engine::start_item(const std::shared_ptr<Item>& item) {
  m_items_open.push_back(item);
  item->plan = m_planner.plan(item->input, item->key);
  schedule(item);
  if (item->plan->done()) {
    release_place(*item); // done as it starts (passed on, invalid)
  }
}

void Engine::release_place(Item& item) {
  {
    std::lock_guard lock(m_mutex);
    if (!item.holds_place) {
      return;
    }
    item.holds_place = false;
    --m_active;
  }
  m_reader_cv.notify_one();
}

void Engine::schedule(const std::shared_ptr<Item>& item) {
  std::vector<std::shared_ptr<Task>> tasks;
  for (Job& job : item->plan->take_ready()) {
    auto task = std::make_shared<Task>();
    task->item = item;
    task->job = std::move(job);
    std::weak_ptr<Task> weak = task;
    task->waiter = std::make_shared<core::Waiter>([this, weak] {
      if (auto t = weak.lock()) {
        std::lock_guard lock(m_mutex);
        m_completed.push_back(std::move(t));
        m_coord_cv.notify_one();
      }
    });
    item->tasks.push_back(task);
    tasks.push_back(std::move(task));
  }
  if (tasks.empty()) {
    return;
  }
  {
    std::lock_guard lock(m_mutex);
    for (auto& task : tasks) {
      m_dispatch.push_back(std::move(task));
    }
  }
  if (tasks.size() == 1) {
    m_cv.notify_one();
  } else {
    m_cv.notify_all();
  }
}

void Engine::finish_task(const std::shared_ptr<Task>& task) {
  std::optional<std::string> task_id;
  bool taken = false;
  if (m_config.finish_line && !task->post_done && !task->journaled && task->waiter->done() &&
      !m_stop.stop_requested()) {
    // First through finish_line on a submitter; the task comes back to this thread after.
    task->post_done = true;
    task->held = task->waiter->take();
    std::lock_guard lock(m_mutex);
    if (!task->finished) {
      m_post.push_back(task);
      m_cv.notify_one();
      return;
    }
  }
  {
    std::lock_guard lock(m_mutex);
    if (task->finished) {
      return;
    }
    task->finished = true;
    taken = task->taken;
    if (taken) {
      --m_in_flight;
    } else {
      std::erase(m_dispatch, task); // ended before a submitter took it (interrupted)
    }
    if (task->deadline) {
      m_deadlines.erase(*task->deadline);
      task->deadline.reset();
    }
    task_id = task->task_id;
    Item& owner = *task->item;
    if (task->sent_wall && (!owner.submitted_wall || *task->sent_wall < *owner.submitted_wall)) {
      owner.submitted_wall = task->sent_wall;
    }
    if (task->started_at) {
      owner.started_at = task->started_at;
    }
  }
  m_cv.notify_one(); // one submitter may take the freed place
  Item& item = *task->item;
  item.result_at = task->waiter->completed_at();
  Json result = task->held ? std::move(*task->held) : task->waiter->take();
  task->held.reset();
  if (task_id && task->submitted != Clock::time_point{} && !task->recovered &&
      core::is_terminal_status(core::line_status(result))) {
    std::lock_guard lock(m_mutex);
    // What the run's tasks take, to tell a straggler (recovered ones say nothing of it).
    ++m_callbacks;
    m_peers.record(
        std::chrono::duration_cast<std::chrono::milliseconds>(item.result_at - task->submitted));
  }
  if (task->unknown_outcome && !task_id && result.is_object()) {
    // Its callback came (by its URL or by content): the outcome is known now.
    if (auto it = result.find("task_id"); it != result.end() && it->is_string()) {
      task_id = it->get<std::string>();
      task->unknown_outcome = false;
    }
  }
  if (!task->content.empty()) {
    m_tracker.unbind_content(task->content, task->waiter);
  }
  // A task that ended without its result (interrupted, or an unknown outcome at its deadline)
  // is not retired: its late callback is kept for the journal, or once the run stops refused,
  // so that its sender redelivers it to the next run.
  const bool without_result =
      task->unknown_outcome || core::line_status(result) == core::status::interrupted;
  const std::optional<std::string> route =
      !m_config.token.empty() ? std::optional<std::string>(task->job.key) : task_id;
  if (route) {
    if (without_result) {
      m_tracker.unbind(*route);
    } else {
      m_tracker.retire(*route);
    }
  }
  std::erase(item.tasks, task);
  const std::string* journaled = task->journaled ? &*task->journaled : nullptr;
  if (task_id) {
    item.task_id = *task_id;
  }
  if (!journaled) {
    item.ran = true;
    item.plan->finish_result(task->job, result);
    const std::string status = core::line_status(result);
    if (taken) {
      count_for_halt(status);
    }
    if (m_config.journal && taken && status != core::status::skipped) {
      const std::string text = core::dump_line(result);
      if (journal([&](core::Journal& j) {
            j.finished(task->job.key, status, text, task_id, task->unknown_outcome);
          })) {
        core::crash_point("after_result"); // tests: the result journaled, its line not printed
      } else if (status != core::status::interrupted) {
        // What is printed is journaled: a result the journal lacks is recovered by a rerun.
        result = core::failure_line(
            core::status::interrupted,
            fmt::format("its result ({}) could not be journaled: {}; a rerun with --state "
                        "recovers it",
                        status,
                        write_failure()),
            task->job.params,
            task_id);
      }
    }
  }
  if (item.printed) {
    return;
  }
  item.plan->complete(task->job, std::move(result), journaled);
  purge_dispatch(item);
  schedule(task->item);
  if (!item.ran && item.plan->done()) {
    // Reprinted from the journal: its bytes are in memory already; its turn in input order
    // needs no place of the `parallel` ones.
    release_place(item);
  }
}

void Engine::purge_dispatch(Item& item) {
  // Once the item stopped, its jobs not yet taken by a submitter are not submitted (but those
  // of failure handlers are).
  std::vector<std::shared_ptr<Task>> purged;
  {
    std::lock_guard lock(m_mutex);
    for (auto it = m_dispatch.begin(); it != m_dispatch.end();) {
      if ((*it)->item.get() == &item && !item.plan->wants((*it)->job)) {
        (*it)->finished = true;
        purged.push_back(std::move(*it));
        it = m_dispatch.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& task : purged) {
    std::erase(item.tasks, task);
    item.plan->complete(task->job, item.plan->skipped_result(), nullptr);
  }
}

void Engine::print_ready() {
  auto done = [](const Item& item) { return item.plan->done(); };
  if (m_config.unordered) {
    for (auto it = m_items_open.begin(); it != m_items_open.end();) {
      if (done(**it)) {
        print(**it);
        it = m_items_open.erase(it);
      } else {
        ++it;
      }
    }
    return;
  }
  while (!m_items_open.empty() && done(*m_items_open.front())) {
    print(*m_items_open.front());
    m_items_open.pop_front();
  }
}

void Engine::count_for_halt(const std::string& status) {
  if (!m_config.halt.active() || status == core::status::skipped ||
      status == core::status::interrupted) {
    return; // not ended: neither a success nor a failure of the automation
  }
  ++m_tasks_ended;
  m_tasks_failed += status == core::status::success ? 0 : 1;
  if (auto reason = m_config.halt.reason(m_tasks_failed, m_tasks_ended)) {
    halt(*reason);
  }
}

void Engine::halt(const std::string& reason) {
  size_t in_flight = 0;
  {
    std::lock_guard lock(m_mutex);
    if (m_halt || m_draining) {
      return; // halted already, or a signal stops the run
    }
    m_halt = reason;
    m_draining = true;
    in_flight = m_in_flight;
  }
  const char* unit = m_planner.unit() == std::string("input") ? "task" : m_planner.unit();
  if (m_config.halt.when == core::HaltPolicy::When::now) {
    core::log_warning(fmt::format("{}: no new submits, and stopping now: {} {}{} in flight run on "
                                  "at the service (their lines say interrupted, with their task "
                                  "ids)",
                                  reason,
                                  in_flight,
                                  unit,
                                  in_flight == 1 ? "" : "s"));
    stop_now();
    return;
  }
  core::log_warning(in_flight == 0
                        ? fmt::format("{}: no new submits", reason)
                        : fmt::format("{}: no new submits; waiting for the {} {}{} in flight",
                                      reason,
                                      in_flight,
                                      unit,
                                      in_flight == 1 ? "" : "s"));
  notify_everyone();
}

void Engine::write_joblog(const Item& item, const ItemLine& line) {
  if (!m_config.joblog || m_joblog_failed || line.origin == ItemLine::Origin::journaled) {
    return; // a line reprinted from the journal is in the job log of the run that ran it
  }
  const auto now = std::chrono::system_clock::now();
  core::JoblogEntry entry;
  entry.seq = item.index + 1;
  entry.source = item.input.where;
  entry.task_id = item.task_id;
  entry.status = line.status;
  if (item.submitted_wall) {
    entry.submitted = core::utc_iso(*item.submitted_wall);
    entry.seconds = std::chrono::duration<double>(now - *item.submitted_wall).count();
  }
  if (item.started_at) {
    entry.started = core::utc_iso(*item.started_at);
  }
  entry.ended = core::utc_iso(now);
  entry.error = line.error;
  try {
    m_config.joblog->write(entry);
  } catch (const core::Error& e) {
    m_joblog_failed = true;
    on_write_failure(e.what());
  }
}

void Engine::print(Item& item) {
  ItemLine line = item.plan->line();
  item.printed = true;
  if (m_config.tag && line.text.size() >= 2 && line.text.front() == '{') {
    // --tag: "source" first, without parsing the line again (it may hold megabytes).
    line.text.insert(1,
                     "\"source\":" + core::dump_line(Json(item.input.where)) +
                         (line.text[1] == '}' ? "" : ","));
  }
  write_joblog(item, line);
  if (m_config.report) {
    auto epoch = [](std::chrono::system_clock::time_point t) {
      return std::chrono::duration<double>(t.time_since_epoch()).count();
    };
    std::optional<double> submitted;
    std::optional<double> ended;
    if (item.submitted_wall && line.origin == ItemLine::Origin::ran) {
      submitted = epoch(*item.submitted_wall);
      ended = epoch(std::chrono::system_clock::now());
    }
    m_config.report->add_line(line.text, item.input.where, submitted, ended);
  }
  if (!m_stdout_failed) {
    try {
      if (m_config.terminal_output) {
        size_t shortened = 0;
        line.text = core::shorten_for_terminal(line.text, shortened);
        if (shortened > 0 && !m_said_shortened) {
          m_said_shortened = true;
          core::log_info("long base64 values (inline screenshots) are shown as placeholders on "
                         "a terminal: --screenshots DIR saves them; a pipe or a file gets them "
                         "whole");
        }
      }
      m_out.write_line(line.text);
    } catch (const core::Error& e) {
      // Disk full, I/O error: stop; the journal (--state) keeps what is done for a rerun.
      m_stdout_failed = true;
      on_write_failure(e.what());
    }
  }
  const auto now = Clock::now();
  size_t printed = 0;
  {
    std::lock_guard lock(m_mutex); // the ticker reads the counts
    printed = ++m_printed;
    if (line.status == core::status::success && line.origin != ItemLine::Origin::passed_on) {
      ++m_succeeded; // a line passed on was not run here: the pipeline's end reports it
    }
  }
  if (m_config.stats && line.origin == ItemLine::Origin::ran &&
      core::is_terminal_status(line.status) && item.result_at != Clock::time_point{}) {
    m_latency.record(now - item.result_at);
  }
  // "failed: why", "failed (journaled earlier): why", "failed (passed on): why": the same
  // words on the task's line and in the summary.
  const char* origin = line.origin == ItemLine::Origin::journaled   ? "journaled earlier"
                       : line.origin == ItemLine::Origin::passed_on ? "passed on"
                                                                    : "";
  const std::string shown = core::colored_status(line.status) +
                            (*origin ? fmt::format(" ({})", origin) : std::string()) +
                            (line.error.empty() ? "" : ": " + line.error);
  {
    std::lock_guard lock(m_progress_mutex);
    m_progress.finished(line.status, now - item.started, item.input.where, line.error, now, origin);
  }
  core::log_info(fmt::format("[{}] {} {} ({:.2f} s)",
                             printed,
                             item.input.where,
                             shown,
                             std::chrono::duration<double>(now - item.started).count()));
  {
    std::lock_guard lock(m_mutex);
    --m_open;
  }
  release_place(item);
  m_reader_cv.notify_one();
}

std::pair<size_t, size_t> Engine::end_open_items(const std::string& running_status,
                                                 const std::string& why_running,
                                                 const std::string& unsent_status,
                                                 const std::string& why_unsent,
                                                 bool ran_is_sent) {
  // Nothing already done is lost: every open item is printed with the results it has; the rest
  // say why they ended (journaled tasks in flight resume on a rerun).
  std::deque<std::shared_ptr<Item>> pulled;
  {
    std::lock_guard lock(m_mutex);
    pulled.swap(m_new_items);
    m_completed.clear(); // their tasks are still in their items: finished below
    m_post.clear();
    m_checks.clear();
  }
  for (auto& item : pulled) {
    start_item(item);
  }
  if (!m_source.streaming()) {
    // Every input of a file gets its line, even those never read (this shard's, to --limit).
    while (auto input = m_source.next()) {
      auto item = make_item(std::move(*input));
      if (take(*item)) {
        start_item(item);
      }
    }
  }
  size_t running = 0;
  size_t unsent = 0;
  for (auto& item : m_items_open) {
    if (item->plan->done()) {
      continue;
    }
    bool sent = ran_is_sent && item->ran;
    {
      std::lock_guard lock(m_mutex);
      for (const auto& task : item->tasks) {
        sent = sent || task->sent;
      }
    }
    ++(sent ? running : unsent);
    const std::string& status = sent ? running_status : unsent_status;
    const std::string& why = sent ? why_running : why_unsent;
    item->plan->abandon(status, why);
    for (auto tasks = item->tasks; auto& task : tasks) {
      fail(*task, status, why); // unless it has its result
      finish_task(task);
    }
  }
  for (auto& item : m_items_open) {
    print(*item);
  }
  m_items_open.clear();
  return {running, unsent};
}

void Engine::finish_interrupted() {
  const int signo = m_signal.load();
  // Sent and still running on the service, or never sent: each says which.
  const std::string why_running =
      signo != 0
          ? fmt::format("{} before {}", core::signal_description(signo), m_planner.unfinished())
          : fmt::format("stopped before {}: {}", m_planner.unfinished(), write_failure());
  const std::string why_unsent = signo != 0 ? fmt::format("not submitted ({})",
                                                          signo == SIGTERM  ? "SIGTERM"
                                                          : signo == SIGHUP ? "SIGHUP"
                                                                            : "SIGINT")
                                            : fmt::format("not submitted: {}", write_failure());
  auto [running, unsent] = end_open_items(core::status::interrupted,
                                          why_running,
                                          core::status::interrupted,
                                          why_unsent,
                                          /*ran_is_sent=*/true);
  if (signo != 0 && running + unsent > 0) {
    // What was left, and how to go on: the tasks sent run on in the service.
    std::string left = fmt::format(
        "{} {}{} still running on the service", running, m_planner.unit(), running == 1 ? "" : "s");
    left += fmt::format(", {} not submitted", unsent);
    core::log_warning(fmt::format(
        "{}: {}; {}",
        core::signal_description(signo),
        left,
        m_config.journal ? "rerun the same command to resume: --state picks up the tasks still "
                           "running and submits the others"
                         : "--state FILE lets a rerun resume what a stop leaves, and --grace "
                           "SECONDS lets tasks in flight end before a signal stops the run"));
  }
}

void Engine::finish_halted() {
  std::string reason;
  {
    std::lock_guard lock(m_mutex);
    reason = *m_halt;
  }
  auto [running, unsent] =
      end_open_items(core::status::interrupted,
                     fmt::format("{}: stopped waiting (the task runs on at the service)", reason),
                     core::status::skipped,
                     fmt::format("not submitted: {}", reason),
                     /*ran_is_sent=*/false);
  std::string left = fmt::format(
      "{} {}{} skipped (not submitted)", unsent, m_planner.unit(), unsent == 1 ? "" : "s");
  if (running > 0) {
    left += fmt::format(", {} still running on the service", running);
  }
  core::log_warning(fmt::format("halted ({}): {}; {}",
                                reason,
                                left,
                                m_config.journal
                                    ? "rerun the same command to submit the skipped ones "
                                      "(--retry-failed also runs the failed ones again)"
                                    : "with --state FILE, a rerun submits only what was skipped"));
}

void Engine::say_what_was_left() {
  if (m_config.shard.active()) {
    core::log_info(fmt::format("--shard {}: {} of the {} {}s read are this shard's (the "
                               "other shards run the other {})",
                               m_config.shard.text(),
                               m_taken + m_left,
                               m_pulled,
                               m_planner.unit(),
                               m_other_shards));
  }
  if (m_limit_reached && m_config.limit) {
    if (m_source.streaming()) {
      core::log_info(fmt::format("--limit {}: the rest of stdin was not read", *m_config.limit));
    } else {
      core::log_info(fmt::format("--limit {}: {} more {}{} left, not run",
                                 *m_config.limit,
                                 m_left,
                                 m_planner.unit(),
                                 m_left == 1 ? "" : "s"));
    }
  }
}

int Engine::exit_code() const {
  std::lock_guard lock(m_mutex);
  if (m_refusal || !m_refused_endpoints.empty()) {
    return core::to_int(core::ExitCode::refused);
  }
  return m_succeeded == m_printed ? 0 : core::to_int(core::ExitCode::task_failed);
}

// --- watching --------------------------------------------------------------------------------

void Engine::watch(std::stop_token stop) {
  // Optexity retries a callback for 5 minutes, then gives up; a worker crash sends none. When
  // nothing at all has arrived for a while, ask the service about the tasks in flight.
  const auto silence =
      std::max<std::chrono::milliseconds>(m_config.watchdog, std::chrono::milliseconds(100));
  Clock::time_point last_check = Clock::now();
  for (;;) {
    auto due = std::max(m_tracker.last_delivery(), last_check) + silence;
    auto now = Clock::now();
    if (now < due) {
      // Sleep until the silence could be long enough; a delivery meanwhile moves it on.
      if (!core::sleep_for(std::chrono::ceil<std::chrono::milliseconds>(due - now), stop)) {
        return;
      }
      continue;
    }
    last_check = now;
    std::vector<std::shared_ptr<Task>> in_flight; // oldest deadline (first submitted) first
    {
      std::lock_guard lock(m_mutex);
      for (auto& [deadline, task] : m_deadlines) {
        if (task->task_id && !task->waiter->done()) {
          in_flight.push_back(task);
        }
      }
    }
    // The ended ones among them: their callbacks are missing.
    std::vector<std::pair<std::shared_ptr<Task>, std::string>> ended;
    for (auto& task : in_flight) {
      if (stop.stop_requested()) {
        return;
      }
      std::string task_id;
      {
        std::lock_guard lock(m_mutex);
        task_id = *task->task_id;
      }
      StatusCheck check = check_status(m_paced, task_id, stop);
      note_started(*task, check);
      if (check.answered && core::is_terminal_status(check.state.status)) {
        ended.emplace_back(task, task_id);
      } else if (ended.empty()) {
        // The oldest still runs: a quiet period, not lost callbacks (stragglers among the
        // others are the chaser's). Checking all of thousands would take the pace from it.
        break;
      }
    }
    if (ended.empty() || stop.stop_requested()) {
      continue; // the tasks in flight still run: the silence is just a quiet period
    }
    // A task may have just ended, its callback on the way: give them a moment (woken at once
    // if the first comes) before calling the callbacks missing.
    if (ended.front().first->waiter->wait_until(Clock::now() + std::chrono::seconds(2), stop) ||
        stop.stop_requested()) {
      continue;
    }
    size_t arrived = 0;
    {
      std::lock_guard lock(m_mutex);
      arrived = m_callbacks;
    }
    const size_t missing = ended.size();
    core::log_warning(fmt::format(
        "no callback for {:g} s: {} of the {} task{} in flight ended at the service without "
        "{} callback reaching the listener ({} callback{} arrived in this run){}; fetching "
        "{} by status check{}",
        seconds(m_config.watchdog),
        missing,
        in_flight.size(),
        in_flight.size() == 1 ? "" : "s",
        missing == 1 ? "its" : "their",
        arrived,
        arrived == 1 ? "" : "s",
        arrived == 0 ? ": callbacks are not reaching the listener (check the callback URL)" : "",
        missing == 1 ? "its result" : "their results",
        missing == 1 ? "" : "s"));
    for (auto& [task, task_id] : ended) {
      if (stop.stop_requested()) {
        return;
      }
      recover(task, task_id, "the silence watchdog");
    }
  }
}

void Engine::chase(std::stop_token stop) {
  // Stragglers: a task whose callback is overdue compared with the run's finished tasks is
  // checked, then re-checked with backoff; with --poll, every task in flight is checked at
  // that interval. All through the paced status API.
  const bool polling = m_config.poll.count() > 0;
  while (core::sleep_for(k_chase_tick, stop)) {
    const auto now = Clock::now();
    std::optional<std::chrono::milliseconds> threshold;
    std::optional<std::chrono::milliseconds> p90;
    std::vector<std::pair<std::shared_ptr<Task>, std::string>> due;
    {
      std::lock_guard lock(m_mutex);
      threshold = m_peers.threshold(m_config.straggler_floor);
      p90 = m_peers.p90();
      for (auto& [deadline, task] : m_deadlines) {
        if (!task->task_id || task->waiter->done()) {
          continue;
        }
        // The first --poll check comes one interval after the submit.
        bool poll_due =
            polling && now >= std::max(task->next_poll, task->submitted + m_config.poll);
        bool straggling =
            threshold && now - task->submitted >= *threshold && now >= task->next_chase;
        if (poll_due || straggling) {
          due.emplace_back(task, *task->task_id);
        }
      }
    }
    for (auto& [task, task_id] : due) {
      if (stop.stop_requested()) {
        return;
      }
      const auto at = Clock::now();
      const bool straggling =
          threshold && at - task->submitted >= *threshold && at >= task->next_chase;
      StatusCheck check = check_status(m_paced, task_id, stop);
      note_started(*task, check);
      if (check.answered && core::is_terminal_status(check.state.status)) {
        const bool polled = !straggling;
        const std::string why =
            polled ? "a --poll check"
                   : fmt::format("a straggler: the run's other tasks took {:.1f} s at p90",
                                 seconds(p90.value_or(std::chrono::milliseconds(0))));
        if (recover(task, task_id, why, polled)) {
          continue;
        }
      }
      if (polling) {
        task->next_poll = Clock::now() + m_config.poll;
      }
      if (straggling) {
        // Checked again after the threshold, doubling: a long task costs a few checks.
        auto pause = *threshold * (1LL << std::min(task->chases, 10));
        task->next_chase = Clock::now() + pause;
        ++task->chases;
      }
    }
  }
}

void Engine::tick(std::stop_token stop) {
  show_progress(
      m_config.progress,
      m_progress,
      m_progress_mutex,
      [this](core::Progress& progress) {
        std::lock_guard lock(m_mutex);
        auto known = m_source.size();
        if (m_config.shard.active()) {
          known.reset(); // this shard's part is known once read
        } else if (known && m_config.limit) {
          known = std::min(*known, *m_config.limit);
        }
        // A stream: what was read so far (not the place taken for a line still to come).
        progress.set_total(known.value_or(m_printed + m_open - (m_reading ? 1 : 0)),
                           known.has_value());
        progress.set_in_flight(m_in_flight);
      },
      stop);
}

// --- the run -------------------------------------------------------------------------------

int Engine::execute() {
  if (m_config.resume) {
    // Callbacks an earlier run answered but could not match before it stopped.
    for (const auto& [route, body] : m_config.resume->callbacks) {
      core::handle_callback_body(m_tracker, route, body);
    }
  }
  const size_t threads = std::min<size_t>(static_cast<size_t>(std::max(1, m_config.parallel)), 64);
  std::jthread reader([this] { read_loop(); });
  std::vector<std::jthread> submitters;
  for (size_t i = 0; i < threads; ++i) {
    submitters.emplace_back([this] { submit_loop(); });
  }
  std::jthread watchdog([this](std::stop_token st) { watch(st); });
  std::jthread chaser([this](std::stop_token st) { chase(st); });
  std::jthread ticker([this](std::stop_token st) { tick(st); });
  int code = 0;
  try {
    for (;;) {
      std::deque<std::shared_ptr<Item>> items;
      std::deque<std::shared_ptr<Task>> completed;
      {
        std::unique_lock lock(m_mutex);
        auto ended = [&] {
          return (m_input_done && m_open == 0) || (m_draining && m_in_flight == 0);
        };
        auto wake = m_deadlines.empty() ? Clock::time_point::max() : m_deadlines.begin()->first;
        m_coord_cv.wait_until(lock, m_stop.get_token(), wake, [&] {
          // A deadline earlier than `wake` (a task just accepted) wakes the loop to wait less.
          return !m_new_items.empty() || !m_completed.empty() || ended() ||
                 (!m_deadlines.empty() && (m_deadlines.begin()->first <= Clock::now() ||
                                           m_deadlines.begin()->first < wake));
        });
        if (m_stop.stop_requested() || (ended() && m_new_items.empty() && m_completed.empty())) {
          break;
        }
        items.swap(m_new_items);
        completed.swap(m_completed);
        // Expired deadlines go to the submitters, which ask the service (never this thread).
        bool checks = false;
        while (!m_deadlines.empty() && m_deadlines.begin()->first <= Clock::now()) {
          auto task = m_deadlines.begin()->second;
          task->deadline.reset();
          m_deadlines.erase(m_deadlines.begin());
          m_checks.push_back(std::move(task));
          checks = true;
        }
        if (checks) {
          m_cv.notify_all();
        }
      }
      for (auto& item : items) {
        start_item(item);
      }
      for (auto& task : completed) {
        finish_task(task);
      }
      print_ready();
    }
    stop_now();
    reader.join();
    submitters.clear(); // joins
    bool write_failed = false;
    {
      std::lock_guard lock(m_mutex);
      write_failed = m_write_failure.has_value();
    }
    // From here, late callbacks of what ends unfinished go back to their sender (redelivered to
    // a rerun); those accepted and not matched are kept in the journal.
    close_listening();
    bool halted = false;
    {
      std::lock_guard lock(m_mutex);
      halted = m_halt.has_value();
    }
    if (int signo = m_signal.load(); signo != 0 || write_failed) {
      finish_interrupted();
      code = write_failed ? core::to_int(core::ExitCode::write_failed)
                          : core::to_int(core::signal_exit_code(signo));
    } else if (halted) {
      finish_halted();
      std::lock_guard lock(m_mutex);
      code = m_write_failure ? core::to_int(core::ExitCode::write_failed) : -1;
    } else {
      code = exit_code();
    }
    if (code == -1) {
      code = exit_code();
    }
  } catch (const core::StdoutClosed&) {
    // `| head -1`: stop submitting and leave quietly.
    code = core::to_int(core::ExitCode::stdout_closed);
  }
  stop_now();
  if (reader.joinable()) {
    reader.join();
  }
  submitters.clear();
  std::jthread grace_timer;
  {
    std::lock_guard lock(m_mutex);
    grace_timer = std::move(m_grace_timer);
  }
  if (grace_timer.joinable()) {
    grace_timer.request_stop();
    grace_timer.join();
  }
  watchdog.request_stop();
  watchdog.join();
  chaser.request_stop();
  chaser.join();
  ticker.request_stop();
  ticker.join();
  // Items and their tasks point at each other: an early end (| head) leaves some open.
  for (auto& item : m_items_open) {
    item->tasks.clear();
  }
  m_items_open.clear();
  {
    std::lock_guard lock(m_mutex);
    m_new_items.clear();
    m_dispatch.clear();
    m_checks.clear();
    m_post.clear();
    m_completed.clear();
    m_deadlines.clear();
  }
  const bool closed = code == core::to_int(core::ExitCode::stdout_closed);
  if (m_pulled == 0 && m_source.streaming() && m_signal.load() == 0 && !closed) {
    // An empty pipe looks like success: often the stage before this one failed.
    core::log_warning("no input arrived on stdin: nothing was run (if another command feeds this "
                      "one, did it fail? `set -o pipefail` makes a pipeline report it)");
  }
  if (!closed) {
    say_what_was_left();
  }
  if (m_config.summary && !closed) {
    print_summary(m_progress, m_progress_mutex);
  }
  if (m_config.stats && !closed) {
    core::log_always("stats: " + m_latency.summary());
  }
  return code;
}

} // namespace runner

#include "runner/flow_engine.h"

#include "core/api.h"
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

// One item on its way through the flow.
struct FlowEngine::Item {
  size_t index = 0;
  core::Input input;
  std::string key; // content hash + occurrence: names the item's jobs
  Clock::time_point started{};
  // Coordinator only:
  std::unique_ptr<core::ItemRun> run;       // null for an input that could not be read
  std::vector<std::shared_ptr<Task>> tasks; // handed out and not finished
  bool printed = false;
};

// One job of one item: a submit, then a wait on its waiter.
struct FlowEngine::Task {
  std::shared_ptr<Item> item;
  core::FlowJob job;
  std::string key; // names the job in a per-run callback URL and in the journal
  std::string endpoint;
  std::string step_id;
  std::chrono::milliseconds timeout{0};
  std::shared_ptr<core::Waiter> waiter;
  // Guarded by FlowEngine::m_mutex:
  std::optional<std::string> task_id;
  bool taken = false;    // a submitter has it (it counts as in flight)
  bool finished = false; // the coordinator has its result
  std::optional<std::multimap<Clock::time_point, std::shared_ptr<Task>>::iterator> deadline;
  // Written by the submitter before the waiter completes, read by the coordinator after:
  bool from_journal = false; // the result is a line journaled by an earlier run
  bool unknown_outcome = false;
};

FlowEngine::FlowEngine(const core::Flow& flow,
                       EngineConfig config,
                       core::InputSource& items,
                       core::Tracker& tracker,
                       net::Service& service)
    : m_flow(flow), m_config(std::move(config)), m_items(items), m_tracker(tracker),
      m_service(service) {
  m_progress.set_unit("item");
}

FlowEngine::~FlowEngine() = default;

Json build_flow_request(const core::FlowStep& step,
                        const core::FlowJob& job,
                        const EngineConfig& config,
                        const std::string& key) {
  core::RequestOptions ro;
  ro.endpoint = step.endpoint;
  ro.unique = step.unique;
  ro.priority = step.priority ? step.priority : config.request.priority;
  ro.max_timeout_minutes = config.request.max_timeout_minutes;
  Json request = core::build_inference_request(ro, job.params);
  if (job.secure.is_object() && !job.secure.empty()) {
    request["secure_parameters"] = job.secure;
  }
  add_callback_fields(request, config, key);
  return request;
}

Json FlowEngine::build_request(const core::FlowJob& job, const std::string& key) const {
  return build_flow_request(m_flow.steps[job.step], job, m_config, key);
}

void FlowEngine::interrupt(int signo) {
  int expected = 0;
  if (!m_signal.compare_exchange_strong(expected, signo)) {
    // A second signal: leave now (journaled work stays journaled).
    std::_Exit(core::to_int(core::signal_exit_code(signo)));
  }
  m_stop.request_stop();
  m_service.cancel_all();
  notify_everyone();
}

void FlowEngine::notify_everyone() {
  m_cv.notify_all();
  m_reader_cv.notify_all();
  m_coord_cv.notify_all();
}

std::shared_ptr<FlowEngine::Item> FlowEngine::make_item(core::Input input) {
  auto item = std::make_shared<Item>();
  item->input = std::move(input);
  item->index = m_pulled++;
  item->started = Clock::now();
  if (!item->input.secure.is_null() && !m_warned_item_secure) {
    m_warned_item_secure = true;
    core::log_warning(fmt::format("{}: the item's secure_parameters are not sent: in a flow, each "
                                  "step gives its own (\"secure_parameters\" in the flow file)",
                                  item->input.where));
  }
  if (item->input.error.empty()) {
    item->key = m_keys.next(
        core::content_hash("flow:" + m_flow.name, item->input.params, item->input.secure));
  }
  return item;
}

void FlowEngine::read_loop() {
  const auto parallel = static_cast<size_t>(std::max(1, m_config.parallel));
  for (;;) {
    {
      std::unique_lock lock(m_mutex);
      m_reader_cv.wait(lock, m_stop.get_token(), [&] { return m_open < parallel; });
      if (m_stop.stop_requested()) {
        return;
      }
      ++m_open;
    }
    std::optional<core::Input> input = m_items.next(m_stop.get_token());
    std::shared_ptr<Item> item = input ? make_item(std::move(*input)) : nullptr;
    std::lock_guard lock(m_mutex);
    if (!item) {
      --m_open;
      m_input_done = true;
      m_coord_cv.notify_one();
      return;
    }
    m_new_items.push_back(std::move(item));
    m_coord_cv.notify_one();
  }
}

void FlowEngine::submit_loop() {
  const auto parallel = static_cast<size_t>(std::max(1, m_config.parallel));
  for (;;) {
    std::shared_ptr<Task> task;
    {
      std::unique_lock lock(m_mutex);
      m_cv.wait(
          lock, m_stop.get_token(), [&] { return !m_dispatch.empty() && m_in_flight < parallel; });
      if (m_stop.stop_requested()) {
        return;
      }
      task = m_dispatch.front();
      m_dispatch.pop_front();
      task->taken = true;
      ++m_in_flight;
    }
    process(task);
  }
}

void FlowEngine::fail(Task& task, const std::string& status, const std::string& error) {
  std::optional<std::string> task_id;
  {
    std::lock_guard lock(m_mutex);
    task_id = task.task_id;
  }
  task.waiter->complete(core::failure_line(status, error, task.job.params, task_id));
}

void FlowEngine::await_callback(const std::shared_ptr<Task>& task, const std::string& task_id) {
  if (!m_config.token.empty()) {
    m_tracker.bind(task->key, task->waiter, task_id);
  } else {
    m_tracker.bind(task_id, task->waiter);
  }
  std::lock_guard lock(m_mutex);
  if (!task->finished && !task->waiter->done()) {
    task->deadline = m_deadlines.emplace(Clock::now() + task->timeout, task);
    m_coord_cv.notify_one();
  }
}

void FlowEngine::process(const std::shared_ptr<Task>& task) {
  if (m_config.resume && resume(task)) {
    return;
  }
  std::optional<std::string> refusal;
  {
    std::lock_guard lock(m_mutex);
    if (m_refusal) {
      refusal = m_refusal;
    } else if (auto it = m_refused_endpoints.find(task->endpoint);
               it != m_refused_endpoints.end()) {
      refusal = it->second;
    }
  }
  if (refusal) {
    fail(*task, core::status::submit_failed, *refusal);
    return;
  }
  net::SubmitResult result =
      m_service.submit(build_request(task->job, task->key), m_stop.get_token());
  if (result.kind == net::SubmitResult::Kind::accepted) {
    {
      std::lock_guard lock(m_mutex);
      m_any_accepted = true;
      task->task_id = result.task_id;
    }
    core::log_debug(fmt::format("{}: step {}: submitted as task {}",
                                task->item->input.where,
                                task->step_id,
                                result.task_id));
    if (m_config.journal) {
      m_config.journal->submitted(task->key, result.task_id);
    }
    core::crash_point("after_submit"); // tests: OPTEXITY_CRASH_AT=after_submit:N
    await_callback(task, result.task_id);
    return;
  }
  if (result.kind == net::SubmitResult::Kind::refused ||
      (result.unreachable && !m_stop.stop_requested())) {
    bool refused = result.kind == net::SubmitResult::Kind::refused;
    {
      std::lock_guard lock(m_mutex);
      refused = refused || !m_any_accepted;
    }
    if (refused) {
      on_refused(*task, result);
      return;
    }
  }
  if (!m_config.token.empty()) {
    // The URL names the job: a result may have arrived although the answer was lost.
    if (auto payload = m_tracker.take_buffered(task->key)) {
      task->waiter->complete(std::move(*payload));
      return;
    }
  }
  task->unknown_outcome = result.unknown_outcome;
  fail(*task,
       m_stop.stop_requested() && result.http_status == 0 ? core::status::interrupted
                                                          : core::status::submit_failed,
       result.error);
}

void FlowEngine::on_refused(Task& task, const net::SubmitResult& result) {
  // A 404 concerns one endpoint (one step); a bad key or no network concerns every step.
  const bool one_endpoint = result.http_status == 404;
  std::string text;
  bool first = false;
  {
    std::lock_guard lock(m_mutex);
    std::optional<std::string>* slot = nullptr;
    if (one_endpoint) {
      auto [it, fresh] = m_refused_endpoints.emplace(
          task.endpoint,
          fmt::format("the service refused endpoint \"{}\": {}", task.endpoint, result.error));
      first = fresh;
      text = it->second;
    } else {
      slot = &m_refusal;
      if (!*slot) {
        *slot =
            (result.unreachable ? "cannot reach the service: " : "the service refused the run: ") +
            result.error;
        first = true;
      }
      text = **slot;
    }
  }
  if (first) {
    core::log_error(text +
                    (result.unreachable ? " (check --api-url, the network and DNS)"
                     : one_endpoint
                         ? fmt::format(" (is the endpoint of step \"{}\" right?)", task.step_id)
                         : " (check --api-key, --api-key-file or OPTEXITY_API_KEY)"));
  }
  fail(task, core::status::submit_failed, text);
}

bool FlowEngine::resume(const std::shared_ptr<Task>& task) {
  auto it = m_config.resume->entries.find(task->key);
  const core::JournalEntry* entry = it == m_config.resume->entries.end() ? nullptr : &it->second;
  switch (core::resume_action(entry, m_config.retry_failed, m_config.resubmit_unfinished)) {
  case core::ResumeAction::submit:
    return false;
  case core::ResumeAction::reprint: {
    Json line = entry->line ? core::parse_json(*entry->line) : Json();
    if (!line.is_object()) {
      return false;
    }
    task->from_journal = true;
    task->waiter->complete(std::move(line));
    return true;
  }
  case core::ResumeAction::await:
    break;
  }
  // Submitted by an earlier run: it may have ended while no one listened.
  const std::string task_id = *entry->task_id;
  {
    std::lock_guard lock(m_mutex);
    m_any_accepted = true;
    task->task_id = task_id;
  }
  if (auto payload = fetch_final_result(m_service, task_id, task->endpoint, m_stop.get_token())) {
    task->waiter->complete(std::move(*payload));
    return true;
  }
  core::log_info(fmt::format("{}: step {}: task {} from an earlier run: waiting for its callback",
                             task->item->input.where,
                             task->step_id,
                             task_id));
  await_callback(task, task_id);
  return true;
}

void FlowEngine::start_item(const std::shared_ptr<Item>& item) {
  m_items_open.push_back(item);
  if (item->input.error.empty()) {
    item->run = std::make_unique<core::ItemRun>(m_flow, item->input.params);
    schedule(item);
  }
}

void FlowEngine::schedule(const std::shared_ptr<Item>& item) {
  std::vector<std::shared_ptr<Task>> tasks;
  for (core::FlowJob& job : item->run->take_ready()) {
    const core::FlowStep& step = m_flow.steps[job.step];
    auto task = std::make_shared<Task>();
    task->item = item;
    task->endpoint = step.endpoint;
    task->step_id = step.id;
    task->timeout = step.timeout.value_or(m_config.timeout);
    // Item, step content, element and attempt: a rerun finds the same key for the same job.
    task->key = fmt::format(
        "{}-{}-{}-{}",
        item->key,
        core::content_hash(step.id + "/" + step.endpoint, job.params, job.secure).substr(0, 16),
        job.element,
        job.attempt);
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
  m_cv.notify_all();
}

void FlowEngine::finish_task(const std::shared_ptr<Task>& task) {
  std::optional<std::string> task_id;
  bool taken = false;
  {
    std::lock_guard lock(m_mutex);
    if (task->finished) {
      return;
    }
    task->finished = true;
    taken = task->taken;
    if (taken) {
      --m_in_flight;
    }
    if (task->deadline) {
      m_deadlines.erase(*task->deadline);
      task->deadline.reset();
    }
    task_id = task->task_id;
  }
  m_cv.notify_one(); // one submitter may take the freed place
  if (!m_config.token.empty()) {
    m_tracker.retire(task->key);
  } else if (task_id) {
    m_tracker.retire(*task_id);
  }
  Json result = task->waiter->take();
  Item& item = *task->item;
  std::erase(item.tasks, task);
  const std::string status = core::line_status(result);
  if (!task->from_journal && result.is_object()) {
    // As in `run`: the payload as received plus the input_parameters submitted.
    result["input"] = task->job.params;
    if (m_config.finish_line && core::is_terminal_status(status)) {
      m_config.finish_line(result);
    }
    if (m_config.journal && taken && status != "skipped") {
      m_config.journal->finished(
          task->key, status, core::dump_line(result), task_id, task->unknown_outcome);
    }
  }
  if (item.printed || !item.run) {
    return;
  }
  item.run->complete(task->job, std::move(result));
  purge_dispatch(item);
  schedule(task->item);
}

void FlowEngine::purge_dispatch(Item& item) {
  // Once the item stopped, its jobs not yet taken by a submitter are not submitted (but those
  // of failure handlers are).
  std::vector<std::shared_ptr<Task>> purged;
  {
    std::lock_guard lock(m_mutex);
    for (auto it = m_dispatch.begin(); it != m_dispatch.end();) {
      if ((*it)->item.get() == &item && !item.run->wants((*it)->job)) {
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
    item.run->complete(task->job, item.run->skipped_result());
  }
}

void FlowEngine::expire(Task& task) {
  std::optional<std::string> task_id;
  {
    std::lock_guard lock(m_mutex);
    task_id = task.task_id;
  }
  complete_at_deadline(*task.waiter,
                       m_service,
                       task_id,
                       task.endpoint,
                       fmt::format("{}: step {}", task.item->input.where, task.step_id),
                       task.timeout,
                       task.job.params,
                       m_stop.get_token());
}

void FlowEngine::print_ready() {
  auto done = [](const Item& item) { return !item.run || item.run->done(); };
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

void FlowEngine::print(Item& item) {
  Json line;
  if (item.run) {
    line = item.run->line();
  } else {
    line = Json{{"status", core::status::invalid_input},
                {"error", item.input.error},
                {"item", nullptr},
                {"steps", Json::object()}};
  }
  item.printed = true;
  m_out.write_line(core::dump_line(line));
  const std::string status = core::line_status(line);
  const std::string error =
      line.contains("error") && line["error"].is_string() ? line["error"].get<std::string>() : "";
  {
    std::lock_guard lock(m_mutex); // the ticker reads the count
    ++m_printed;
    if (status == core::status::success) {
      ++m_succeeded;
    }
  }
  {
    std::lock_guard lock(m_progress_mutex);
    m_progress.finished(status, Clock::now() - item.started, item.input.where, error, Clock::now());
  }
  core::log_info(fmt::format("[{}] {} {}{} ({:.2f} s)",
                             m_printed,
                             item.input.where,
                             core::colored_status(status),
                             error.empty() ? "" : ": " + error,
                             std::chrono::duration<double>(Clock::now() - item.started).count()));
  {
    std::lock_guard lock(m_mutex);
    --m_open;
  }
  m_reader_cv.notify_one();
}

void FlowEngine::finish_interrupted() {
  // Nothing already done is lost: every open item is printed with the results its steps have;
  // the rest of its steps say interrupted (journaled tasks in flight resume on a rerun).
  std::deque<std::shared_ptr<Item>> pulled;
  {
    std::lock_guard lock(m_mutex);
    pulled.swap(m_new_items);
    m_completed.clear();
  }
  for (auto& item : pulled) {
    start_item(item);
  }
  if (!m_items.streaming()) {
    // Every item of a file gets its line, even those never pulled.
    while (auto input = m_items.next()) {
      start_item(make_item(std::move(*input)));
    }
  }
  const char* why = m_signal.load() == SIGTERM ? "terminated (SIGTERM) before the step ended"
                                               : "interrupted (SIGINT) before the step ended";
  for (auto& item : m_items_open) {
    if (!item->run) {
      continue;
    }
    item->run->abandon(core::status::interrupted, why);
    for (auto tasks = item->tasks; auto& task : tasks) {
      std::optional<std::string> task_id;
      {
        std::lock_guard lock(m_mutex);
        task_id = task->task_id;
      }
      task->waiter->complete(
          core::failure_line(core::status::interrupted, why, task->job.params, task_id));
      finish_task(task);
    }
  }
  for (auto& item : m_items_open) {
    print(*item);
  }
  m_items_open.clear();
}

int FlowEngine::exit_code() const {
  std::lock_guard lock(m_mutex);
  if (m_refusal || !m_refused_endpoints.empty()) {
    return core::to_int(core::ExitCode::refused);
  }
  return m_succeeded == m_printed ? 0 : core::to_int(core::ExitCode::task_failed);
}

int FlowEngine::execute() {
  const size_t threads = std::min<size_t>(static_cast<size_t>(std::max(1, m_config.parallel)), 64);
  std::jthread reader([this] { read_loop(); });
  std::vector<std::jthread> submitters;
  for (size_t i = 0; i < threads; ++i) {
    submitters.emplace_back([this] { submit_loop(); });
  }
  std::jthread ticker([this](std::stop_token st) {
    show_progress(
        m_config.progress,
        m_progress,
        m_progress_mutex,
        [this](core::Progress& progress) {
          std::lock_guard lock(m_mutex);
          auto known = m_items.size();
          progress.set_total(known.value_or(m_printed + m_open), known.has_value());
          progress.set_in_flight(m_in_flight);
        },
        st);
  });
  int code = 0;
  try {
    for (;;) {
      std::deque<std::shared_ptr<Item>> items;
      std::deque<std::shared_ptr<Task>> completed;
      std::vector<std::shared_ptr<Task>> expired;
      {
        std::unique_lock lock(m_mutex);
        auto wake = m_deadlines.empty() ? Clock::time_point::max() : m_deadlines.begin()->first;
        m_coord_cv.wait_until(lock, m_stop.get_token(), wake, [&] {
          // A deadline earlier than `wake` (a task just accepted) wakes the loop to wait less.
          return !m_new_items.empty() || !m_completed.empty() || (m_input_done && m_open == 0) ||
                 (!m_deadlines.empty() && (m_deadlines.begin()->first <= Clock::now() ||
                                           m_deadlines.begin()->first < wake));
        });
        if (m_stop.stop_requested() ||
            (m_input_done && m_open == 0 && m_new_items.empty() && m_completed.empty())) {
          break;
        }
        items.swap(m_new_items);
        completed.swap(m_completed);
        while (!m_deadlines.empty() && m_deadlines.begin()->first <= Clock::now()) {
          auto task = m_deadlines.begin()->second;
          task->deadline.reset();
          m_deadlines.erase(m_deadlines.begin());
          expired.push_back(std::move(task));
        }
      }
      for (auto& item : items) {
        start_item(item);
      }
      for (auto& task : completed) {
        finish_task(task);
      }
      for (auto& task : expired) {
        expire(*task); // completes the waiter, whose hook queues the task
      }
      print_ready();
    }
    m_stop.request_stop();
    m_service.cancel_all();
    notify_everyone();
    reader.join();
    submitters.clear(); // joins
    if (int signo = m_signal.load(); signo != 0) {
      finish_interrupted();
      code = core::to_int(core::signal_exit_code(signo));
    } else {
      code = exit_code();
    }
  } catch (const core::StdoutClosed&) {
    code = core::to_int(core::ExitCode::stdout_closed);
  }
  m_stop.request_stop();
  m_service.cancel_all();
  notify_everyone();
  if (reader.joinable()) {
    reader.join();
  }
  submitters.clear();
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
    m_completed.clear();
    m_deadlines.clear();
  }
  if (m_config.summary && code != core::to_int(core::ExitCode::stdout_closed)) {
    print_summary(m_progress, m_progress_mutex);
  }
  return code;
}

} // namespace runner

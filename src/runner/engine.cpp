#include "runner/engine.h"

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
#include <thread>
#include <vector>

namespace runner {

using core::Clock;
using core::Json;

// One input on its way through the run.
struct Engine::Slot {
  size_t index = 0;
  core::Input input;
  std::string key; // content hash + occurrence: names the input in per-run callback URLs
  std::shared_ptr<core::Waiter> waiter;
  std::optional<std::string> task_id; // guarded by Engine::m_mutex
  Clock::time_point started{};
  bool printed = false;
  std::optional<std::string> verbatim; // a journaled final line, printed again byte for byte
  bool unknown_outcome = false;        // submit_failed after the request was sent
  std::optional<Deadlines::iterator> deadline; // unordered: its entry in m_deadlines
};

Engine::Engine(EngineConfig config,
               core::InputSource& source,
               core::Tracker& tracker,
               net::Service& client)
    : m_config(std::move(config)), m_source(source), m_tracker(tracker), m_client(client) {}

Engine::~Engine() = default;

Json Engine::build_request(const core::Input& input, const std::string& key) const {
  Json params = input.params;
  for (const auto& [name, value] : m_config.set_params.items()) {
    params[name] = value;
  }
  Json request = core::build_inference_request(m_config.request, params);
  Json secure = input.secure;
  if (m_config.secure_params.is_object()) {
    if (!secure.is_object()) {
      secure = Json::object();
    }
    for (const auto& [name, value] : m_config.secure_params.items()) {
      if (!secure.contains(name)) {
        secure[name] = value;
      }
    }
  }
  if (secure.is_object() && !secure.empty()) {
    request["secure_parameters"] = secure;
  }
  add_callback_fields(request, m_config, key);
  return request;
}

void add_callback_fields(Json& request, const EngineConfig& config, const std::string& key) {
  if (!config.token.empty()) {
    request["task_callback_url"] =
        config.callback_base + core::callback_suffix(config.callback_path, config.token, key);
  }
  if (!config.callback_key.empty()) {
    request["task_callback_api_key"] = config.callback_key;
  }
}

void Engine::interrupt(int signo) {
  int expected = 0;
  if (!m_signal.compare_exchange_strong(expected, signo)) {
    // A second signal: the user insists; leave now (journaled work stays journaled).
    // A second signal: the user insists; leave now.
    std::_Exit(core::to_int(core::signal_exit_code(signo)));
  }
  if (m_config.grace.count() > 0) {
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
    return;
  }
  stop_now();
}

void Engine::notify_everyone() {
  m_cv.notify_all();
  m_writer_cv.notify_all();
}

void Engine::stop_now() {
  m_stop.request_stop();
  m_client.cancel_all();
  notify_everyone();
}

std::shared_ptr<Engine::Slot> Engine::pull_next_slot() {
  std::lock_guard read_lock(m_read_mutex);
  {
    std::lock_guard lock(m_mutex);
    // After a refusal, a stream stops being read; a file's inputs each still get their line.
    if (m_input_done || m_draining || m_stop.stop_requested() ||
        (m_refusal && m_source.streaming())) {
      m_input_done = true;
      notify_everyone();
      return nullptr;
    }
  }
  std::optional<core::Input> input = m_source.next(m_stop.get_token());
  auto slot = std::make_shared<Slot>();
  if (input) {
    slot->input = std::move(*input);
    if (slot->input.error.empty()) {
      // The line shows what was submitted: the input's parameters with --set ones.
      for (const auto& [name, value] : m_config.set_params.items()) {
        slot->input.params[name] = value;
      }
      slot->key = m_keys.next(
          core::content_hash(m_config.request.endpoint, slot->input.params, slot->input.secure));
    }
    if (m_config.on_input) {
      m_config.on_input(slot->input);
    }
  }
  std::lock_guard lock(m_mutex);
  if (!input || m_stop.stop_requested()) {
    m_input_done = true;
    notify_everyone();
    if (!input) {
      return nullptr;
    }
  }
  slot->index = m_first_index + m_slots.size();
  if (m_config.unordered) {
    std::weak_ptr<Slot> weak = slot;
    slot->waiter = std::make_shared<core::Waiter>([this, weak] {
      if (auto s = weak.lock()) {
        std::lock_guard inner(m_mutex);
        m_finished.push_back(s);
        m_writer_cv.notify_one();
      }
    });
  } else {
    slot->waiter = std::make_shared<core::Waiter>();
  }
  m_slots.push_back(slot);
  m_writer_cv.notify_one();
  return slot;
}

void Engine::submit_loop() {
  const auto parallel = static_cast<size_t>(std::max(1, m_config.parallel));
  for (;;) {
    {
      std::unique_lock lock(m_mutex);
      m_cv.wait(lock, m_stop.get_token(), [&] { return m_input_done || m_in_flight < parallel; });
      if (m_input_done || m_stop.stop_requested()) {
        return;
      }
      ++m_in_flight;
    }
    std::shared_ptr<Slot> slot = pull_next_slot();
    if (!slot) {
      std::lock_guard lock(m_mutex);
      --m_in_flight;
      notify_everyone();
      return;
    }
    process(*slot);
  }
}

void Engine::process(Slot& slot) {
  slot.started = Clock::now();
  if (!slot.input.passthrough.is_null()) {
    slot.waiter->complete(slot.input.passthrough); // printed as it came
    return;
  }
  if (!slot.input.error.empty()) {
    slot.waiter->complete(
        core::failure_line(core::status::invalid_input, slot.input.error, nullptr));
    return;
  }
  if (m_config.resume && resume(slot)) {
    return;
  }
  {
    std::lock_guard lock(m_mutex);
    if (m_refusal) {
      slot.waiter->complete(
          core::failure_line(core::status::submit_failed, *m_refusal, slot.input.params));
      return;
    }
  }
  net::SubmitResult result =
      m_client.submit(build_request(slot.input, slot.key), m_stop.get_token());
  const bool key_mode = !m_config.token.empty();
  if (result.kind == net::SubmitResult::Kind::accepted) {
    {
      std::lock_guard lock(m_mutex);
      m_any_accepted = true;
      slot.task_id = result.task_id;
    }
    core::log_debug(fmt::format("{}: submitted as task {}", slot.input.where, result.task_id));
    if (m_config.journal) {
      m_config.journal->submitted(slot.key, result.task_id);
    }
    core::crash_point("after_submit"); // tests: OPTEXITY_CRASH_AT=after_submit:N
    Clock::time_point deadline = Clock::now() + m_config.timeout;
    if (key_mode) {
      m_tracker.bind(slot.key, slot.waiter, result.task_id);
    } else {
      m_tracker.bind(result.task_id, slot.waiter);
    }
    slot.waiter->set_deadline(deadline);
    if (m_config.unordered) {
      std::lock_guard lock(m_mutex);
      if (!slot.printed) {
        slot.deadline = m_deadlines.emplace(deadline, m_slots[slot.index - m_first_index]);
      }
      m_writer_cv.notify_one();
    }
    return;
  }
  if (result.kind == net::SubmitResult::Kind::refused ||
      (result.unreachable && !m_stop.stop_requested())) {
    std::unique_lock lock(m_mutex);
    if (!m_any_accepted) {
      lock.unlock();
      on_refused(slot, result);
      return;
    }
  }
  if (key_mode) {
    // The URL names the input: a result may have arrived although the answer was lost.
    if (auto payload = m_tracker.take_buffered(slot.key)) {
      slot.waiter->complete(std::move(*payload));
      return;
    }
  }
  std::string status = m_stop.stop_requested() && result.http_status == 0
                           ? core::status::interrupted
                           : core::status::submit_failed;
  slot.unknown_outcome = result.unknown_outcome;
  slot.waiter->complete(core::failure_line(status, result.error, slot.input.params));
}

bool Engine::resume(Slot& slot) {
  auto it = m_config.resume->entries.find(slot.key);
  const core::JournalEntry* entry = it == m_config.resume->entries.end() ? nullptr : &it->second;
  switch (core::resume_action(entry, m_config.retry_failed, m_config.resubmit_unfinished)) {
  case core::ResumeAction::submit:
    return false;
  case core::ResumeAction::reprint:
    if (!entry->line) {
      return false;
    }
    slot.verbatim = entry->line;
    slot.waiter->complete(Json{{"status", entry->status.value_or("")}});
    return true;
  case core::ResumeAction::await:
    break;
  }
  // Submitted by an earlier run: it may have finished while no one listened.
  const std::string task_id = *entry->task_id;
  {
    std::lock_guard lock(m_mutex);
    m_any_accepted = true;
    slot.task_id = task_id;
  }
  if (auto payload = reconcile(task_id)) {
    slot.waiter->complete(std::move(*payload));
    return true;
  }
  core::log_info(fmt::format(
      "{}: task {} from an earlier run: waiting for its callback", slot.input.where, task_id));
  Clock::time_point deadline = Clock::now() + m_config.timeout;
  if (!m_config.token.empty()) {
    m_tracker.bind(slot.key, slot.waiter, task_id);
  } else {
    m_tracker.bind(task_id, slot.waiter);
  }
  slot.waiter->set_deadline(deadline);
  if (m_config.unordered) {
    std::lock_guard lock(m_mutex);
    if (!slot.printed) {
      slot.deadline = m_deadlines.emplace(deadline, m_slots[slot.index - m_first_index]);
    }
    m_writer_cv.notify_one();
  }
  return true;
}

void Engine::on_refused(Slot& slot, const net::SubmitResult& result) {
  std::string refusal;
  bool first = false;
  {
    std::lock_guard lock(m_mutex);
    if (!m_refusal) {
      m_refusal =
          (result.unreachable ? "cannot reach the service: " : "the service refused the run: ") +
          result.error;
      first = true;
    }
    refusal = *m_refusal;
  }
  if (first) {
    // Every input would get the same answer: say it once, with what to do.
    core::log_error(refusal + (result.unreachable ? " (check --api-url, the network and DNS)"
                               : result.http_status == 404
                                   ? " (is the --endpoint name right?)"
                                   : " (check --api-key, --api-key-file or OPTEXITY_API_KEY)"));
  }
  slot.waiter->complete(
      core::failure_line(core::status::submit_failed, refusal, slot.input.params));
}

std::shared_ptr<Engine::Slot> Engine::wait_for_slot(size_t index) {
  std::unique_lock lock(m_mutex);
  m_writer_cv.wait(lock, m_stop.get_token(), [&] {
    return m_first_index + m_slots.size() > index || m_input_done;
  });
  if (m_stop.stop_requested() || m_first_index + m_slots.size() <= index) {
    return nullptr;
  }
  return m_slots[index - m_first_index];
}

std::vector<std::shared_ptr<Engine::Slot>> Engine::wait_for_finished() {
  std::unique_lock lock(m_mutex);
  for (;;) {
    if (m_stop.stop_requested()) {
      return {};
    }
    if (!m_finished.empty()) {
      // Everything finished so far, in one go: one lock for a burst of callbacks.
      std::vector<std::shared_ptr<Slot>> batch(m_finished.begin(), m_finished.end());
      m_finished.clear();
      return batch;
    }
    if (m_input_done && m_in_flight == 0) {
      return {};
    }
    if (!m_deadlines.empty() && m_deadlines.begin()->first <= Clock::now()) {
      auto slot = m_deadlines.begin()->second;
      m_deadlines.erase(m_deadlines.begin());
      slot->deadline.reset();
      lock.unlock();
      expire(*slot); // completes the waiter, whose hook queues it
      lock.lock();
      continue;
    }
    auto wake = m_deadlines.empty() ? Clock::time_point::max() : m_deadlines.begin()->first;
    m_writer_cv.wait_until(lock, m_stop.get_token(), wake, [&] {
      // A deadline earlier than `wake` (the first task accepted) means waiting less.
      return !m_finished.empty() || (m_input_done && m_in_flight == 0) ||
             (!m_deadlines.empty() &&
              (m_deadlines.begin()->first <= Clock::now() || m_deadlines.begin()->first < wake));
    });
  }
}

Json Engine::await_in_order(Slot& slot) {
  if (!slot.waiter->wait(m_stop.get_token()) && !m_stop.stop_requested()) {
    expire(slot);
  }
  if (!slot.waiter->done()) {
    return nullptr; // interrupted
  }
  return slot.waiter->take();
}

void Engine::expire(Slot& slot) {
  std::optional<std::string> task_id;
  {
    std::lock_guard lock(m_mutex);
    task_id = slot.task_id;
  }
  complete_at_deadline(*slot.waiter,
                       m_client,
                       task_id,
                       m_config.request.endpoint,
                       slot.input.where,
                       m_config.timeout,
                       slot.input.params,
                       m_stop.get_token());
}

std::optional<Json> Engine::reconcile(const std::string& task_id) {
  return fetch_final_result(m_client, task_id, m_config.request.endpoint, m_stop.get_token());
}

void Engine::print(Slot& slot, Json line) {
  if (slot.verbatim) {
    // A final result journaled by an earlier run: the same bytes again.
    m_out.write_line(*slot.verbatim);
    count(slot, core::line_status(line), core::line_status(line) + " (journaled earlier)");
    return;
  }
  const bool passthrough = !slot.input.passthrough.is_null();
  if (!passthrough) {
    // A callback's line is its payload as received, plus the input_parameters we submitted.
    line["input"] = slot.input.error.empty() ? slot.input.params : Json();
    if (!slot.input.from.is_null()) {
      line["from"] = slot.input.from;
    }
    if (m_config.finish_line) {
      m_config.finish_line(line);
    }
  }
  std::string text = core::dump_line(line);
  m_out.write_line(text);
  std::string status = core::line_status(line);
  if (m_config.stats && !passthrough && core::is_terminal_status(status)) {
    m_latency.record(Clock::now() - slot.waiter->completed_at());
  }
  if (m_config.journal && !passthrough && !slot.key.empty()) {
    std::optional<std::string> task_id;
    if (auto it = line.find("task_id"); it != line.end() && it->is_string()) {
      task_id = it->get<std::string>();
    }
    m_config.journal->finished(slot.key, status, text, task_id, slot.unknown_outcome);
  }
  std::string what = passthrough ? "passed on: " + status : status;
  if (status != core::status::success && !passthrough) {
    if (auto it = line.find("error"); it != line.end() && it->is_string()) {
      what += ": " + it->get<std::string>();
    }
  }
  count(slot, status, what);
}

void Engine::count(Slot& slot, const std::string& status, const std::string& what) {
  ++m_printed;
  if (status == core::status::success && slot.input.passthrough.is_null()) {
    ++m_succeeded; // a line passed on was not run here: the pipeline's end reports it as failed
  }
  {
    std::string error = what.size() > status.size() + 2 ? what.substr(status.size() + 2) : "";
    std::lock_guard lock(m_progress_mutex);
    m_progress.finished(status, Clock::now() - slot.started, slot.input.where, error, Clock::now());
  }
  auto elapsed = std::chrono::duration<double>(Clock::now() - slot.started).count();
  std::string shown =
      core::colored_status(status) + what.substr(std::min(what.size(), status.size()));
  if (!slot.input.passthrough.is_null()) {
    shown = what;
  }
  core::log_info(fmt::format("[{}] {} {} ({:.2f} s)", m_printed, slot.input.where, shown, elapsed));
}

void Engine::release(Slot& slot) {
  std::optional<std::string> task_id;
  {
    std::lock_guard lock(m_mutex);
    task_id = slot.task_id;
    slot.printed = true;
    --m_in_flight;
    m_slots[slot.index - m_first_index].reset();
    while (!m_slots.empty() && !m_slots.front()) {
      m_slots.pop_front();
      ++m_first_index;
    }
    if (slot.deadline) {
      m_deadlines.erase(*slot.deadline);
      slot.deadline.reset();
    }
  }
  m_cv.notify_one(); // one submitter may take the freed place
  if (!m_config.token.empty() && !slot.key.empty()) {
    m_tracker.retire(slot.key);
  } else if (task_id) {
    m_tracker.retire(*task_id);
  }
}

void Engine::finish_interrupted() {
  // Nothing already finished is lost: finished results are printed, the rest say `interrupted`.
  std::lock_guard read_lock(m_read_mutex);
  std::vector<std::shared_ptr<Slot>> rest;
  {
    std::lock_guard lock(m_mutex);
    for (auto& slot : m_slots) {
      if (slot) {
        rest.push_back(slot);
      }
    }
  }
  if (!m_source.streaming()) {
    // Every input of a file gets its line, even those never pulled.
    while (auto input = m_source.next()) {
      auto slot = std::make_shared<Slot>();
      slot->input = std::move(*input);
      slot->waiter = std::make_shared<core::Waiter>();
      slot->started = Clock::now();
      rest.push_back(slot);
    }
  }
  const char* why = m_signal.load() == SIGTERM ? "terminated (SIGTERM) before the task finished"
                                               : "interrupted (SIGINT) before the task finished";
  for (auto& slot : rest) {
    std::optional<std::string> task_id;
    {
      std::lock_guard lock(m_mutex);
      task_id = slot->task_id;
    }
    Json line =
        slot->input.error.empty()
            ? core::failure_line(core::status::interrupted, why, slot->input.params, task_id)
            : core::failure_line(core::status::invalid_input, slot->input.error, nullptr);
    slot->waiter->complete(std::move(line));
    print(*slot, slot->waiter->take());
  }
}

int Engine::exit_code() const {
  std::lock_guard lock(m_mutex);
  if (m_refusal) {
    return core::to_int(core::ExitCode::refused);
  }
  return m_succeeded == m_printed ? 0 : core::to_int(core::ExitCode::task_failed);
}

void Engine::watch(std::stop_token stop) {
  // Optexity retries a callback for 5 minutes, then gives up; a worker crash sends none. When
  // nothing at all has arrived for a while, ask the service about the tasks in flight.
  Clock::time_point last_check = Clock::now();
  bool warned = false;
  while (core::sleep_for(std::chrono::milliseconds(200), stop)) {
    auto now = Clock::now();
    auto silent_since = std::max(m_tracker.last_delivery(), last_check);
    if (now - silent_since < m_config.watchdog) {
      continue;
    }
    last_check = now;
    std::vector<std::pair<std::shared_ptr<Slot>, std::string>> in_flight;
    {
      std::lock_guard lock(m_mutex);
      for (auto& slot : m_slots) {
        if (slot && slot->task_id && !slot->waiter->done()) {
          in_flight.emplace_back(slot, *slot->task_id);
        }
      }
    }
    for (auto& [slot, task_id] : in_flight) {
      if (stop.stop_requested()) {
        return;
      }
      auto payload = reconcile(task_id);
      if (!payload) {
        if (!warned) {
          break; // the oldest is still running: the silence is just a quiet period
        }
        continue;
      }
      if (!warned) {
        // The task may have just finished, its callback on the way: give it a moment (woken
        // at once if it comes) before calling the callbacks lost.
        if (slot->waiter->wait_until(Clock::now() + std::chrono::seconds(2), stop) ||
            stop.stop_requested()) {
          break;
        }
        core::log_warning(fmt::format(
            "no callback for {:g} s, but task {} has finished: callbacks are not reaching the "
            "listener (check the callback URL); recovering results by status checks",
            std::chrono::duration<double>(m_config.watchdog).count(),
            task_id));
        warned = true;
      }
      slot->waiter->complete(std::move(*payload));
    }
  }
}

void Engine::tick(std::stop_token stop) {
  show_progress(
      m_config.progress,
      m_progress,
      m_progress_mutex,
      [this](core::Progress& progress) {
        size_t pulled = 0;
        size_t in_flight = 0;
        {
          std::lock_guard lock(m_mutex);
          pulled = m_first_index + m_slots.size();
          in_flight = m_in_flight;
        }
        auto known = m_source.size();
        progress.set_total(known.value_or(pulled), known.has_value());
        progress.set_in_flight(in_flight);
      },
      stop);
}

int Engine::execute() {
  // One task at a time in input order: this thread submits, waits and prints, with no hand-off
  // to a submitting thread and back for every task.
  const bool one_thread = m_config.parallel <= 1 && !m_config.unordered;
  const size_t threads = std::min<size_t>(static_cast<size_t>(std::max(1, m_config.parallel)), 64);
  std::vector<std::jthread> submitters;
  for (size_t i = 0; i < threads && !one_thread; ++i) {
    submitters.emplace_back([this] { submit_loop(); });
  }
  std::jthread watchdog([this](std::stop_token st) { watch(st); });
  std::jthread ticker([this](std::stop_token st) { tick(st); });
  int code = 0;
  try {
    if (one_thread) {
      for (;;) {
        {
          std::lock_guard lock(m_mutex);
          ++m_in_flight;
        }
        std::shared_ptr<Slot> slot = pull_next_slot();
        if (!slot) {
          std::lock_guard lock(m_mutex);
          --m_in_flight;
          break;
        }
        process(*slot);
        Json line = await_in_order(*slot);
        if (line.is_null()) {
          break; // interrupted
        }
        print(*slot, std::move(line));
        release(*slot);
      }
    } else if (m_config.unordered) {
      for (auto batch = wait_for_finished(); !batch.empty(); batch = wait_for_finished()) {
        for (auto& slot : batch) {
          print(*slot, slot->waiter->take());
          release(*slot);
        }
      }
    } else {
      for (size_t index = 0;; ++index) {
        std::shared_ptr<Slot> slot = wait_for_slot(index);
        if (!slot) {
          break;
        }
        Json line = await_in_order(*slot);
        if (line.is_null()) {
          break; // interrupted
        }
        print(*slot, std::move(line));
        release(*slot);
      }
    }
    if (int signo = m_signal.load(); signo != 0) {
      finish_interrupted();
      code = core::to_int(core::signal_exit_code(signo));
    } else {
      code = exit_code();
    }
  } catch (const core::StdoutClosed&) {
    // `| head -1`: stop submitting and leave quietly.
    code = core::to_int(core::ExitCode::stdout_closed);
  }
  m_stop.request_stop();
  m_client.cancel_all();
  notify_everyone();
  submitters.clear(); // joins
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
  ticker.request_stop();
  ticker.join();
  if (m_config.summary && code != core::to_int(core::ExitCode::stdout_closed)) {
    print_summary(m_progress, m_progress_mutex);
  }
  if (m_config.stats && code != core::to_int(core::ExitCode::stdout_closed)) {
    core::log_always("stats: " + m_latency.summary());
  }
  return code;
}

} // namespace runner

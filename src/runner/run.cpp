#include "runner/run.h"

#include "core/error.h"
#include "core/inputs.h"
#include "core/log.h"
#include "core/output.h"
#include "core/tracker.h"
#include "core/url.h"
#include "net/client.h"
#include "net/listener.h"
#include "runner/signals.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <csignal>
#include <deque>
#include <mutex>
#include <stop_token>
#include <thread>
#include <unistd.h>
#include <vector>

namespace runner {

using core::Clock;
using core::Json;

namespace {

// One input on its way through the run.
struct Slot {
  size_t index = 0;
  core::Input input;
  std::shared_ptr<core::Waiter> waiter = std::make_shared<core::Waiter>();
  std::optional<std::string> task_id; // guarded by Engine::m_mutex
  Clock::time_point started{};
};

std::chrono::milliseconds seconds_to_ms(double s) {
  return std::chrono::milliseconds(static_cast<long long>(s * 1000));
}

// The orchestration of one run: submitting threads pull inputs and submit them, keeping at most
// `parallel` inputs between "pulled" and "printed"; the writer (the calling thread) waits on
// each input's waiter in input order and prints its line.
class Engine {
public:
  Engine(const RunOptions& opts, core::InputSource& source, core::Tracker& tracker, net::Client& client)
      : m_opts(opts), m_source(source), m_tracker(tracker), m_client(client) {}

  // Submits and waits for everything; returns the exit code.
  int execute();

  // Called from the signal thread: stop submitting, print what is left, exit 130/143.
  void interrupt(int signo);

private:
  void submit_loop();
  std::shared_ptr<Slot> pull_next_slot();
  void process(Slot& slot);
  std::shared_ptr<Slot> wait_for_slot(size_t index);
  Json await_result(Slot& slot);
  void print(Slot& slot, Json line);
  void release(Slot& slot);
  void finish_interrupted(size_t from);
  std::chrono::milliseconds task_timeout() const;

  const RunOptions& m_opts;
  core::InputSource& m_source;
  core::Tracker& m_tracker;
  net::Client& m_client;
  core::LineWriter m_out;
  std::stop_source m_stop;
  std::atomic<int> m_signal{0};

  std::mutex m_read_mutex; // keeps "pull an input" and "append its slot" in input order
  std::mutex m_mutex;
  std::condition_variable_any m_cv;
  std::deque<std::shared_ptr<Slot>> m_slots; // by input index; printed ones are reset
  size_t m_first_index = 0;                 // index of m_slots.front()
  size_t m_in_flight = 0;                   // pulled and not yet printed
  bool m_input_done = false;
  bool m_any_accepted = false;
  std::optional<std::string> m_refusal; // set when the service refused the run

  size_t m_printed = 0;
  size_t m_succeeded = 0;
};

std::chrono::milliseconds Engine::task_timeout() const {
  if (m_opts.timeout_seconds) {
    return seconds_to_ms(*m_opts.timeout_seconds);
  }
  // The service's attempt limit plus its 5 minutes of delivery retries.
  int minutes = m_opts.request.max_timeout_minutes.value_or(10) + 5;
  return std::chrono::minutes(minutes);
}

void Engine::interrupt(int signo) {
  int expected = 0;
  if (!m_signal.compare_exchange_strong(expected, signo)) {
    // A second signal: the user insists; leave now.
    std::_Exit(signo == SIGTERM ? core::to_int(core::ExitCode::terminated)
                                : core::to_int(core::ExitCode::interrupted));
  }
  m_stop.request_stop();
  m_client.cancel_all();
  {
    std::lock_guard lock(m_mutex);
  }
  m_cv.notify_all();
}

std::shared_ptr<Slot> Engine::pull_next_slot() {
  std::lock_guard read_lock(m_read_mutex);
  {
    std::lock_guard lock(m_mutex);
    // After a refusal, a stream stops being read; a file's inputs each still get their line.
    if (m_input_done || m_stop.stop_requested() || (m_refusal && m_source.streaming())) {
      m_input_done = true;
      return nullptr;
    }
  }
  std::optional<core::Input> input = m_source.next(m_stop.get_token());
  std::lock_guard lock(m_mutex);
  if (!input) {
    m_input_done = true;
    m_cv.notify_all();
    return nullptr;
  }
  auto slot = std::make_shared<Slot>();
  slot->index = m_first_index + m_slots.size();
  slot->input = std::move(*input);
  m_slots.push_back(slot);
  m_cv.notify_all();
  return slot;
}

void Engine::submit_loop() {
  const auto parallel = static_cast<size_t>(std::max(1, m_opts.parallel));
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
      m_cv.notify_all();
      return;
    }
    process(*slot);
  }
}

void Engine::process(Slot& slot) {
  slot.started = Clock::now();
  if (!slot.input.error.empty()) {
    slot.waiter->complete(core::failure_line(core::status::invalid_input, slot.input.error, nullptr));
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
  Json request = core::build_inference_request(m_opts.request, slot.input.params);
  net::SubmitResult result = m_client.submit(request, m_stop.get_token());
  switch (result.kind) {
  case net::SubmitResult::Kind::accepted: {
    {
      std::lock_guard lock(m_mutex);
      m_any_accepted = true;
      slot.task_id = result.task_id;
    }
    core::log_debug(fmt::format("{}: submitted as task {}", slot.input.where, result.task_id));
    m_tracker.bind(result.task_id, slot.waiter);
    slot.waiter->set_deadline(Clock::now() + task_timeout());
    return;
  }
  case net::SubmitResult::Kind::refused: {
    std::unique_lock lock(m_mutex);
    if (!m_any_accepted) {
      // Every input would get the same answer: stop the run once, clearly.
      if (!m_refusal) {
        m_refusal = "the service refused the run: " + result.error;
        lock.unlock();
        core::log_error(*m_refusal +
                        (result.http_status == 404
                             ? " (is the --endpoint name right?)"
                             : " (check --api-key, --api-key-file or OPTEXITY_API_KEY)"));
        lock.lock();
      }
      std::string refusal = *m_refusal;
      lock.unlock();
      slot.waiter->complete(
          core::failure_line(core::status::submit_failed, refusal, slot.input.params));
      return;
    }
    break;
  }
  case net::SubmitResult::Kind::failed:
    break;
  }
  std::string status = m_stop.stop_requested() && result.http_status == 0
                           ? core::status::interrupted
                           : core::status::submit_failed;
  slot.waiter->complete(core::failure_line(status, result.error, slot.input.params));
}

std::shared_ptr<Slot> Engine::wait_for_slot(size_t index) {
  std::unique_lock lock(m_mutex);
  m_cv.wait(lock, m_stop.get_token(), [&] {
    return m_first_index + m_slots.size() > index || m_input_done;
  });
  if (m_stop.stop_requested() || m_first_index + m_slots.size() <= index) {
    return nullptr;
  }
  return m_slots[index - m_first_index];
}

Json Engine::await_result(Slot& slot) {
  if (!slot.waiter->wait(m_stop.get_token()) && !m_stop.stop_requested()) {
    // The deadline passed with no callback.
    std::optional<std::string> task_id;
    {
      std::lock_guard lock(m_mutex);
      task_id = slot.task_id;
    }
    auto seconds = std::chrono::duration<double>(task_timeout()).count();
    slot.waiter->complete(core::failure_line(
        core::status::timeout,
        fmt::format("no callback within {:g} s (--timeout)", seconds),
        slot.input.params,
        task_id));
  }
  if (!slot.waiter->done()) {
    return nullptr; // interrupted
  }
  return slot.waiter->take();
}

void Engine::print(Slot& slot, Json line) {
  // A callback's line is its payload as received, plus the input_parameters we submitted.
  line["input"] = slot.input.error.empty() ? slot.input.params : Json();
  m_out.write_line(core::dump_line(line));
  std::string status = core::line_status(line);
  ++m_printed;
  if (status == core::status::success) {
    ++m_succeeded;
  }
  std::string what = status;
  if (status != core::status::success) {
    if (auto it = line.find("error"); it != line.end() && it->is_string()) {
      what += ": " + it->get<std::string>();
    }
  }
  auto elapsed = std::chrono::duration<double>(Clock::now() - slot.started).count();
  core::log_info(fmt::format("[{}] {} {} ({:.2f} s)", m_printed, slot.input.where, what, elapsed));
}

void Engine::release(Slot& slot) {
  std::optional<std::string> task_id;
  {
    std::lock_guard lock(m_mutex);
    task_id = slot.task_id;
    --m_in_flight;
    // Slots are printed in input order: the printed one is the front.
    m_slots.pop_front();
    ++m_first_index;
  }
  m_cv.notify_all();
  if (task_id) {
    m_tracker.retire(*task_id);
  }
}

void Engine::finish_interrupted(size_t from) {
  // Nothing already finished is lost: finished results are printed, the rest say `interrupted`.
  std::lock_guard read_lock(m_read_mutex);
  std::vector<std::shared_ptr<Slot>> rest;
  {
    std::lock_guard lock(m_mutex);
    for (size_t i = from; i < m_first_index + m_slots.size(); ++i) {
      rest.push_back(m_slots[i - m_first_index]);
    }
  }
  if (!m_source.streaming()) {
    // Every input of a file gets its line, even those never pulled.
    while (auto input = m_source.next()) {
      auto slot = std::make_shared<Slot>();
      slot->input = std::move(*input);
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
    Json line = slot->input.error.empty()
                    ? core::failure_line(core::status::interrupted, why, slot->input.params, task_id)
                    : core::failure_line(core::status::invalid_input, slot->input.error, nullptr);
    slot->waiter->complete(std::move(line));
    print(*slot, slot->waiter->take());
  }
}

int Engine::execute() {
  const size_t threads = std::min<size_t>(static_cast<size_t>(std::max(1, m_opts.parallel)), 64);
  std::vector<std::jthread> submitters;
  for (size_t i = 0; i < threads; ++i) {
    submitters.emplace_back([this] { submit_loop(); });
  }
  int code = 0;
  try {
    size_t index = 0;
    for (;; ++index) {
      std::shared_ptr<Slot> slot = wait_for_slot(index);
      if (!slot) {
        break;
      }
      Json line = await_result(*slot);
      if (line.is_null()) {
        break; // interrupted
      }
      print(*slot, std::move(line));
      release(*slot);
    }
    if (m_signal.load() != 0) {
      finish_interrupted(index);
      code = core::to_int(m_signal.load() == SIGTERM ? core::ExitCode::terminated
                                                     : core::ExitCode::interrupted);
    } else if (m_refusal) {
      code = core::to_int(core::ExitCode::refused);
    } else {
      code = m_succeeded == m_printed ? 0 : core::to_int(core::ExitCode::task_failed);
    }
  } catch (const core::StdoutClosed&) {
    // `| head -1`: stop submitting and leave quietly.
    code = core::to_int(core::ExitCode::stdout_closed);
  }
  m_stop.request_stop();
  m_client.cancel_all();
  m_cv.notify_all();
  submitters.clear(); // joins
  return code;
}

std::unique_ptr<core::InputSource> load_inputs(const RunOptions& opts) {
  if (opts.emails_path == "-") {
    return std::make_unique<core::EmailStreamSource>(std::make_unique<core::FdLineReader>(0),
                                                     "<stdin>");
  }
  // A file is checked completely before anything is submitted.
  return std::make_unique<core::VectorSource>(core::load_email_file(opts.emails_path));
}

net::ClientOptions client_options(const RunOptions& opts, const std::string& api_url) {
  net::ClientOptions c;
  c.api = core::resolve_api_url(api_url);
  c.api_key = opts.api_key;
  c.connect_timeout = seconds_to_ms(opts.connect_timeout_seconds);
  c.read_timeout = seconds_to_ms(opts.read_timeout_seconds);
  c.retry = opts.retry;
  c.log = [](const std::string& line) { core::log_debug(line); };
  return c;
}

} // namespace

int run(const RunOptions& opts) {
  // The API URL is checked before anything starts.
  core::ApiEndpoints api = core::resolve_api_url(opts.api_url);
  std::unique_ptr<core::InputSource> source = load_inputs(opts);

  core::Tracker tracker;
  net::ListenerOptions lo;
  lo.host = opts.listen_host;
  lo.port = opts.emulate && !opts.listen_given ? 0 : opts.listen_port;
  lo.callback_path = opts.callback_path;
  lo.log = [](const std::string& line) { core::log_debug(line); };
  net::Listener listener(lo, tracker);
  listener.start();

  std::unique_ptr<net::Emulator> emulator;
  std::string api_url = opts.api_url;
  if (opts.emulate) {
    net::EmulatorOptions eo = opts.emulator;
    eo.port = 0;
    eo.callback_url = listener.callback_url();
    eo.quiet = core::verbosity() != core::Verbosity::verbose;
    emulator = std::make_unique<net::Emulator>(eo);
    emulator->start();
    api_url = fmt::format("http://127.0.0.1:{}", emulator->port());
  } else if (api.is_cloud && opts.api_key.empty()) {
    core::log_warning("no API key (--api-key, --api-key-file or OPTEXITY_API_KEY): the Optexity "
                      "cloud will refuse the run");
  }
  core::log_info(fmt::format("listening on {}:{} (callbacks to {}); submitting to {}",
                             opts.listen_host,
                             listener.port(),
                             listener.callback_url(),
                             core::resolve_api_url(api_url).inference.origin() +
                                 core::resolve_api_url(api_url).inference.path));

  net::Client client(client_options(opts, api_url));
  Engine engine(opts, *source, tracker, client);
  SignalWatcher signals([&engine](int signo) { engine.interrupt(signo); });
  int code = engine.execute();
  // The emulator first: closing its keep-alive connections lets the listener stop at once.
  emulator.reset();
  listener.stop();
  return code;
}

} // namespace runner

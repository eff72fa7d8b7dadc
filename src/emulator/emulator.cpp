#include "emulator/emulator.h"

#include "core/api.h"
#include "core/error.h"
#include "core/files.h"
#include "core/json.h"
#include "core/token.h"
#include "core/url.h"
#include "net/http_server.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>
#include <optional>
#include <queue>
#include <random>
#include <thread>
#include <unordered_map>

#include "emulator/emulator_delivery.h"
#include "emulator/emulator_payload.h"
#include "emulator/emulator_status.h"
#include "emulator/emulator_tasks.h"
#include "emulator/request_model.h"
#include "emulator/script.h"
#include "emulator/work_queue.h"

namespace emulator {

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* k_submit_message =
    "Task has been allocated. Check its status and output at https://dashboard.optexity.com/tasks";
constexpr int k_sender_threads = 8;
constexpr size_t k_payload_limit = 64 * 1024 * 1024;
// The longest a lost answer waits for its callback: past every redelivery attempt's backoff.
constexpr auto k_lost_answer_wait = std::chrono::seconds(60);
// The longest input_parameters text the log shows for one submit.
constexpr size_t k_max_logged_inputs = 1000;

// The key for transient_503: the same endpoint and inputs, whatever the key order.
std::string canonical_input_key(const core::Json& body) {
  return core::canonical_line(core::Json{{"endpoint_name", body["endpoint_name"]},
                                         {"input_parameters", body["input_parameters"]}});
}

bool listed(const std::vector<int>& list, int n) {
  return std::find(list.begin(), list.end(), n) != list.end();
}

// The attempt limit of a request: max_timeout_in_minutes (default 10).
std::chrono::milliseconds attempt_limit(const core::Json& body) {
  auto it = body.find("max_timeout_in_minutes");
  long long minutes = it != body.end() && it->is_number_integer() ? it->get<long long>() : 10;
  return std::chrono::minutes(std::max(1LL, minutes));
}

std::string host_port(const std::string& host, int port) {
  return host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, port)
                                             : fmt::format("{}:{}", host, port);
}

// An address clients can connect to: a wildcard bind is reached through loopback.
std::string reachable_host(const std::string& host) {
  if (host.empty() || host == "0.0.0.0") {
    return "127.0.0.1";
  }
  return host == "::" ? "::1" : host;
}

} // namespace

struct Emulator::Impl {
  EmulatorOptions m_options;
  std::mutex m_log_mutex;                  // before the helpers that log through it
  std::optional<core::Url> m_callback_url; // none when options.callback_url is empty
  int m_port = 0;
  PayloadContext m_context;                 // set by start(), before any handler runs
  std::optional<emulator::Script> m_script; // loaded by start(), before any handler runs

  net::HttpServer m_server{net::HttpServerOptions{.threads = 64, .payload_limit = k_payload_limit}};

  // RNG and per-input submit counts, shared by all handler threads.
  std::mutex m_state_mutex;
  std::mt19937_64 m_rng;
  std::mt19937_64 m_echo_rng; // --answer-422-echo only: m_rng's draws stay as they were
  std::unordered_map<std::string, int> m_submit_counts;

  CallbackSender m_sender;
  TaskTable m_tasks;

  // The queue: tasks waiting for a place or their login key, and those running until their
  // end (m_runs, earliest first), when the runner thread sends their callbacks.
  struct Pending {
    std::vector<CallbackDelivery> deliveries; // the callback and its duplicates
    std::chrono::milliseconds duration{0};    // from its start to its end, every attempt
    int attempts = 1;
    bool stuck = false;
    std::string status;
  };
  using Run = std::pair<Clock::time_point, std::string>;
  std::mutex m_queue_mutex;
  std::condition_variable m_run_cv;
  WorkQueue m_queue;
  std::unordered_map<std::string, Pending> m_pending;
  std::priority_queue<Run, std::vector<Run>, std::greater<>> m_runs;
  bool m_runs_closed = false;
  std::thread m_runner;
  int m_accepted = 0;      // under m_state_mutex: the ordinal of the last accepted submit
  AnswerPlanner m_answers; // called under m_state_mutex: answers are decided in draw order

  std::mutex m_stop_mutex;
  bool m_started = false;
  bool m_stopped = false;

  explicit Impl(EmulatorOptions options)
      : m_options(std::move(options)), m_sender(k_sender_threads, line_log()),
        m_queue(m_options.capacity), m_answers(m_options.repeat_task_id) {
    uint64_t seed = m_options.seed;
    if (seed == 0) {
      std::random_device rd;
      seed = (static_cast<uint64_t>(rd()) << 32) ^ rd();
    }
    m_rng.seed(seed);
    m_echo_rng.seed(seed ^ 0x9e3779b97f4a7c15ull);
  }

  // The log for the helper modules: empty when quiet, so they skip formatting altogether.
  std::function<void(const std::string&)> line_log() {
    if (m_options.quiet) {
      return {};
    }
    return [this](const std::string& line) { log("{}", line); };
  }

  template <typename... Args>
  void log(fmt::format_string<Args...> format, Args&&... args) {
    if (m_options.quiet) {
      return;
    }
    std::string line = fmt::format(format, std::forward<Args>(args)...);
    // One fwrite per line under a mutex, so lines from concurrent threads never interleave.
    std::lock_guard lock(m_log_mutex);
    std::fprintf(stderr, "emulator: %s\n", line.c_str());
  }

  // --- randomness ---------------------------------------------------------------------------

  // The delay and rates of one task: the command line's, or its endpoint's script entry's.
  struct Settings {
    int delay_ms = 0;
    int jitter_ms = 0;
    double fail_rate = 0;
    double kill_rate = 0;
    double drop_callback_rate = 0;
    double duplicate_rate = 0;
  };

  Settings settings_for(const emulator::ScriptEndpoint* entry) const {
    Settings s{m_options.delay_ms,
               m_options.jitter_ms,
               m_options.fail_rate,
               m_options.kill_rate,
               m_options.drop_callback_rate,
               m_options.duplicate_rate};
    if (entry != nullptr) {
      s.delay_ms = entry->delay_ms.value_or(s.delay_ms);
      s.jitter_ms = entry->jitter_ms.value_or(s.jitter_ms);
      s.fail_rate = entry->fail_rate.value_or(s.fail_rate);
      s.kill_rate = entry->kill_rate.value_or(s.kill_rate);
      s.drop_callback_rate = entry->drop_callback_rate.value_or(s.drop_callback_rate);
      s.duplicate_rate = entry->duplicate_rate.value_or(s.duplicate_rate);
    }
    return s;
  }

  struct Draw {
    std::string task_id;
    TaskOutcome outcome = TaskOutcome::success;
    bool drop = false;
    bool duplicate = false;   // one more copy of the callback
    bool lost_answer = false; // no answer: the connection is closed after the callback
    SubmitAnswer answer;      // what the answer says, unless it is lost
    int delay_ms = 0;
    bool stuck = false;                // left allocated for ever
    std::vector<TaskOutcome> attempts; // how each attempt would end (the first: `outcome`)
  };

  // --answer-422-echo: whether this submit is refused with its request echoed.
  bool echo_422() {
    std::lock_guard lock(m_state_mutex);
    return std::uniform_real_distribution<double>(0.0, 1.0)(m_echo_rng) < m_options.echo_422_rate;
  }

  // Everything random about one task in one locked section, so a fixed seed replays a
  // sequential run exactly.
  Draw draw_task(const Settings& settings) {
    std::lock_guard lock(m_state_mutex);
    Draw d;
    uint64_t hi = m_rng();
    uint64_t lo = m_rng();
    // UUID version 4 (random) and RFC 4122 variant bits, like Python's uuid4().
    hi = (hi & 0xffffffffffff0fffull) | 0x0000000000004000ull;
    lo = (lo & 0x3fffffffffffffffull) | 0x8000000000000000ull;
    d.task_id = fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
                            hi >> 32,
                            (hi >> 16) & 0xffff,
                            hi & 0xffff,
                            lo >> 48,
                            lo & 0xffffffffffffull);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    bool fail = unit(m_rng) < settings.fail_rate;
    d.drop = unit(m_rng) < settings.drop_callback_rate;
    // abs(): a negative jitter from an embedding caller must not make an invalid range.
    int jitter = std::abs(settings.jitter_ms);
    int lo_ms = settings.delay_ms - jitter;
    int hi_ms = settings.delay_ms + jitter;
    d.delay_ms = std::max(0, std::uniform_int_distribution<int>(lo_ms, hi_ms)(m_rng));
    // Drawn last and only when asked for, so seeds recorded before --kill-rate replay the same
    // runs. Killed wins: a timed-out task never reaches the step that could fail.
    bool killed = settings.kill_rate > 0 && unit(m_rng) < settings.kill_rate;
    d.outcome = killed ? TaskOutcome::killed : fail ? TaskOutcome::failed : TaskOutcome::success;
    // After the kill draw and only when asked for, for the same reason.
    d.duplicate = settings.duplicate_rate > 0 && unit(m_rng) < settings.duplicate_rate;
    // Last, and only when asked for, for the same reason.
    d.lost_answer = m_options.lost_answer_rate > 0 && unit(m_rng) < m_options.lost_answer_rate;
    // After that, and only when asked for, for the same reason.
    bool bad = m_options.bad_answer_rate > 0 && unit(m_rng) < m_options.bad_answer_rate;
    if (!d.lost_answer) {
      d.answer = m_answers.next(d.task_id, bad);
    }
    // The service's lapses and retries, drawn after all the rest and only when asked for.
    const int ordinal = ++m_accepted;
    d.stuck = listed(m_options.stuck_at, ordinal) ||
              (m_options.stuck_rate > 0 && unit(m_rng) < m_options.stuck_rate);
    d.drop = d.drop || listed(m_options.drop_callback_at, ordinal);
    TaskOutcome first = d.outcome;
    if (first == TaskOutcome::success && m_options.attempt_fail_rate > 0 &&
        unit(m_rng) < m_options.attempt_fail_rate) {
      first = TaskOutcome::failed;
    }
    d.attempts.push_back(first);
    for (int retry = 0; retry < m_options.max_retries && d.attempts.back() != TaskOutcome::success;
         ++retry) {
      if (settings.kill_rate > 0 && unit(m_rng) < settings.kill_rate) {
        d.attempts.push_back(TaskOutcome::killed);
      } else if (unit(m_rng) < settings.fail_rate ||
                 (m_options.attempt_fail_rate > 0 && unit(m_rng) < m_options.attempt_fail_rate)) {
        d.attempts.push_back(TaskOutcome::failed);
      } else {
        d.attempts.push_back(TaskOutcome::success);
      }
    }
    return d;
  }

  // --- HTTP handlers ------------------------------------------------------------------------

  void handle_submit(const net::HttpRequest& req, net::HttpResponse& res) {
    if (int refused = check_api_key(req, res, m_options.api_key); refused != 0) {
      log("submit -> {} ({} x-api-key)", refused, refused == 422 ? "no" : "wrong");
      return;
    }
    core::Json body = core::parse_json(req.body());
    if (body.is_discarded()) {
      log("submit -> 422 (body is not JSON)");
      reply_not_json(res);
      return;
    }
    core::Json detail = core::validate_inference_request(body);
    // The shared validator leaves these two alone; FastAPI types them `str | None`.
    for (const char* key : {"task_callback_url", "task_callback_api_key"}) {
      auto it = body.is_object() ? body.find(key) : body.end();
      if (body.is_object() && it != body.end() && !it->is_null() && !it->is_string()) {
        detail.push_back({{"type", "string_type"},
                          {"loc", {"body", key}},
                          {"msg", "Input should be a valid string"}});
      }
    }
    for (auto& item : secure_parameter_problems(body)) {
      detail.push_back(std::move(item));
    }
    if (!detail.empty()) {
      log("submit -> 422 ({} problem{})", detail.size(), detail.size() == 1 ? "" : "s");
      reply_json(res, 422, {{"detail", detail}});
      return;
    }
    const std::string endpoint = body["endpoint_name"].get<std::string>();
    log_inputs(endpoint, body);
    const auto& known = m_options.endpoints;
    // With a script, the endpoints it answers (all of them when it has a default).
    const emulator::ScriptEndpoint* entry = m_script ? m_script->find(endpoint) : nullptr;
    bool unknown = !known.empty() && std::find(known.begin(), known.end(), endpoint) == known.end();
    if (unknown || (m_script && entry == nullptr)) {
      log("submit -> 404 (endpoint '{}' not found{})", endpoint, unknown ? "" : " in the script");
      reply_json(
          res,
          404,
          {{"success", false}, {"message", fmt::format("Endpoint '{}' not found", endpoint)}});
      return;
    }
    if (m_options.echo_422_rate > 0 && echo_422()) {
      log("submit {} -> 422 (the request echoed, as asked)", endpoint);
      core::Json item = {{"type", "value_error"},
                         {"loc", {"body"}},
                         {"msg", "Value error, request rejected: " + core::dump_line(body)},
                         {"input", body}};
      reply_json(res, 422, {{"detail", core::Json::array({item})}});
      return;
    }
    if (m_options.transient_503 > 0) {
      int seen = 0;
      {
        std::lock_guard lock(m_state_mutex);
        seen = m_submit_counts[canonical_input_key(body)]++;
      }
      if (seen < m_options.transient_503) {
        log("submit {} -> 503 (transient, {} of {})", endpoint, seen + 1, m_options.transient_503);
        res.set_header("Retry-After", "0");
        reply_json(res, 503, {{"detail", "Service temporarily unavailable"}});
        return;
      }
    }
    accept(body, res, entry);
  }

  // One line per valid submit naming its inputs, so a test can count the submits of each input
  // (the submit's own line has no room for them: tests match its end).
  void log_inputs(const std::string& endpoint, const core::Json& body) {
    if (m_options.quiet) {
      return;
    }
    std::string inputs = core::dump_line(body["input_parameters"]);
    if (inputs.size() > k_max_logged_inputs) {
      inputs.resize(k_max_logged_inputs);
      inputs += "...";
    }
    log("request {} input_parameters={}", endpoint, inputs);
  }

  // What the script makes of a task the draw settled: its templated output_data for a
  // success, its templated error for a failure. A template naming an input the task lacks
  // fails the task, as a real automation that cannot fill a field does.
  ScriptedResult script_result(const emulator::ScriptEndpoint& entry,
                               const core::Json& body,
                               const std::string& task_id,
                               TaskOutcome& outcome) {
    emulator::TemplateInputs inputs{
        body["input_parameters"], body["endpoint_name"].get<std::string>(), task_id};
    ScriptedResult scripted;
    if (outcome == TaskOutcome::success && entry.output_data) {
      emulator::Filled filled =
          emulator::fill_templates(*entry.output_data, inputs, "/output_data");
      if (filled.error.empty()) {
        scripted.output_data = std::move(filled.value);
        return scripted;
      }
      outcome = TaskOutcome::failed;
      scripted.error = "Emulated failure: cannot fill the output: " + filled.error;
      return scripted;
    }
    if (outcome == TaskOutcome::failed && entry.error) {
      emulator::Filled filled =
          emulator::fill_templates(core::Json(*entry.error), inputs, "/error");
      scripted.error = filled.error.empty()
                           ? filled.value.get<std::string>()
                           : "Emulated failure: cannot fill the error: " + filled.error;
    }
    return scripted;
  }

  // Answers 202, remembers the task for the status API, and arranges the callback with the
  // faults asked for (the command line's, or those of the endpoint's script `entry`).
  void
  accept(const core::Json& body, net::HttpResponse& res, const emulator::ScriptEndpoint* entry) {
    Draw draw = draw_task(settings_for(entry));
    const std::string endpoint = body["endpoint_name"].get<std::string>();
    // A killed attempt runs the attempt limit, shrunk by --time-scale (at 1, --delay-ms: a
    // 10-minute wait helps no demo).
    const double scale = m_options.time_scale;
    const auto run = std::chrono::milliseconds(draw.delay_ms);
    const auto kill_after = scale < 1.0
                                ? std::max(run,
                                           std::chrono::milliseconds(static_cast<long long>(
                                               double(attempt_limit(body).count()) * scale)))
                                : run;
    const AttemptPlan attempts =
        plan_attempts(draw.attempts, m_options.max_retries, run, kill_after, scale);
    draw.outcome = attempts.result;
    ScriptedResult scripted;
    if (entry != nullptr) {
      scripted = script_result(*entry, body, draw.task_id, draw.outcome);
    }
    const std::string status = outcome_status(draw.outcome);
    std::optional<core::Url> url = m_callback_url;
    std::string api_key;
    if (auto it = body.find("task_callback_url"); it != body.end() && it->is_string()) {
      url = core::parse_url(it->get<std::string>());
      if (!url) {
        log("task {}: task_callback_url is not an http(s) URL; no callback", draw.task_id);
      }
    }
    if (auto it = body.find("task_callback_api_key"); it != body.end() && it->is_string()) {
      api_key = it->get<std::string>();
    }

    // Recorded before any callback leaves, so a client that asks about a task the moment
    // its (early) callback arrives finds it.
    auto payload = std::make_shared<const CallbackBody>(
        make_callback_body(body, draw.task_id, draw.outcome, m_context, scripted));
    auto now = Clock::now();
    TaskRecord record;
    record.task_id = draw.task_id;
    record.outcome = draw.outcome;
    record.error = outcome_error(body, draw.outcome, scripted);
    record.downloads = draw.outcome == TaskOutcome::success ? m_options.downloads : 0;
    record.screenshot_file = m_context.screenshot_download;
    record.created_wall = std::chrono::system_clock::now();
    record.created = now;
    record.attempts = attempts.attempts;
    if (m_options.early_callback) {
      // Before the 202: no queue, no wait.
      record.started = now;
      record.completes = now;
    }
    record.payload = payload;
    m_tasks.add(std::move(record));

    std::string plan;
    if (draw.stuck) {
      plan = "stuck: it will stay allocated, no callback";
    } else if (draw.drop) {
      plan = "callback dropped";
    } else if (!url) {
      plan = "no callback URL";
    } else if (m_options.early_callback) {
      plan = fmt::format("{} callback before the 202", status);
    } else if (attempts.attempts > 1) {
      plan = fmt::format("{} callback {} ms after it starts, {} attempts",
                         status,
                         attempts.duration.count(),
                         attempts.attempts);
    } else {
      plan = fmt::format("{} callback in {} ms", status, draw.delay_ms);
    }
    const int copies = m_options.duplicate_callbacks + (draw.duplicate ? 1 : 0);
    if (!draw.drop && !draw.stuck && url && copies > 0) {
      plan += fmt::format(" + {} duplicate{}", copies, copies == 1 ? "" : "s");
    }
    // A task the script failed says why in the log too: it is a script or pipeline mistake.
    if (draw.outcome == TaskOutcome::failed && scripted.error) {
      plan += ": " + *scripted.error;
    }
    if (draw.lost_answer) {
      log("submit {} -> no answer, task {} ({}; the connection is closed once it is delivered)",
          endpoint,
          draw.task_id,
          plan);
    } else {
      log("submit {} -> {} ({}{})",
          endpoint,
          answer_log(draw.answer, draw.task_id),
          plan,
          repeat_note(draw.answer));
    }

    std::shared_ptr<DeliveryDone> done;
    Pending pending;
    pending.duration = attempts.duration;
    pending.attempts = attempts.attempts;
    pending.stuck = draw.stuck;
    pending.status = status;
    if (!draw.drop && !draw.stuck && url) {
      CallbackDelivery d;
      d.task_id = draw.task_id;
      d.status = status;
      d.url = *url;
      d.api_key = std::move(api_key);
      d.body = std::move(payload);
      if (draw.lost_answer) {
        done = std::make_shared<DeliveryDone>();
        d.done = done; // the original only: its copies are not awaited
      }
      for (int copy = 1; copy <= copies; ++copy) {
        CallbackDelivery dup = d;
        dup.copy = copy;
        pending.deliveries.push_back(std::move(dup));
      }
      // Early mode: the first attempt runs on this handler thread and its answer is awaited
      // before the 202 is written, so the client sees the callback before it knows the task_id.
      if (m_options.early_callback) {
        for (auto& dup : pending.deliveries) {
          m_sender.schedule(std::move(dup), now);
        }
        pending.deliveries.clear();
        m_sender.send_now(std::move(d));
      } else {
        // The original first: the duplicates follow it.
        pending.deliveries.insert(pending.deliveries.begin(), std::move(d));
      }
    }
    if (!m_options.early_callback) {
      enqueue(draw.task_id, unique_key(body), priority_of(body), std::move(pending));
    }
    if (draw.lost_answer) {
      // The result reaches the client's listener first; then the client sees the connection
      // close with no status line. Bounded: a stopping sender finishes every delivery at once.
      bool delivered = done && done->wait(k_lost_answer_wait);
      log("task {}: {}; closing its submit's connection unanswered",
          draw.task_id,
          done ? (delivered ? "callback delivered" : "callback not delivered") : "no callback");
      res.drop_connection();
      return;
    }
    AnswerBody answer = answer_body(draw.answer, k_submit_message);
    res.set(answer.status, std::move(answer.body), answer.content_type);
  }

  static std::optional<int64_t> priority_of(const core::Json& body) {
    auto it = body.find("priority");
    if (it != body.end() && it->is_number_integer()) {
      return it->get<int64_t>();
    }
    return std::nullopt;
  }

  // --- the queue ----------------------------------------------------------------------------

  void enqueue(const std::string& id,
               const std::string& key,
               std::optional<int64_t> priority,
               Pending pending) {
    std::lock_guard lock(m_queue_mutex);
    m_pending.emplace(id, std::move(pending));
    std::vector<std::string> starting = m_queue.enqueue(id, key, priority);
    if (starting.empty()) {
      log("task {} queued ({} running, {} waiting)", id, m_queue.running(), m_queue.waiting());
    }
    start_locked(std::move(starting));
  }

  // Starts tasks that left the queue: a stuck one is allocated and left so (its place and key
  // freed at once, which may start others), the others run until their end.
  void start_locked(std::vector<std::string> starting) {
    while (!starting.empty()) {
      std::string id = std::move(starting.back());
      starting.pop_back();
      auto it = m_pending.find(id);
      if (it == m_pending.end()) {
        continue;
      }
      const auto now = Clock::now();
      if (it->second.stuck) {
        m_pending.erase(it);
        m_tasks.update(id, [&](TaskRecord& r) {
          r.started = now;
          r.stuck = true;
        });
        log("task {} allocated and stuck there: no callback", id);
        auto more = m_queue.finish(id);
        starting.insert(starting.end(), more.begin(), more.end());
        continue;
      }
      const auto ends = now + it->second.duration;
      m_tasks.update(id, [&](TaskRecord& r) {
        r.started = now;
        r.completes = ends;
      });
      m_runs.emplace(ends, id);
      m_run_cv.notify_one();
    }
  }

  // The runner thread: ends each running task at its time, sends its callback, and starts what
  // its place or key lets start.
  void run_tasks() {
    std::unique_lock lock(m_queue_mutex);
    while (!m_runs_closed) {
      if (m_runs.empty()) {
        m_run_cv.wait(lock);
        continue;
      }
      auto [ends, id] = m_runs.top();
      if (Clock::now() < ends) {
        m_run_cv.wait_until(lock, ends);
        continue;
      }
      m_runs.pop();
      auto it = m_pending.find(id);
      if (it == m_pending.end()) {
        continue;
      }
      Pending pending = std::move(it->second);
      m_pending.erase(it);
      start_locked(m_queue.finish(id));
      lock.unlock();
      if (pending.attempts > 1) {
        log("task {} ended {} after {} attempts", id, pending.status, pending.attempts);
      }
      for (auto& d : pending.deliveries) {
        m_sender.schedule(std::move(d), ends);
      }
      lock.lock();
    }
  }

  void handle_exception(net::HttpResponse& res, std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      if (ep) {
        std::rethrow_exception(ep);
      }
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    log("internal error: {}", what);
    reply_json(res, 500, {{"detail", fmt::format("Internal Server Error: {}", what)}});
  }

  void setup_server() {
    auto submit = [this](const net::HttpRequest& req, net::HttpResponse& res) {
      handle_submit(req, res);
    };
    m_server.post("/api/v1/inference", submit);
    m_server.post("/inference", submit);
    add_status_routes(m_server, m_tasks, m_options.api_key, line_log(), m_context.png);
    // login: the key in the body (a JSON string) is valid when no --api-key is set, or it is it.
    m_server.post(
        "/api/v1/validate_api_key", [this](const net::HttpRequest& req, net::HttpResponse& res) {
          core::Json key = core::parse_json(req.body());
          if (!key.is_string()) {
            reply_json(res, 422, {{"detail", "the body must be the key as a JSON string"}});
            return;
          }
          const bool valid = m_options.api_key.empty() ||
                             core::constant_time_equal(key.get<std::string>(), m_options.api_key);
          log("validate_api_key -> {}", valid ? "valid" : "not valid");
          reply_json(
              res,
              200,
              {{"valid", valid}, {"message", valid ? "API key is valid" : "Invalid API key"}});
        });
    m_server.get("/api/v1/health", [](const net::HttpRequest&, net::HttpResponse& res) {
      reply_json(res, 200, {{"status", "healthy"}});
    });
    m_server.on_exception(
        [this](net::HttpResponse& res, std::exception_ptr ep) { handle_exception(res, ep); });
    // Called for every status >= 400, ours included: only fill in a body for the server's own
    // errors (unknown path, bad request line, payload too large).
    m_server.on_error([](net::HttpResponse& res) {
      if (res.has_body()) {
        return false;
      }
      const char* text = res.status() == 404   ? "Not Found"
                         : res.status() == 405 ? "Method Not Allowed"
                         : res.status() == 413 ? "Request Entity Too Large"
                         : res.status() < 500  ? "Bad Request"
                                               : "Internal Server Error";
      reply_json(res, res.status(), {{"detail", text}});
      return true;
    });
  }

  void start() {
    // First: a bad script is a configuration error, reported before anything listens.
    if (!m_options.script_path.empty()) {
      m_script = emulator::load_script(m_options.script_path);
    }
    if (!m_options.callback_url.empty()) {
      m_callback_url = core::parse_url(m_options.callback_url);
      if (!m_callback_url) {
        throw core::Error(
            fmt::format("--callback-url: not an http(s) URL: \"{}\"", m_options.callback_url));
      }
    }
    // Once per emulator: a large screenshot costs its base64 encoding here, not per task.
    m_context.screenshot =
        std::make_shared<const std::string>(screenshot_base64(m_options.screenshot_bytes));
    m_context.png = std::make_shared<const std::string>(
        core::base64_decode(*m_context.screenshot).value_or(std::string()));
    const std::string& mode = m_options.screenshot;
    if (mode != "inline" && mode != "download" && mode != "both") {
      throw core::Error(
          fmt::format("--screenshot: expected inline, download or both, got \"{}\"", mode));
    }
    m_context.inline_screenshot = mode != "download";
    m_context.screenshot_download = mode != "inline";
    if (!(m_options.time_scale > 0 && m_options.time_scale <= 1)) {
      throw core::Error(fmt::format("--time-scale: expected a number above 0 and at most 1, got {}",
                                    m_options.time_scale));
    }
    // The service retries a callback for 5 minutes with exponential backoff.
    m_sender.set_retry_window(
        std::chrono::milliseconds(static_cast<long long>(300000 * m_options.time_scale)),
        std::chrono::milliseconds(
            std::max(50LL, static_cast<long long>(30000 * m_options.time_scale))));
    m_context.downloads = std::max(0, m_options.downloads);
    setup_server();
    // Bind here, not on the listen thread, so "port in use" is an ordinary error for the caller.
    m_port = m_server.bind(m_options.host, m_options.port);
    if (m_port <= 0) {
      int err = errno;
      throw core::Error(fmt::format("cannot listen on {}: {}",
                                    host_port(m_options.host, m_options.port),
                                    err != 0 ? std::strerror(err) : "bind failed"),
                        core::ExitCode::usage);
    }
    m_context.files_base =
        fmt::format("http://{}", host_port(reachable_host(m_options.host), m_port));

    {
      std::lock_guard lock(m_stop_mutex);
      m_started = true;
    }
    m_sender.start();
    m_runner = std::thread([this] { run_tasks(); });
    if (!m_server.start()) {
      throw core::Error(fmt::format("cannot listen on {}: the server did not start",
                                    host_port(m_options.host, m_port)),
                        core::ExitCode::usage);
    }
  }

  void stop() {
    std::lock_guard stop_lock(m_stop_mutex);
    if (!m_started || m_stopped) {
      return;
    }
    m_stopped = true;

    // Close the queues first: from here on, new callbacks and retries are dropped.
    {
      std::lock_guard lock(m_queue_mutex);
      m_runs_closed = true;
    }
    m_run_cv.notify_all();
    if (m_runner.joinable()) {
      m_runner.join();
    }
    m_sender.close();

    // Handlers blocked in an early callback to a receiver that does not answer would hold
    // the server's stop: abort those POSTs while it waits.
    m_server.stop([this] { m_sender.abort_callers(); });
    m_sender.join();
  }
};

Emulator::Emulator(EmulatorOptions options) : m_impl(std::make_unique<Impl>(std::move(options))) {}

Emulator::~Emulator() {
  stop();
}

void Emulator::start() {
  try {
    m_impl->start();
  } catch (...) {
    // Threads may already run; leave nothing behind for a caller that drops the emulator.
    m_impl->stop();
    throw;
  }
}

int Emulator::port() const {
  return m_impl->m_port;
}

void Emulator::stop() {
  m_impl->stop();
}

} // namespace emulator

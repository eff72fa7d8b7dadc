#include "net/emulator.h"

#include "core/api.h"
#include "core/error.h"
#include "core/json.h"
#include "core/url.h"
#include "net/http_server.h"

#include <fmt/format.h>
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <sys/socket.h>
#include <thread>
#include <unordered_map>
#include <vector>

namespace net {

namespace {

using Clock = std::chrono::steady_clock;

// The same recording for every task: the real service names the dashboard recording here.
constexpr const char* k_recording_id = "6a1d2c3e-0b4f-4e7a-9c1d-2f3e4a5b6c7d";
constexpr const char* k_submit_message =
    "Task has been allocated. Check its status and output at https://dashboard.optexity.com/tasks";
constexpr const char* k_failure_error = "Emulated failure: element not found";
// A valid 1x1 RGBA PNG: enough for a client to decode and save, small enough for benchmarks.
constexpr const char* k_final_screenshot = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR"
                                           "42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

// Delivery retry policy: Optexity says "exponential backoff"; these numbers keep tests fast.
constexpr int k_max_attempts = 8;
constexpr auto k_first_backoff = std::chrono::milliseconds(50);
constexpr auto k_max_backoff = std::chrono::milliseconds(2000);
constexpr int k_sender_threads = 8;
constexpr size_t k_max_clients_per_sender = 64;
constexpr size_t k_payload_limit = 64 * 1024 * 1024;

// One POST of one callback body to one URL; duplicates share the body.
struct Delivery {
  std::string task_id;
  std::string status; // for the log line
  core::Url url;
  std::string api_key; // sent as x-api-key when not empty
  std::shared_ptr<const std::string> body;
  int attempt = 1; // the attempt this delivery will make
  int copy = 0;    // 0 for the original, 1.. for injected duplicates
};

struct Timer {
  Clock::time_point due;
  uint64_t seq; // FIFO among equal due times
  Delivery delivery;
};

// std::push_heap builds a max-heap, so "greater" puts the earliest due time at the front.
bool later(const Timer& a, const Timer& b) {
  return a.due != b.due ? a.due > b.due : a.seq > b.seq;
}

// Keep-alive clients by origin. Each sender thread owns one, so a Client is never shared
// between two concurrent requests; the mutex only lets stop() reach the clients to abort them.
struct ClientCache {
  std::mutex mutex;
  std::map<std::string, std::unique_ptr<httplib::Client>> clients;

  httplib::Client& get(const std::string& origin) {
    std::lock_guard lock(mutex);
    auto it = clients.find(origin);
    if (it != clients.end()) {
      return *it->second;
    }
    // Per-request callback URLs could name endless origins; forgetting them all is simplest.
    if (clients.size() >= k_max_clients_per_sender) {
      clients.clear();
    }
    auto client = std::make_unique<httplib::Client>(origin);
    client->set_keep_alive(true);
    // httplib writes headers and body separately: without this, Nagle plus delayed ACK can
    // stall each callback by 40 ms.
    client->set_tcp_nodelay(true);
    client->set_connection_timeout(5, 0);
    client->set_read_timeout(30, 0);
    client->set_write_timeout(30, 0);
    return *clients.emplace(origin, std::move(client)).first->second;
  }

  // Shuts down any socket in use, so a sender blocked on a slow receiver returns at once.
  void abort_all() {
    std::lock_guard lock(mutex);
    for (auto& [origin, client] : clients) {
      client->stop();
    }
  }
};

struct Outcome {
  bool ok = false;
  std::string what; // "200", "503", or the httplib error name
};

// A request target for httplib: the fragment is never sent, and the path must start with '/'.
std::string request_target(const core::Url& url) {
  std::string path = url.path.substr(0, url.path.find('#'));
  if (path.empty() || path.front() != '/') {
    path.insert(path.begin(), '/');
  }
  return path;
}

Outcome deliver_once(ClientCache& cache, const Delivery& d) {
  httplib::Headers headers;
  if (!d.api_key.empty()) {
    headers.emplace("x-api-key", d.api_key);
  }
  auto& client = cache.get(d.url.origin());
  auto res = client.Post(request_target(d.url), headers, *d.body, "application/json");
  if (!res) {
    return {false, httplib::to_string(res.error()) + " error"};
  }
  return {res->status >= 200 && res->status < 300, std::to_string(res->status)};
}

// FNV-1a: stable across runs and platforms, unlike std::hash, so fake account ids are too.
uint64_t fnv1a(std::string_view text) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string scalar_text(const core::Json& v) {
  return v.is_string() ? v.get<std::string>() : core::dump_line(v);
}

// First value of `key` in input_parameters, when there is one.
std::optional<std::string> first_value(const core::Json& params, const std::string& key) {
  auto it = params.find(key);
  if (it == params.end() || !it->is_array() || it->empty()) {
    return std::nullopt;
  }
  return scalar_text(it->front());
}

// The identifier a real automation would put on its output row: its unique input, or failing
// that its first input, or failing that the endpoint name.
std::string unique_identifier(const core::Json& body) {
  const auto& params = body["input_parameters"];
  const std::string endpoint = body["endpoint_name"].get<std::string>();
  auto unique = body.find("unique_parameter_names");
  if (unique != body.end() && unique->is_array() && !unique->empty()) {
    if (auto v = first_value(params, unique->front().get<std::string>())) {
      return *v;
    }
  }
  if (!params.empty()) {
    if (auto v = first_value(params, params.begin().key())) {
      return *v;
    }
  }
  return endpoint;
}

// The key for transient_503: the same endpoint and inputs, whatever the key order.
std::string canonical_input_key(const core::Json& body) {
  // nlohmann::json (not ordered_json) keeps object keys sorted, which makes the dump canonical.
  core::Json pair = {{"endpoint_name", body["endpoint_name"]},
                     {"input_parameters", body["input_parameters"]}};
  return nlohmann::json::parse(core::dump_line(pair)).dump();
}

std::string host_port(const std::string& host, int port) {
  return host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, port)
                                             : fmt::format("{}:{}", host, port);
}

void reply_json(httplib::Response& res, int status, const core::Json& body) {
  res.status = status;
  res.set_content(core::dump_line(body), "application/json");
}

} // namespace

struct Emulator::Impl {
  EmulatorOptions m_options;
  std::optional<core::Url> m_callback_url; // none when options.callback_url is empty
  int m_port = 0;

  httplib::Server m_server;
  std::thread m_listen_thread;
  std::atomic<bool> m_listen_done{false};
  int m_listen_fd = -1; // seen by the socket options callback during bind

  // RNG and per-input submit counts, shared by all handler threads.
  std::mutex m_state_mutex;
  std::mt19937_64 m_rng;
  std::unordered_map<std::string, int> m_submit_counts;

  // The scheduler's timer heap and the senders' ready queue, under one mutex.
  std::mutex m_queue_mutex;
  std::condition_variable m_timer_cv; // the scheduler: a new earliest timer, or stop
  std::condition_variable m_ready_cv; // the senders: a delivery is due, or stop
  std::vector<Timer> m_timers;
  std::deque<Delivery> m_ready;
  uint64_t m_seq = 0;
  bool m_stopping = false;

  std::thread m_scheduler;
  std::vector<std::thread> m_senders;
  std::atomic<int> m_live_senders{0};

  // Client caches, each used by one thread at a time; stop() reaches them all to abort.
  std::mutex m_clients_mutex;
  std::vector<std::unique_ptr<ClientCache>> m_sender_clients;
  std::vector<std::unique_ptr<ClientCache>> m_early_clients; // lent to submit handlers
  std::vector<ClientCache*> m_early_free;

  std::mutex m_stop_mutex;
  bool m_started = false;
  bool m_stopped = false;

  std::mutex m_log_mutex;

  explicit Impl(EmulatorOptions options) : m_options(std::move(options)) {
    uint64_t seed = m_options.seed;
    if (seed == 0) {
      std::random_device rd;
      seed = (static_cast<uint64_t>(rd()) << 32) ^ rd();
    }
    m_rng.seed(seed);
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

  struct Draw {
    std::string task_id;
    bool fail = false;
    bool drop = false;
    int delay_ms = 0;
  };

  // Everything random about one task in one locked section, so a fixed seed replays a
  // sequential run exactly.
  Draw draw_task() {
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
    d.fail = unit(m_rng) < m_options.fail_rate;
    d.drop = unit(m_rng) < m_options.drop_callback_rate;
    // abs(): a negative jitter from an embedding caller must not make an invalid range.
    int jitter = std::abs(m_options.jitter_ms);
    int lo_ms = m_options.delay_ms - jitter;
    int hi_ms = m_options.delay_ms + jitter;
    d.delay_ms = std::max(0, std::uniform_int_distribution<int>(lo_ms, hi_ms)(m_rng));
    return d;
  }

  // --- the callback payload -----------------------------------------------------------------

  core::Json callback_payload(const core::Json& body, const std::string& task_id, bool fail) {
    const std::string endpoint = body["endpoint_name"].get<std::string>();
    core::Json unique = core::Json::array();
    if (auto it = body.find("unique_parameter_names"); it != body.end() && it->is_array()) {
      unique = *it;
    }
    core::Json output = core::Json::array();
    if (!fail) {
      std::string id = unique_identifier(body);
      output.push_back({{"unique_identifier", id},
                        {"json_data",
                         {{"endpoint", endpoint},
                          {"inputs", body["input_parameters"]},
                          {"account", fmt::format("acct-{:08x}", fnv1a(id) & 0xffffffffull)}}}});
    }
    // Every field of the real payload, in the order the service sends them.
    core::Json p = core::Json::object();
    p["task_id"] = task_id;
    p["recording_id"] = k_recording_id;
    p["endpoint_name"] = endpoint;
    p["status"] = fail ? "failed" : "success";
    p["output_data"] = std::move(output);
    p["error"] = fail ? core::Json(k_failure_error) : core::Json(nullptr);
    p["downloads"] = core::Json::array();
    p["input_parameters"] = body["input_parameters"];
    p["unique_parameter_names"] = std::move(unique);
    p["final_screenshot"] = k_final_screenshot;
    return p;
  }

  // --- scheduling and sending ---------------------------------------------------------------

  // Queues a delivery; false once stopping.
  bool schedule(Delivery d, Clock::time_point due) {
    std::unique_lock lock(m_queue_mutex);
    if (m_stopping) {
      return false;
    }
    // Due work skips the scheduler: with delay 0 the callback leaves one hand-off sooner.
    if (due <= Clock::now()) {
      m_ready.push_back(std::move(d));
      lock.unlock();
      m_ready_cv.notify_one();
      return true;
    }
    m_timers.push_back({due, m_seq++, std::move(d)});
    std::push_heap(m_timers.begin(), m_timers.end(), later);
    bool earliest = m_timers.front().seq == m_seq - 1;
    lock.unlock();
    if (earliest) {
      m_timer_cv.notify_one();
    }
    return true;
  }

  // One thread sleeps until the earliest due time and moves due work to the ready queue;
  // thousands of waiting callbacks cost a heap entry each, not a sleeping thread.
  void run_scheduler() {
    std::unique_lock lock(m_queue_mutex);
    while (!m_stopping) {
      if (m_timers.empty()) {
        m_timer_cv.wait(lock);
        continue;
      }
      auto due = m_timers.front().due;
      if (due > Clock::now()) {
        m_timer_cv.wait_until(lock, due);
        continue;
      }
      size_t moved = 0;
      auto now = Clock::now();
      while (!m_timers.empty() && m_timers.front().due <= now) {
        std::pop_heap(m_timers.begin(), m_timers.end(), later);
        m_ready.push_back(std::move(m_timers.back().delivery));
        m_timers.pop_back();
        ++moved;
      }
      if (moved == 1) {
        m_ready_cv.notify_one();
      } else {
        m_ready_cv.notify_all();
      }
    }
  }

  void run_sender(ClientCache& cache) {
    while (true) {
      Delivery d;
      {
        std::unique_lock lock(m_queue_mutex);
        m_ready_cv.wait(lock, [&] { return m_stopping || !m_ready.empty(); });
        if (m_stopping) {
          return;
        }
        d = std::move(m_ready.front());
        m_ready.pop_front();
      }
      send(cache, std::move(d));
    }
  }

  // One attempt; a non-2xx answer or a connection error is redelivered with backoff, as the
  // real control plane does, so the client's listener may see the same callback again.
  void send(ClientCache& cache, Delivery d) {
    Outcome out = deliver_once(cache, d);
    std::string copy = d.copy == 0 ? "" : fmt::format(" (duplicate {})", d.copy);
    if (out.ok) {
      log("callback {} {}{} -> {}", d.task_id, d.status, copy, out.what);
      return;
    }
    if (d.attempt >= k_max_attempts) {
      log("callback {} {}{} -> {}, gave up after {} attempts",
          d.task_id,
          d.status,
          copy,
          out.what,
          d.attempt);
      return;
    }
    auto backoff = std::min(k_max_backoff, k_first_backoff * (1 << (d.attempt - 1)));
    std::string line = fmt::format("callback {} {}{} -> {} (attempt {} of {})",
                                   d.task_id,
                                   d.status,
                                   copy,
                                   out.what,
                                   d.attempt,
                                   k_max_attempts);
    ++d.attempt;
    if (schedule(std::move(d), Clock::now() + backoff)) {
      log("{}, retry in {} ms", line, backoff.count());
    } else {
      log("{}, not retried: stopping", line);
    }
  }

  // --- HTTP handlers ------------------------------------------------------------------------

  void handle_submit(const httplib::Request& req, httplib::Response& res) {
    if (!m_options.api_key.empty() && req.get_header_value("x-api-key") != m_options.api_key) {
      log("submit -> 401 (missing or wrong x-api-key)");
      reply_json(res, 401, {{"detail", "Invalid or missing API key"}});
      return;
    }
    core::Json body = core::Json::parse(req.body, nullptr, false);
    if (body.is_discarded()) {
      log("submit -> 422 (body is not JSON)");
      reply_json(
          res,
          422,
          {{"detail",
            {{{"type", "json_invalid"}, {"loc", {"body", 0}}, {"msg", "JSON decode error"}}}}});
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
    if (!detail.empty()) {
      log("submit -> 422 ({} problem{})", detail.size(), detail.size() == 1 ? "" : "s");
      reply_json(res, 422, {{"detail", detail}});
      return;
    }
    const std::string endpoint = body["endpoint_name"].get<std::string>();
    const auto& known = m_options.endpoints;
    if (!known.empty() && std::find(known.begin(), known.end(), endpoint) == known.end()) {
      log("submit -> 404 (endpoint '{}' not found)", endpoint);
      reply_json(
          res,
          404,
          {{"success", false}, {"message", fmt::format("Endpoint '{}' not found", endpoint)}});
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
    accept(body, res);
  }

  // Answers 202 and arranges the callback with the faults asked for.
  void accept(const core::Json& body, httplib::Response& res) {
    Draw draw = draw_task();
    const std::string endpoint = body["endpoint_name"].get<std::string>();
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
    std::string plan;
    if (draw.drop) {
      plan = "callback dropped";
    } else if (!url) {
      plan = "no callback URL";
    } else if (m_options.early_callback) {
      plan = fmt::format("{} callback before the 202", draw.fail ? "failed" : "success");
    } else {
      plan = fmt::format("{} callback in {} ms", draw.fail ? "failed" : "success", draw.delay_ms);
    }
    log("submit {} -> 202 task {} ({})", endpoint, draw.task_id, plan);

    if (!draw.drop && url) {
      Delivery d;
      d.task_id = draw.task_id;
      d.status = draw.fail ? "failed" : "success";
      d.url = *url;
      d.api_key = std::move(api_key);
      d.body = std::make_shared<const std::string>(
          core::dump_line(callback_payload(body, draw.task_id, draw.fail)));
      auto due = Clock::now() + std::chrono::milliseconds(draw.delay_ms);
      for (int copy = 1; copy <= m_options.duplicate_callbacks; ++copy) {
        Delivery dup = d;
        dup.copy = copy;
        schedule(std::move(dup), m_options.early_callback ? Clock::now() : due);
      }
      if (m_options.early_callback) {
        send_early(std::move(d));
      } else {
        schedule(std::move(d), due);
      }
    }
    reply_json(
        res, 202, {{"success", true}, {"message", k_submit_message}, {"task_id", draw.task_id}});
  }

  // Early mode: the first attempt runs on the handler thread and its answer is awaited before
  // the 202 is written, so the client sees the callback before it can know the task_id.
  // Retries go through the scheduler like any other.
  void send_early(Delivery d) {
    // Borrow a client cache, so keep-alive works here too and stop() can abort a POST that
    // hangs (a thread_local cache would be out of its reach).
    {
      std::lock_guard lock(m_queue_mutex);
      if (m_stopping) {
        return;
      }
    }
    ClientCache* cache = nullptr;
    {
      std::lock_guard lock(m_clients_mutex);
      if (m_early_free.empty()) {
        m_early_clients.push_back(std::make_unique<ClientCache>());
        m_early_free.push_back(m_early_clients.back().get());
      }
      cache = m_early_free.back();
      m_early_free.pop_back();
    }
    send(*cache, std::move(d));
    std::lock_guard lock(m_clients_mutex);
    m_early_free.push_back(cache);
  }

  void handle_exception(httplib::Response& res, std::exception_ptr ep) {
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
    m_server.new_task_queue = [] { return new httplib::ThreadPool(64); };
    // The default options set SO_REUSEPORT: a second emulator could then share the port and
    // the kernel would split submits between the two. SO_REUSEADDR alone makes that an error.
    use_reuseaddr_only(m_server, m_listen_fd);
    m_server.set_payload_max_length(k_payload_limit);
    m_server.set_tcp_nodelay(true); // see the client's: no Nagle stall on the 202
    m_server.set_read_timeout(5, 0);
    m_server.set_write_timeout(5, 0);
    m_server.set_keep_alive_timeout(5);
    // The default of 5 requests per connection would make a fast client reconnect constantly.
    m_server.set_keep_alive_max_count(10000);

    auto submit = [this](const httplib::Request& req, httplib::Response& res) {
      handle_submit(req, res);
    };
    m_server.Post("/api/v1/inference", submit);
    m_server.Post("/inference", submit);
    m_server.Get("/api/v1/health", [](const httplib::Request&, httplib::Response& res) {
      reply_json(res, 200, {{"status", "healthy"}});
    });
    m_server.set_exception_handler([this](const httplib::Request&,
                                          httplib::Response& res,
                                          std::exception_ptr ep) { handle_exception(res, ep); });
    // httplib calls the error handler for every status >= 400, ours included: only fill in
    // a body for its own errors (unknown path, bad request line, payload too large).
    // The explicit type picks the overload: a lambda fits both std::function signatures.
    m_server.set_error_handler(
        httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
          if (!res.body.empty()) {
            return httplib::Server::HandlerResponse::Unhandled;
          }
          const char* text = res.status == 404   ? "Not Found"
                             : res.status == 405 ? "Method Not Allowed"
                             : res.status == 413 ? "Request Entity Too Large"
                             : res.status < 500  ? "Bad Request"
                                                 : "Internal Server Error";
          reply_json(res, res.status, {{"detail", text}});
          return httplib::Server::HandlerResponse::Handled;
        }));
  }

  void start() {
    if (!m_options.callback_url.empty()) {
      m_callback_url = core::parse_url(m_options.callback_url);
      if (!m_callback_url) {
        throw core::Error(
            fmt::format("--callback-url: not an http(s) URL: \"{}\"", m_options.callback_url));
      }
    }
    setup_server();
    // Bind here, not on the listen thread, so "port in use" is an ordinary error for the caller.
    errno = 0;
    if (m_options.port == 0) {
      m_port = m_server.bind_to_any_port(m_options.host);
    } else {
      m_port = m_server.bind_to_port(m_options.host, m_options.port) ? m_options.port : -1;
    }
    if (m_port <= 0) {
      int err = errno;
      throw core::Error(fmt::format("cannot listen on {}: {}",
                                    host_port(m_options.host, m_options.port),
                                    err != 0 ? std::strerror(err) : "bind failed"),
                        core::ExitCode::usage);
    }

    // httplib 0.11.4 listens with a backlog of 5, so a burst of clients connecting at once can
    // overflow it; listen() again on the bound socket raises the backlog (Linux, BSD).
    widen_backlog(m_listen_fd);

    {
      std::lock_guard lock(m_stop_mutex);
      m_started = true;
    }
    m_scheduler = std::thread([this] { run_scheduler(); });
    for (int i = 0; i < k_sender_threads; ++i) {
      ClientCache* cache = nullptr;
      {
        std::lock_guard lock(m_clients_mutex);
        m_sender_clients.push_back(std::make_unique<ClientCache>());
        cache = m_sender_clients.back().get();
      }
      m_senders.emplace_back([this, cache] {
        run_sender(*cache);
        --m_live_senders;
      });
      ++m_live_senders; // a sender cannot exit before stop(), which start() never overlaps
    }
    m_listen_thread = std::thread([this] {
      m_server.listen_after_bind();
      m_listen_done = true;
    });

    // httplib 0.11.4 has no wait_until_ready(), and its stop() is a no-op until the listen
    // thread has set is_running(): wait for it so that an early stop() cannot be lost.
    auto deadline = Clock::now() + std::chrono::seconds(5);
    while (!m_server.is_running() && !m_listen_done && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (!m_server.is_running()) {
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

    // Stop the queues first: from here on, new callbacks and retries are dropped.
    {
      std::lock_guard lock(m_queue_mutex);
      m_stopping = true;
      m_timers.clear();
      m_ready.clear();
    }
    m_timer_cv.notify_all();
    m_ready_cv.notify_all();

    // httplib's stop() is lost if called before is_running(), and a second call trips its
    // assert: wait, then call it once. A handler may still be blocked in an early callback to
    // a receiver that does not answer, so keep aborting those until the listen thread is done.
    if (m_listen_thread.joinable()) {
      while (!m_server.is_running() && !m_listen_done) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      if (!m_listen_done) {
        m_server.stop();
      }
      while (!m_listen_done) {
        abort_clients(m_early_clients);
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      m_listen_thread.join();
    }

    // Same for senders: one may be blocked in a POST, or just about to start one.
    if (m_scheduler.joinable()) {
      m_scheduler.join();
    }
    while (m_live_senders > 0) {
      abort_clients(m_sender_clients);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    for (auto& t : m_senders) {
      t.join();
    }
  }

  void abort_clients(std::vector<std::unique_ptr<ClientCache>>& caches) {
    std::lock_guard lock(m_clients_mutex);
    for (auto& cache : caches) {
      cache->abort_all();
    }
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

} // namespace net

#include "net/listener.h"

#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "net/http_server.h"

#include <fmt/format.h>
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <netinet/in.h>
#include <stop_token>
#include <sys/socket.h>
#include <thread>
#include <vector>

namespace net {

struct Listener::Impl {
  ListenerOptions opts;
  core::Tracker& tracker;
  std::unique_ptr<httplib::Server> server_ptr;
  // Callbacks whose handler started and whose answer is not yet written (see stop()).
  std::atomic<int> active{0};
  std::thread thread;
  std::jthread reaper; // cuts connections older than the request deadline
  // Refused callbacks are logged at most once a second, with a count of the rest.
  std::mutex refusal_mutex;
  std::chrono::steady_clock::time_point last_refusal_log{};
  size_t refusals_unlogged = 0;
  int port = 0;
  int listen_fd = -1;
  bool stopped = false;

  Impl(ListenerOptions o, core::Tracker& t) : opts(std::move(o)), tracker(t) {}

  void log(const std::string& line) {
    if (opts.log) {
      opts.log(line);
    }
  }

  void log_refusal(const std::string& line) {
    std::lock_guard lock(refusal_mutex);
    auto now = std::chrono::steady_clock::now();
    if (now - last_refusal_log < std::chrono::seconds(1)) {
      ++refusals_unlogged;
      return;
    }
    std::string more =
        refusals_unlogged ? fmt::format(" (and {} more refused since)", refusals_unlogged) : "";
    refusals_unlogged = 0;
    last_refusal_log = now;
    core::log_warning(line + more);
  }
};

namespace {

// The listener's threads, sized by need: a thread per connection being served, started when
// none is idle (up to `max`), ended after a quiet while. A run of one task in flight holds a
// couple of threads, not the hundred a burst of callbacks (or slow strangers) may need.
class ElasticPool final : public httplib::TaskQueue {
public:
  explicit ElasticPool(size_t max) : m_max(std::max<size_t>(1, max)) {}
  ~ElasticPool() override { shutdown(); }
  ElasticPool(const ElasticPool&) = delete;
  ElasticPool& operator=(const ElasticPool&) = delete;

  void enqueue(std::function<void()> fn) override {
    std::lock_guard lock(m_mutex);
    m_jobs.push_back(std::move(fn));
    if (m_idle == 0 && m_workers.size() - m_ended.size() < m_max) {
      spawn_locked();
    }
    m_cv.notify_one();
  }

  void shutdown() override {
    std::map<size_t, std::thread> workers;
    {
      std::lock_guard lock(m_mutex);
      m_shutdown = true;
      workers.swap(m_workers);
    }
    m_cv.notify_all();
    for (auto& [id, thread] : workers) {
      thread.join(); // each first serves the jobs still queued
    }
  }

private:
  static constexpr size_t k_kept = 2; // threads kept when idle
  static constexpr auto k_idle = std::chrono::seconds(10);

  void spawn_locked() {
    for (size_t id : m_ended) { // joins the threads that ended (they no longer hold the lock)
      m_workers.at(id).join();
      m_workers.erase(id);
    }
    m_ended.clear();
    size_t id = m_next_id++;
    m_workers.emplace(id, std::thread([this, id] { work(id); }));
  }

  void work(size_t id) {
    std::unique_lock lock(m_mutex);
    for (;;) {
      ++m_idle;
      bool woken = m_cv.wait_for(lock, k_idle, [&] { return m_shutdown || !m_jobs.empty(); });
      --m_idle;
      if (!m_jobs.empty()) {
        auto fn = std::move(m_jobs.front());
        m_jobs.pop_front();
        lock.unlock();
        fn();
        lock.lock();
        continue;
      }
      if (m_shutdown || (!woken && m_workers.size() - m_ended.size() > k_kept)) {
        m_ended.push_back(id);
        return;
      }
    }
  }

  const size_t m_max;
  std::mutex m_mutex;
  std::condition_variable m_cv;
  std::deque<std::function<void()>> m_jobs;
  std::map<size_t, std::thread> m_workers;
  std::vector<size_t> m_ended; // ended, not yet joined
  size_t m_next_id = 0;
  size_t m_idle = 0;
  bool m_shutdown = false;
};

// httplib's read timeout starts over with every byte, so a client sending a byte a second holds
// a worker thread for as long as it likes. A whole-connection deadline bounds that: every
// second, connections seen for longer than the deadline lose their reading side (a callback
// takes milliseconds; an honest sender whose idle keep-alive connection is cut reconnects).
void reap(Listener::Impl& d, std::stop_token stop) {
  std::map<unsigned long, std::chrono::steady_clock::time_point> first_seen;
  const auto deadline = std::chrono::seconds(d.opts.request_deadline_s);
  while (core::sleep_for(std::chrono::seconds(1), stop)) {
    if (d.port == 0) {
      continue;
    }
    auto now = std::chrono::steady_clock::now();
    std::map<unsigned long, std::chrono::steady_clock::time_point> still_open;
    for (const auto& [inode, fd] : accepted_connections(d.port)) {
      auto it = first_seen.find(inode);
      auto since = it == first_seen.end() ? now : it->second;
      if (now - since > deadline) {
        shutdown_reading(fd, inode);
        d.log(fmt::format("connection open for over {} s cut", d.opts.request_deadline_s));
        continue;
      }
      still_open.emplace(inode, since);
    }
    first_seen = std::move(still_open);
  }
}

} // namespace

Listener::Listener(ListenerOptions options, core::Tracker& tracker)
    : m_impl(std::make_unique<Impl>(std::move(options), tracker)) {}

Listener::~Listener() {
  stop();
}

void Listener::start() {
  Impl& d = *m_impl;
  if (!d.opts.tls_cert.empty() || !d.opts.tls_key.empty()) {
    auto tls =
        std::make_unique<httplib::SSLServer>(d.opts.tls_cert.c_str(), d.opts.tls_key.c_str());
    if (!tls->is_valid()) {
      throw core::Error(fmt::format("--tls-cert/--tls-key: cannot load {} and {} (PEM files, the "
                                    "key matching the certificate)",
                                    d.opts.tls_cert,
                                    d.opts.tls_key));
    }
    d.server_ptr = std::move(tls);
  } else {
    d.server_ptr = std::make_unique<httplib::Server>();
  }
  auto& server = *d.server_ptr;
  int threads = d.opts.threads;
  server.new_task_queue = [threads] { return new ElasticPool(static_cast<size_t>(threads)); };
  use_reuseaddr_only(server, d.listen_fd);
  server.set_payload_max_length(d.opts.max_body_bytes);
  server.set_read_timeout(5, 0);
  server.set_write_timeout(5, 0);
  // Idle keep-alive connections do not delay stop(): it cuts their reading side. (A timeout of
  // 0 would also drop a connection whose first request comes more than ~10 ms after connect.)
  server.set_keep_alive_timeout(5);
  server.set_keep_alive_max_count(1000);
  server.set_tcp_nodelay(true);

  // Every POST path reaches the core handler, which decides from the path and the token.
  server.Post(".*", [&d](const httplib::Request& req, httplib::Response& res) {
    ++d.active;                                  // until the logger sees the answer written
    res.set_header("Cache-Control", "no-store"); // also marks the answer as ours for the logger
    core::CallbackConfig config{
        d.opts.callback_path, d.opts.token, d.opts.callback_key, d.opts.basic_credentials};
    if (d.opts.on_request) {
      core::Json headers = core::Json::object();
      for (const auto& [name, value] : req.headers) {
        std::string lower = name;
        for (auto& ch : lower) {
          ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        }
        if (lower != "x-api-key" && lower != "authorization" && lower != "cookie") {
          headers[name] = value; // credentials never reach a recording
        }
      }
      d.opts.on_request(req.path, headers, req.body);
    }
    const std::string api_key = req.get_header_value("x-api-key");
    const std::string authorization = req.get_header_value("Authorization");
    core::CallbackRequest request{req.path, req.body, api_key, authorization};
    core::CallbackAnswer answer = core::handle_callback(d.tracker, config, request);
    if (answer.status == 401 || answer.status == 404 || answer.status == 409) {
      // Strangers' requests never reach a waiter; say so without flooding stderr.
      d.log_refusal(fmt::format("{} from {}: {}", answer.status, req.remote_addr, answer.log));
    } else {
      d.log(answer.log);
    }
    res.status = answer.status;
    res.set_content(answer.body, "application/json");
  });
  // httplib calls the logger after an answer is written.
  server.set_logger([&d](const httplib::Request&, const httplib::Response& res) {
    if (res.has_header("Cache-Control")) {
      --d.active;
    }
  });
  server.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    // It runs for every status >= 400, our handler's own answers included: keep those.
    if (!res.body.empty()) {
      return;
    }
    // Covers 404 for unknown paths and 413 for bodies over the payload limit.
    std::string message = res.status == 413 ? "payload too large" : "not found";
    if (res.status != 404 && res.status != 413) {
      message = "error";
    }
    res.set_content(fmt::format(R"({{"ok":false,"message":"{}"}})", message), "application/json");
  });
  server.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        res.status = 500;
        res.set_content(R"({"ok":false,"message":"internal error"})", "application/json");
      });

  std::string address = fmt::format("{}:{}", d.opts.host, d.opts.port);
  if (d.opts.port == 0) {
    d.port = server.bind_to_any_port(d.opts.host);
    if (d.port < 0) {
      d.port = 0;
    }
  } else {
    d.port = server.bind_to_port(d.opts.host, d.opts.port) ? d.opts.port : 0;
  }
  if (d.port == 0) {
    int err = errno;
    std::string holder = d.opts.port ? who_listens(d.opts.port) : "";
    throw core::Error(fmt::format("cannot listen on {}: {} ({}try --listen 127.0.0.1:0 for a free "
                                  "port)",
                                  address,
                                  err ? std::strerror(err) : "address unavailable",
                                  holder.empty() ? "" : "it is taken by " + holder + "; "));
  }
  widen_backlog(d.listen_fd);
  d.thread = std::thread([&server] { server.listen_after_bind(); });
  d.reaper = std::jthread([&d](std::stop_token st) { reap(d, st); });
  // httplib 0.11.4 has no wait_until_ready(), and stop() is a no-op until is_running() is set.
  for (int i = 0; i < 500 && !server.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

int Listener::port() const {
  return m_impl->port;
}

std::string Listener::callback_url() const {
  std::string scheme = m_impl->opts.tls_cert.empty() ? "http" : "https";
  std::string host = m_impl->opts.host;
  if (host == "0.0.0.0" || host.empty()) {
    host = "127.0.0.1";
  } else if (host == "::") {
    host = "::1";
  }
  if (host.find(':') != std::string::npos) {
    host = "[" + host + "]";
  }
  return fmt::format("{}://{}:{}{}", scheme, host, m_impl->port, m_impl->opts.callback_path);
}

void Listener::stop() {
  Impl& d = *m_impl;
  if (d.stopped) {
    return;
  }
  d.stopped = true;
  if (d.thread.joinable()) {
    // stop() is ignored until the listen thread has set is_running(): wait (bounded) for it.
    for (int i = 0; i < 500 && !d.server_ptr->is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    d.reaper.request_stop();
    d.server_ptr->stop();
    // Slow or idle clients must not hold the join: end their reading side.
    // Answers being written must go out: httplib checks that a socket is still readable
    // before it writes, so cut nothing while a callback's answer is in progress.
    for (int i = 0; i < 2000 && d.active.load() > 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    shutdown_accepted_connections(d.port);
    d.thread.join();
  }
}

} // namespace net

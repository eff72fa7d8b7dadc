#include "net/listener.h"

#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "core/text.h"
#include "net/http_server.h"

#include <fmt/format.h>
#include <httplib.h>

#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <malloc.h>
#include <map>
#include <mutex>
#include <netinet/in.h>
#include <poll.h>
#include <stop_token>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace net {

struct Listener::Impl {
  ListenerOptions opts;
  core::Tracker& tracker;
  std::unique_ptr<httplib::Server> server_ptr;
  // Callbacks whose handler started and whose answer is not yet written (see stop()).
  std::atomic<int> active{0};
  // Bytes held by bodies being read (see ListenerOptions::max_bodies_in_flight).
  std::atomic<size_t> in_flight{0};
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

// One connection's stream, in place of httplib's: a read buffer kept for the whole connection
// (httplib's is made anew for each request, so a pipelined request read with the one before is
// lost and the connection then idles until its keep-alive timeout), a cap on the bytes of a
// request's line and headers (httplib keeps any number of header lines), and a deadline for each
// request from its first byte (httplib's read timeout starts over with every byte).
class GuardedStream final : public httplib::Stream {
public:
  GuardedStream(int fd, const ListenerOptions& o) : m_fd(fd), m_opts(o) {}

  // Waits (up to `idle`) for the first byte of a next request; false when none comes.
  bool wait_for_request(std::chrono::seconds idle) {
    if (m_off < m_len) {
      return true;
    }
    return wait(POLLIN, std::chrono::steady_clock::now() + idle) && fill() > 0;
  }
  void begin_request() {
    m_in_head = true;
    m_head_bytes = 0;
    m_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(m_opts.request_deadline_s);
  }
  // The head is read: from now on its cap no longer applies.
  void end_head() { m_in_head = false; }
  // The connection ends after this answer (a body was left unread, or cut short).
  void close_after() { m_close = true; }
  bool closing() const { return m_close; }

  bool is_readable() const override { return m_off < m_len || wait(POLLIN, read_deadline()); }
  bool is_writable() const override {
    return wait(
        POLLOUT,
        std::min(request_deadline(), std::chrono::steady_clock::now() + std::chrono::seconds(5)));
  }
  ssize_t read(char* ptr, size_t size) override {
    if (m_off >= m_len) {
      if (m_in_head && m_head_bytes >= m_opts.max_head_bytes) {
        return -1; // a head this large is not a callback's: httplib answers 400
      }
      if (!wait(POLLIN, read_deadline()) || fill() <= 0) {
        return -1;
      }
    }
    size_t n = std::min(size, m_len - m_off);
    if (m_in_head) {
      n = std::min(n, m_opts.max_head_bytes - std::min(m_head_bytes, m_opts.max_head_bytes));
      if (n == 0) {
        return -1;
      }
      m_head_bytes += n;
    }
    std::memcpy(ptr, m_buf + m_off, n);
    m_off += n;
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char* ptr, size_t size) override {
    if (!is_writable()) {
      return -1;
    }
    return ::send(m_fd, ptr, size, MSG_NOSIGNAL);
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    address(true, ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    address(false, ip, port);
  }
  socket_t socket() const override { return m_fd; }

private:
  std::chrono::steady_clock::time_point request_deadline() const {
    return m_deadline == std::chrono::steady_clock::time_point{}
               ? std::chrono::steady_clock::time_point::max()
               : m_deadline;
  }
  // A read waits at most 5 s for its next byte, and never past the request's deadline.
  std::chrono::steady_clock::time_point read_deadline() const {
    return std::min(request_deadline(), std::chrono::steady_clock::now() + std::chrono::seconds(5));
  }
  bool wait(short events, std::chrono::steady_clock::time_point until) const {
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          until - std::chrono::steady_clock::now());
      if (left.count() < 0) {
        return false;
      }
      pollfd p{m_fd, events, 0};
      int rc = ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1000)));
      if (rc > 0) {
        return true;
      }
      if (rc < 0 && errno != EINTR) {
        return false;
      }
    }
  }
  ssize_t fill() {
    ssize_t n;
    do {
      n = ::recv(m_fd, m_buf, sizeof m_buf, 0);
    } while (n < 0 && errno == EINTR);
    m_off = 0;
    m_len = n > 0 ? static_cast<size_t>(n) : 0;
    return n;
  }
  void address(bool peer, std::string& ip, int& port) const {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    int rc = peer ? getpeername(m_fd, reinterpret_cast<sockaddr*>(&addr), &len)
                  : getsockname(m_fd, reinterpret_cast<sockaddr*>(&addr), &len);
    char text[INET6_ADDRSTRLEN] = "";
    port = 0;
    if (rc == 0 && addr.ss_family == AF_INET) {
      auto* in = reinterpret_cast<sockaddr_in*>(&addr);
      inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
      port = ntohs(in->sin_port);
    } else if (rc == 0 && addr.ss_family == AF_INET6) {
      auto* in6 = reinterpret_cast<sockaddr_in6*>(&addr);
      inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
      port = ntohs(in6->sin6_port);
    }
    ip = text;
  }

  int m_fd;
  const ListenerOptions& m_opts;
  char m_buf[4096];
  size_t m_off = 0;
  size_t m_len = 0;
  bool m_in_head = false;
  size_t m_head_bytes = 0;
  bool m_close = false;
  std::chrono::steady_clock::time_point m_deadline{};
};

// The stream of the connection this thread serves (plain HTTP), for the handlers.
thread_local GuardedStream* t_stream = nullptr;

// httplib's server with its connection loop replaced by one over a GuardedStream. (HTTPS keeps
// httplib's own loop, one request per connection; see Listener::start.)
class GuardedServer final : public httplib::Server {
public:
  explicit GuardedServer(const ListenerOptions& o) : m_opts(o) {}

private:
  bool process_and_close_socket(socket_t sock) override {
    bool ret = false;
    {
      GuardedStream strm(sock, m_opts);
      t_stream = &strm;
      for (size_t n = 0; n < k_requests_per_connection && svr_sock_ != INVALID_SOCKET; ++n) {
        if (!strm.wait_for_request(std::chrono::seconds(5))) {
          break;
        }
        strm.begin_request();
        bool closed = false;
        ret = process_request(strm, n + 1 == k_requests_per_connection, closed, nullptr);
        if (!ret || closed || strm.closing()) {
          break;
        }
      }
      t_stream = nullptr;
    }
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
    return ret;
  }

  static constexpr size_t k_requests_per_connection = 1000;
  const ListenerOptions& m_opts;
};

// The request's headers as JSON for a recording, credentials left out.
core::Json recorded_headers(const httplib::Request& req) {
  core::Json headers = core::Json::object();
  for (const auto& [name, value] : req.headers) {
    std::string l = core::lower(name);
    if (l != "x-api-key" && l != "authorization" && l != "cookie" && l != "remote_addr" &&
        l != "remote_port" && l != "local_addr" && l != "local_port") {
      headers[name] = value;
    }
  }
  return headers;
}

// What the head of `req` decides (core::screen_callback_head).
core::HeadVerdict screen(const Listener::Impl& d, const httplib::Request& req) {
  core::CallbackConfig config{
      d.opts.callback_path, d.opts.token, d.opts.callback_key, d.opts.basic_credentials};
  const std::string api_key = req.get_header_value("x-api-key");
  const std::string authorization = req.get_header_value("Authorization");
  const std::string encoding = req.get_header_value("Content-Encoding");
  const std::string type = req.get_header_value("Content-Type");
  const std::string te = req.get_header_value("Transfer-Encoding");
  const std::string length = req.get_header_value("Content-Length");
  core::CallbackHead head;
  head.method = req.method;
  head.path = req.path;
  head.api_key = api_key;
  head.authorization = authorization;
  head.content_encoding = encoding;
  head.content_type = type;
  head.transfer_encoding = te;
  if (req.has_header("Content-Length")) {
    head.content_length = length;
  }
  return core::screen_callback_head(config, head, d.opts.max_body_bytes);
}

void answer(httplib::Response& res, const core::CallbackAnswer& a) {
  res.status = a.status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(a.body, "application/json");
}

// Ends the connection after this answer: its body was not read (or not all of it).
void close_after(httplib::Response& res) {
  res.set_header("Connection", "close");
  if (t_stream) {
    t_stream->close_after();
  }
}

// The verdict on the head of the request this thread serves (set before routing, read by the
// body handler: the head is judged once).
thread_local core::HeadVerdict t_verdict;

// What a request's body holds of the listener's in-flight budget: taken before the memory is,
// given back when the request is done, whatever happens.
class BudgetShare {
public:
  BudgetShare(std::atomic<size_t>& pool, size_t limit) : m_pool(pool), m_limit(limit) {}
  ~BudgetShare() { m_pool -= m_held; }
  BudgetShare(const BudgetShare&) = delete;
  BudgetShare& operator=(const BudgetShare&) = delete;

  bool take(size_t n) {
    size_t now = m_pool.load();
    do {
      if (now + n > m_limit) {
        return false;
      }
    } while (!m_pool.compare_exchange_weak(now, now + n));
    m_held += n;
    return true;
  }
  void give(size_t n) {
    m_pool -= n;
    m_held -= n;
  }

private:
  std::atomic<size_t>& m_pool;
  const size_t m_limit;
  size_t m_held = 0;
};

enum class BodyRead { whole, too_large, busy, cut_short };

// Reads an accepted request's body into `body` under the per-body limit, counting its memory in
// `share` before it is taken. A declared length is reserved up to 1 MiB; past that the body grows
// as bytes come (doubling, never past the declared length), so a sender that declares much and
// sends little holds little.
BodyRead read_body(const ListenerOptions& opts,
                   const core::HeadVerdict& verdict,
                   const httplib::ContentReader& read,
                   BudgetShare& share,
                   std::string& body) {
  // Exactly `want` bytes of room; while the old buffer is copied both are held, and counted.
  auto grow = [&](size_t want) {
    if (!share.take(want)) {
      return false;
    }
    size_t before = body.capacity() > 15 ? body.capacity() : 0; // 15: kept inline, no heap
    std::string bigger;
    bigger.reserve(want);
    bigger.append(body);
    body.swap(bigger);
    std::string().swap(bigger);
    share.give(before);
    return true;
  };
  size_t first = std::min(verdict.length.value_or(0), size_t{1} << 20);
  if (first > 0 && !grow(first)) {
    return BodyRead::busy;
  }
  BodyRead outcome = BodyRead::whole;
  bool read_all = read([&](const char* data, size_t n) {
    if (body.size() + n > opts.max_body_bytes) {
      outcome = BodyRead::too_large;
      return false;
    }
    if (body.size() + n > body.capacity()) {
      size_t want = std::max(body.capacity() * 2, body.size() + n);
      if (verdict.length) {
        want = std::min(want, std::max(*verdict.length, body.size() + n));
      }
      if (!grow(std::min(want, opts.max_body_bytes))) {
        outcome = BodyRead::busy;
        return false;
      }
    }
    body.append(data, n);
    return true;
  });
  return !read_all && outcome == BodyRead::whole ? BodyRead::cut_short : outcome;
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
    // httplib's own connection loop: one request per connection, so a body left unread by a
    // refusal is never taken for a next request.
    d.server_ptr->set_keep_alive_max_count(1);
  } else {
    d.server_ptr = std::make_unique<GuardedServer>(d.opts);
  }
  auto& server = *d.server_ptr;
  // Large blocks (bodies) from mmap, given back to the system when freed: glibc would otherwise
  // keep freed bodies of up to 32 MiB in its heaps, and what a stranger made the run hold once
  // would stay held. (Fixing the threshold also ends glibc's raising it as blocks are freed.)
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  int threads = d.opts.threads;
  server.new_task_queue = [threads] { return new ElasticPool(static_cast<size_t>(threads)); };
  use_reuseaddr_only(server, d.listen_fd);
  server.set_payload_max_length(d.opts.max_body_bytes);
  server.set_read_timeout(5, 0);
  server.set_write_timeout(5, 0);
  // Idle keep-alive connections do not delay stop(): it cuts their reading side. (A timeout of
  // 0 would also drop a connection whose first request comes more than ~10 ms after connect.)
  server.set_keep_alive_timeout(5);
  server.set_keep_alive_max_count(1000); // what GuardedServer serves per connection
  server.set_tcp_nodelay(true);

  // Every request is judged by its line and headers first, before a byte of its body is read:
  // a refusal costs its sender's bytes, not ours, and closes the connection. (Before routing:
  // httplib reads the body of anything that is not a POST to a content-reader route itself.)
  server.set_pre_routing_handler([&d](const httplib::Request& req, httplib::Response& res) {
    if (t_stream) {
      t_stream->end_head();
    }
    core::HeadVerdict verdict = screen(d, req);
    if (verdict.read_body) {
      t_verdict = std::move(verdict); // for the body handler
      return httplib::Server::HandlerResponse::Unhandled;
    }
    ++d.active; // until the logger sees the answer written
    answer(res, verdict.refusal);
    if (verdict.refusal.status == 405) {
      res.set_header("Allow", "POST");
    }
    close_after(res);
    d.log_refusal(fmt::format(
        "{} from {}: {}", verdict.refusal.status, req.remote_addr, verdict.refusal.log));
    if (d.opts.on_request) {
      size_t declared = verdict.length.value_or(0);
      if (!verdict.length && req.has_header("Content-Length")) {
        declared = static_cast<size_t>(
            std::strtoull(req.get_header_value("Content-Length").c_str(), nullptr, 10));
      }
      d.opts.on_request(req.path, recorded_headers(req), nullptr, declared, verdict.refusal.status);
    }
    return httplib::Server::HandlerResponse::Handled;
  });
  // A sender that asks first (Expect: 100-continue) hears the refusal before sending its body.
  server.set_expect_100_continue_handler([&d](const httplib::Request& req, httplib::Response& res) {
    core::HeadVerdict verdict = screen(d, req);
    if (verdict.read_body) {
      return 100;
    }
    ++d.active;
    answer(res, verdict.refusal);
    close_after(res);
    return verdict.refusal.status;
  });

  // The body of an accepted head: read under the per-body and all-bodies limits, then screened.
  server.Post(
      ".*",
      [&d](
          const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& read) {
        ++d.active; // until the logger sees the answer written
        const core::HeadVerdict& verdict = t_verdict;
        BudgetShare share(d.in_flight, d.opts.max_bodies_in_flight);
        std::string body;
        BodyRead outcome = read_body(d.opts, verdict, read, share, body);
        // Screening reads the body with nlohmann's lexer, whose buffer for one string can grow
        // to twice that string: counted before it starts.
        if (outcome == BodyRead::whole && !share.take(2 * body.size())) {
          outcome = BodyRead::busy;
        }
        core::CallbackAnswer result;
        size_t bytes = body.size();
        switch (outcome) {
        case BodyRead::too_large:
          result = {
              413,
              R"({"ok":false,"message":"payload too large"})",
              fmt::format("callback refused: body over the {} byte limit", d.opts.max_body_bytes)};
          break;
        case BodyRead::busy:
          result = {503,
                    R"({"ok":false,"message":"busy, retry later"})",
                    "callback refused: the bodies being read hold the memory allowed them; its "
                    "sender redelivers"};
          res.set_header("Retry-After", "1");
          break;
        case BodyRead::cut_short:
          result = {400,
                    R"({"ok":false,"message":"body cut short"})",
                    "callback refused: body cut short or malformed chunks"};
          break;
        case BodyRead::whole: {
          std::string recorded = d.opts.on_request ? body : std::string();
          result = core::handle_callback_body(d.tracker, verdict.route_key, std::move(body));
          body = std::move(recorded);
          break;
        }
        }
        answer(res, result);
        if (outcome != BodyRead::whole) {
          close_after(res); // the body, or the rest of it, is left unread
        }
        if (result.status == 401 || result.status == 404 || result.status == 409 ||
            result.status == 413 || result.status == 400) {
          d.log_refusal(fmt::format("{} from {}: {}", result.status, req.remote_addr, result.log));
        } else {
          d.log(result.log);
        }
        if (d.opts.on_request) {
          bool kept = result.status < 300;
          d.opts.on_request(
              req.path, recorded_headers(req), kept ? &body : nullptr, bytes, result.status);
        }
      });
  // httplib calls the logger after an answer is written.
  server.set_logger([&d](const httplib::Request&, const httplib::Response& res) {
    if (res.has_header("Cache-Control")) {
      --d.active;
    }
  });
  server.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    // It runs for every status >= 400, our handlers' own answers included: keep those.
    if (!res.body.empty()) {
      return;
    }
    // httplib's own answers: a head too large or malformed (400), a URI too long (414).
    res.set_content(R"({"ok":false,"message":"bad request"})", "application/json");
    res.set_header("Connection", "close");
  });
  server.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        res.status = 500;
        res.set_content(R"({"ok":false,"message":"internal error"})", "application/json");
        close_after(res);
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
    // Two stages of one pipeline both on the default port: say so, and what each needs.
    const bool ours = holder.starts_with("optexity-chain");
    throw core::Error(fmt::format(
        "cannot listen on {}: {} ({}{})",
        address,
        err ? std::strerror(err) : "address unavailable",
        holder.empty() ? ""
                       : "it is taken by " + holder +
                             (ours ? ", another run or another "
                                     "stage of this pipeline: "
                                   : "; "),
        ours ? "give each its own --listen port, and its own --public-url against the service; "
               "--listen 127.0.0.1:0 picks a free one"
             : "try --listen 127.0.0.1:0 for a free port"));
  }
  widen_backlog(d.listen_fd);
  d.thread = std::thread([&server] { server.listen_after_bind(); });
  if (!d.opts.tls_cert.empty()) {
    // A GuardedStream bounds each request's time itself; httplib's TLS stream does not.
    d.reaper = std::jthread([&d](std::stop_token st) { reap(d, st); });
  }
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

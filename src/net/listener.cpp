#include "net/listener.h"

#include "core/error.h"
#include "net/http_server.h"

#include <fmt/format.h>
#include <httplib.h>

#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <sys/socket.h>
#include <thread>

namespace net {

struct Listener::Impl {
  ListenerOptions opts;
  core::Tracker& tracker;
  httplib::Server server;
  std::thread thread;
  int port = 0;
  int listen_fd = -1;
  bool stopped = false;

  Impl(ListenerOptions o, core::Tracker& t) : opts(std::move(o)), tracker(t) {}

  void log(const std::string& line) {
    if (opts.log) {
      opts.log(line);
    }
  }
};

Listener::Listener(ListenerOptions options, core::Tracker& tracker)
    : m_impl(std::make_unique<Impl>(std::move(options), tracker)) {}

Listener::~Listener() {
  stop();
}

void Listener::start() {
  Impl& d = *m_impl;
  auto& server = d.server;
  int threads = d.opts.threads;
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  use_reuseaddr_only(server, d.listen_fd);
  server.set_payload_max_length(d.opts.max_body_bytes);
  server.set_read_timeout(5, 0);
  server.set_write_timeout(5, 0);
  // 0 s: a connection stays open only while requests follow each other closely (httplib polls
  // it briefly), so stop() never waits seconds for idle keep-alive connections.
  server.set_keep_alive_timeout(0);
  server.set_keep_alive_max_count(1000);
  server.set_tcp_nodelay(true);

  // Every POST path reaches the core handler, which decides from the path and the token.
  server.Post(".*", [&d](const httplib::Request& req, httplib::Response& res) {
    core::CallbackConfig config{d.opts.callback_path, d.opts.token};
    core::CallbackAnswer answer = core::handle_callback(d.tracker, config, req.path, req.body);
    d.log(answer.log);
    res.status = answer.status;
    res.set_content(answer.body, "application/json");
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
    throw core::Error(fmt::format("cannot listen on {}: {} (is another run using it? try --listen "
                                  "127.0.0.1:0 for a free port)",
                                  address,
                                  err ? std::strerror(err) : "address unavailable"));
  }
  widen_backlog(d.listen_fd);
  d.thread = std::thread([&server] { server.listen_after_bind(); });
  // httplib 0.11.4 has no wait_until_ready(), and stop() is a no-op until is_running() is set.
  for (int i = 0; i < 500 && !server.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

int Listener::port() const {
  return m_impl->port;
}

std::string Listener::callback_url() const {
  std::string host = m_impl->opts.host;
  if (host == "0.0.0.0" || host.empty()) {
    host = "127.0.0.1";
  } else if (host == "::") {
    host = "::1";
  }
  if (host.find(':') != std::string::npos) {
    host = "[" + host + "]";
  }
  return fmt::format("http://{}:{}{}", host, m_impl->port, m_impl->opts.callback_path);
}

void Listener::stop() {
  Impl& d = *m_impl;
  if (d.stopped) {
    return;
  }
  d.stopped = true;
  if (d.thread.joinable()) {
    // stop() is ignored until the listen thread has set is_running(): wait (bounded) for it.
    for (int i = 0; i < 500 && !d.server.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    d.server.stop();
    // Slow or idle clients must not hold the join: cut their connections.
    shutdown_accepted_connections(d.port);
    d.thread.join();
  }
}

} // namespace net

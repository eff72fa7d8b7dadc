#pragma once

#include "core/callback_handler.h"

#include <functional>
#include <memory>
#include <string>

namespace net {

struct ListenerOptions {
  std::string host = "127.0.0.1";
  int port = 4000; // 0 picks a free port
  std::string callback_path = "/receive_callback";
  std::string token; // set: only per-run URLs <callback path>/<token>/<input key> are accepted
  std::string callback_key;      // set: required as x-api-key or Authorization: Bearer
  std::string basic_credentials; // set ("user:password"): accepted as Authorization: Basic
  std::string tls_cert;          // set with tls_key: serve HTTPS
  std::string tls_key;
  size_t max_body_bytes = size_t{64} << 20;
  int threads = 128; // at most, for concurrent connections (started as needed, not up front)
  int request_deadline_s = 30; // a connection still open after this long is cut (slow clients)
  std::function<void(const std::string&)> log; // debug lines
  // Called with every POST (path, headers without credentials as JSON, raw body): --record.
  std::function<void(const std::string&, const core::Json&, const std::string&)> on_request;
};

// The callback server: accepts POSTs on the callback path and hands each body to
// core::handle_callback, answering at once. Runs on background threads.
class Listener {
public:
  Listener(ListenerOptions options, core::Tracker& tracker);
  ~Listener(); // stops
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // Binds on the calling thread (a port in use is a core::Error naming the address, exit 2),
  // then serves on a background thread; returns once the server runs.
  void start();
  int port() const;
  // "http://host:port" + callback path: the URL the emulator (or a local worker) calls back.
  std::string callback_url() const;
  // Stops serving and joins; idempotent.
  void stop();

  struct Impl; // public so the connection reaper in listener.cpp can see it

private:
  std::unique_ptr<Impl> m_impl;
};

} // namespace net

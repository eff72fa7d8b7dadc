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
  // A body (with all its screenshots as base64) larger than this is refused (413).
  size_t max_body_bytes = size_t{32} << 20;
  // Bodies being read, all connections together, counted as the memory they take: past it a
  // callback is answered 503 (its sender redelivers). At least 3 max_body_bytes: a body grows
  // by doubling (the old buffer held while it is copied into the new), and screening it may
  // take twice its size again (nlohmann's lexer buffers a string as it reads it).
  size_t max_bodies_in_flight = size_t{96} << 20;
  // A request line and headers larger than this are refused (400) as they arrive.
  // (httplib keeps each header line as a map entry: 8 KiB of tiny lines take ~180 KB.)
  size_t max_head_bytes = size_t{8} << 10;
  int threads = 128; // at most, for concurrent connections (started as needed, not up front)
  int request_deadline_s = 30; // a request not read in full this long after its first byte is cut
  std::function<void(const std::string&)> log; // debug lines
  // Called with every request once answered (--record): its path, its headers without
  // credentials, its body when one was read and kept (else null), the body's size (read, or
  // declared when refused unread) and the status answered.
  std::function<void(const std::string& path,
                     const core::Json& headers,
                     const std::string* body,
                     size_t bytes,
                     int status)>
      on_request;
};

// The callback server: accepts POSTs on the callback path and hands each body to
// core::handle_callback_body, answering at once. Runs on background threads. What a stranger can
// make it spend is bounded: a request is judged by its line and headers before a byte of its body
// is read (refused: the body is never read and the connection is closed), heads are capped, bodies
// are capped one by one and all together, nothing is inflated, and a body is screened in linear
// time without being built (core::handle_callback_body).
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

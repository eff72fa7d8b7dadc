#pragma once

#include "core/json.h"
#include "core/retry.h"
#include "core/url.h"
#include "net/service.h"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>

namespace net {

struct ClientOptions {
  core::ApiEndpoints api;
  std::string api_key; // sent as x-api-key when set; never printed
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds read_timeout{60000};
  core::RetryPolicy retry;
  // Submits reuse a connection answered less than a second ago (saves a TCP handshake per
  // task in a sequential run). Off with many submits in flight: new connections spread the
  // service's callbacks, and a burst of callbacks holds the listener's threads longer.
  bool reuse_connections = true;
  uint64_t seed = 0;                           // jitter; 0: random
  std::function<void(const std::string&)> log; // debug lines (stderr with -v)
};

// Submits inference requests over HTTP(S) with the retry policy of core::decide_retry.
// Thread-safe: each call borrows its own connection. Returns a value, never throws for an
// ordinary failure.
class Client : public Service {
public:
  explicit Client(ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // POSTs one request; a requested stop cuts backoff sleeps short (the input then fails with
  // "interrupted").
  SubmitResult submit(const core::Json& request, std::stop_token stop = {}) override;

  // GET /api/v1/task_status?task_id=... at the status base URL.
  StatusReply task_status(const std::string& task_id) override;
  // POST /api/v1/get_callback_data {task_id, endpoint_name}: the payload a callback carries.
  StatusReply callback_data(const std::string& task_id, const std::string& endpoint) override;

  // POST /api/v1/validate_api_key with the key as a JSON string: {"valid", "message"} (login).
  StatusReply validate_api_key(const std::string& key);

  // Aborts every request in progress (their sockets are shut down); used on interrupt.
  void cancel_all() override;

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

} // namespace net

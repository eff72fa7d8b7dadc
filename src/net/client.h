#pragma once

#include "core/json.h"
#include "core/retry.h"
#include "core/url.h"

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
  uint64_t seed = 0;                           // jitter; 0: random
  std::function<void(const std::string&)> log; // debug lines (stderr with -v)
};

// How one submit ended.
struct SubmitResult {
  enum class Kind {
    accepted, // the service created the task: `task_id`
    failed,   // it did not, or we cannot know (`error` says which)
    refused,  // 401/403/404: a problem every input shares (bad key, unknown endpoint)
  };
  Kind kind = Kind::failed;
  std::string task_id;
  std::string error;
  int http_status = 0;
  bool unknown_outcome = false; // failed after the request was sent: the task may exist
  bool unreachable = false;     // no connection could be made (DNS, refused, TLS), all retries
};

// One answer of the status API (task_status, get_callback_data).
struct StatusReply {
  bool available = false; // false: no status API there (no base URL, a non-JSON answer)
  int http_status = 0;
  core::Json body;   // the answer's JSON (when available)
  std::string error; // what went wrong, when it did
};

// Submits inference requests over HTTP(S) with the retry policy of core::decide_retry.
// Thread-safe: each call borrows its own connection. Returns a value, never throws for an
// ordinary failure.
class Client {
public:
  explicit Client(ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // POSTs one request; a requested stop cuts backoff sleeps short (the input then fails with
  // "interrupted").
  SubmitResult submit(const core::Json& request, std::stop_token stop = {});

  // GET /api/v1/task_status?task_id=... at the status base URL.
  StatusReply task_status(const std::string& task_id);
  // POST /api/v1/get_callback_data {task_id, endpoint_name}: the payload a callback carries.
  StatusReply callback_data(const std::string& task_id, const std::string& endpoint);

  // Aborts every request in progress (their sockets are shut down); used on interrupt.
  void cancel_all();

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

} // namespace net

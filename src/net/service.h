#pragma once

#include "core/json.h"

#include <stop_token>
#include <string>

namespace net {

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

// What a run asks of the service: the HTTP client in a real run, recorded answers in a replay.
class Service {
public:
  virtual ~Service() = default;
  // POSTs one inference request; a requested stop cuts backoff sleeps short.
  virtual SubmitResult submit(const core::Json& request, std::stop_token stop = {}) = 0;
  // GET /api/v1/task_status?task_id=...
  virtual StatusReply task_status(const std::string& task_id) = 0;
  // POST /api/v1/get_callback_data {task_id, endpoint_name}: the payload a callback carries.
  virtual StatusReply callback_data(const std::string& task_id, const std::string& endpoint) = 0;
  // Aborts every request in progress; used on interrupt.
  virtual void cancel_all() = 0;
};

} // namespace net

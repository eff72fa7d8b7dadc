#pragma once

#include "core/json.h"
#include "core/wait_policy.h"
#include "net/service.h"

#include <chrono>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>

namespace runner {

// What one status check of a task found.
struct StatusCheck {
  bool answered = false; // false: no status API, or it could not be asked (`error` says why)
  core::TaskState state;
  std::string error;
};

// Asks the service about `task_id` (task_status); a transport failure is tried twice more.
StatusCheck check_status(net::Service& service, const std::string& task_id, std::stop_token stop);

// The payload the callback of an ended task carried (get_callback_data); nullopt when the
// service cannot give it.
std::optional<core::Json>
fetch_result(net::Service& service, const std::string& task_id, const std::string& endpoint);

// Both: the result of `task_id` when the service says it has ended; nullopt while it runs, or
// when the service has no status API or cannot be asked.
std::optional<core::Json> fetch_final_result(net::Service& service,
                                             const std::string& task_id,
                                             const std::string& endpoint,
                                             std::stop_token stop);

// Status checks paced across the whole run (deadlines, stragglers, --poll, the watchdog all
// share one rate), submits passed through. A stop (cancel_all) ends a pause at once.
class PacedService : public net::Service {
public:
  PacedService(net::Service& inner, double per_second, int burst);

  net::SubmitResult submit(const core::Json& request, std::stop_token stop = {}) override;
  net::StatusReply task_status(const std::string& task_id) override;
  net::StatusReply callback_data(const std::string& task_id, const std::string& endpoint) override;
  void cancel_all() override;

private:
  bool pace();

  net::Service& m_inner;
  core::RateLimit m_limit;
  std::stop_source m_stop;
};

} // namespace runner

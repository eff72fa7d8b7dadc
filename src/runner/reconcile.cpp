#include "runner/reconcile.h"

#include "core/api.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/output.h"

#include <fmt/format.h>

namespace runner {

using core::Json;

StatusCheck check_status(net::Service& service, const std::string& task_id, std::stop_token stop) {
  net::StatusReply status = service.task_status(task_id);
  // A transport failure (not an answer) is worth two more tries.
  for (int attempt = 1;
       attempt <= 2 && !status.available && status.http_status == 0 &&
       status.error.find("no status API") == std::string::npos && !stop.stop_requested();
       ++attempt) {
    core::sleep_for(std::chrono::milliseconds(200 * attempt), stop);
    status = service.task_status(task_id);
  }
  StatusCheck check;
  if (!status.available) {
    check.error = status.error;
    core::log_debug(fmt::format("status check for {}: {}", task_id, status.error));
    return check;
  }
  check.answered = true;
  check.state = core::read_task_state(status.body, task_id);
  core::log_debug(fmt::format("status check for {}: {}",
                              task_id,
                              check.state.status.empty() ? status.error : check.state.status));
  return check;
}

std::optional<Json>
fetch_result(net::Service& service, const std::string& task_id, const std::string& endpoint) {
  net::StatusReply data = service.callback_data(task_id, endpoint);
  if (!data.available || !data.error.empty()) {
    core::log_debug(fmt::format("get_callback_data for {}: {}", task_id, data.error));
    return std::nullopt;
  }
  return core::result_line(data.body); // the same payload `result TASK_ID` prints
}

std::optional<Json> fetch_final_result(net::Service& service,
                                       const std::string& task_id,
                                       const std::string& endpoint,
                                       std::stop_token stop) {
  StatusCheck check = check_status(service, task_id, stop);
  if (!check.answered || !core::is_terminal_status(check.state.status)) {
    return std::nullopt;
  }
  return fetch_result(service, task_id, endpoint);
}

PacedService::PacedService(net::Service& inner, double per_second, int burst)
    : m_inner(inner), m_limit(per_second, burst) {}

net::SubmitResult PacedService::submit(const Json& request, std::stop_token stop) {
  return m_inner.submit(request, std::move(stop));
}

bool PacedService::pace() {
  auto now = std::chrono::steady_clock::now();
  auto slot = m_limit.reserve(now);
  if (slot <= now) {
    return !m_stop.stop_requested();
  }
  return core::sleep_for(std::chrono::ceil<std::chrono::milliseconds>(slot - now),
                         m_stop.get_token());
}

net::StatusReply PacedService::task_status(const std::string& task_id) {
  if (!pace()) {
    return net::StatusReply{.available = false, .http_status = 0, .body = {}, .error = "stopped"};
  }
  return m_inner.task_status(task_id);
}

net::StatusReply PacedService::callback_data(const std::string& task_id,
                                             const std::string& endpoint) {
  if (!pace()) {
    return net::StatusReply{.available = false, .http_status = 0, .body = {}, .error = "stopped"};
  }
  return m_inner.callback_data(task_id, endpoint);
}

void PacedService::cancel_all() {
  m_stop.request_stop();
  m_inner.cancel_all();
}

} // namespace runner

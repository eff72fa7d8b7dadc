#include "runner/reconcile.h"

#include "core/api.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/output.h"

#include <fmt/format.h>

namespace runner {

using core::Json;

std::optional<Json> fetch_final_result(net::Service& service,
                                       const std::string& task_id,
                                       const std::string& endpoint,
                                       std::stop_token stop) {
  net::StatusReply status = service.task_status(task_id);
  // A transport failure (not an answer) is worth two more tries before calling it a timeout.
  for (int attempt = 1;
       attempt <= 2 && !status.available && status.http_status == 0 &&
       status.error.find("no status API") == std::string::npos && !stop.stop_requested();
       ++attempt) {
    core::sleep_for(std::chrono::milliseconds(200 * attempt), stop);
    status = service.task_status(task_id);
  }
  if (!status.available) {
    core::log_debug(fmt::format("status check for {}: {}", task_id, status.error));
    return std::nullopt;
  }
  const Json* task = status.body.contains("task") ? &status.body["task"] : &status.body;
  std::string state = task->is_object() && task->contains("status") && (*task)["status"].is_string()
                          ? (*task)["status"].get<std::string>()
                          : std::string();
  core::log_debug(
      fmt::format("status check for {}: {}", task_id, state.empty() ? status.error : state));
  if (!core::is_terminal_status(state)) {
    return std::nullopt;
  }
  net::StatusReply data = service.callback_data(task_id, endpoint);
  if (!data.available || !data.error.empty()) {
    core::log_debug(fmt::format("get_callback_data for {}: {}", task_id, data.error));
    return std::nullopt;
  }
  Json payload = data.body.contains("data") ? data.body["data"] : data.body;
  if (!payload.is_object()) {
    return std::nullopt;
  }
  return payload;
}

void complete_at_deadline(core::Waiter& waiter,
                          net::Service& service,
                          const std::optional<std::string>& task_id,
                          const std::string& endpoint,
                          const std::string& where,
                          std::chrono::milliseconds timeout,
                          const Json& params,
                          std::stop_token stop) {
  if (waiter.done()) {
    return;
  }
  if (task_id) {
    if (auto payload = fetch_final_result(service, *task_id, endpoint, stop)) {
      core::log_warning(
          fmt::format("{}: no callback for task {}, but the service says it ended: result fetched",
                      where,
                      *task_id));
      waiter.complete(std::move(*payload));
      return;
    }
  }
  if (stop.stop_requested()) {
    return; // a check cut short by a signal proves nothing: the task is interrupted, not late
  }
  waiter.complete(core::failure_line(
      core::status::timeout,
      fmt::format("no callback within {:g} s", std::chrono::duration<double>(timeout).count()),
      params,
      task_id));
}

} // namespace runner

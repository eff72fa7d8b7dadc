#pragma once

#include "core/json.h"
#include "core/tracker.h"
#include "net/service.h"

#include <chrono>
#include <optional>
#include <stop_token>
#include <string>

namespace runner {

// Asks the service whether `task_id` has ended (task_status) and, when it has, fetches the
// payload its callback carried (get_callback_data). Used when a callback is late or lost.
// nullopt while the task runs, or when the service has no status API or cannot be asked.
std::optional<core::Json> fetch_final_result(net::Service& service,
                                             const std::string& task_id,
                                             const std::string& endpoint,
                                             std::stop_token stop);

// At a task's deadline: completes `waiter` with the result the service reports for `task_id`
// (its callback was lost: the service gives up after 5 minutes, a worker crash sends none), or
// else with a timeout line. `where` names the task in the warning ("items.csv:3: step login").
void complete_at_deadline(core::Waiter& waiter,
                          net::Service& service,
                          const std::optional<std::string>& task_id,
                          const std::string& endpoint,
                          const std::string& where,
                          std::chrono::milliseconds timeout,
                          const core::Json& params,
                          std::stop_token stop);

} // namespace runner

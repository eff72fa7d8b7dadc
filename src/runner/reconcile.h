#pragma once

#include "core/json.h"
#include "net/service.h"

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

} // namespace runner

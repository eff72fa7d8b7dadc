#pragma once

#include "core/tracker.h"

#include <string>
#include <string_view>

namespace core {

// What the listener answers to one callback, and a line for the debug log.
struct CallbackAnswer {
  int status = 200;
  std::string body;
  std::string log;
};

// Validates a callback body and hands it to the tracker. Never throws: malformed JSON or a body
// without a string `task_id` and `status` is 400; a full early-callback buffer is 503 (the
// service redelivers); everything else, unknown task ids included, is 200.
CallbackAnswer handle_callback(Tracker& tracker, std::string_view body);

} // namespace core

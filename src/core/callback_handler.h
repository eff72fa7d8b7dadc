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

// Which URLs the listener accepts callbacks on.
struct CallbackConfig {
  std::string callback_path = "/receive_callback";
  // Empty: callbacks come to the plain callback path and are matched by task id. Set: only
  // per-run URLs `<callback path>/<token>/<input key>` are accepted, matched by input key.
  std::string token;
};

// Validates a callback (its path and body) and hands it to the tracker. Never throws.
// A path we do not serve, a wrong token, or the plain path in token mode is 404; malformed JSON
// or a body without a string `task_id` and `status` is 400; a body naming another task than the
// URL's input was submitted as is 409; a full early-callback buffer is 503 (the service
// redelivers); everything else, unknown task ids included, is 200.
CallbackAnswer handle_callback(Tracker& tracker,
                               const CallbackConfig& config,
                               std::string_view path,
                               std::string_view body);

// The same for a body sent to the plain callback path.
CallbackAnswer handle_callback(Tracker& tracker, std::string_view body);

} // namespace core

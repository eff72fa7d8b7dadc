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
  // Set: callbacks must carry it as `x-api-key` or `Authorization: Bearer <key>`.
  std::string callback_key;
  // Set ("user:password"): callbacks may carry `Authorization: Basic ...` with it.
  std::string basic_credentials;
};

// One callback request as the listener received it.
struct CallbackRequest {
  std::string_view path;
  std::string_view body;
  std::string_view api_key;       // the x-api-key header
  std::string_view authorization; // the Authorization header
};

// True when the request carries the credentials `config` asks for (always, when it asks none).
// Compared in constant time.
bool callback_authorized(const CallbackConfig& config, const CallbackRequest& request);

// Validates a callback (its credentials, path and body) and hands it to the tracker. Never
// throws. Missing or wrong credentials are 401; a path we do not serve, a wrong token, or the
// plain path in token mode is 404; malformed JSON
// or a body without a string `task_id` and `status` is 400; a body naming another task than the
// URL's input was submitted as is 409; a full early-callback buffer is 503 (the service
// redelivers); everything else, unknown task ids included, is 200.
CallbackAnswer
handle_callback(Tracker& tracker, const CallbackConfig& config, const CallbackRequest& request);

// The same for a body sent to the plain callback path.
CallbackAnswer handle_callback(Tracker& tracker, std::string_view body);

} // namespace core

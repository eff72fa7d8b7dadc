#pragma once

#include "core/tracker.h"

#include <optional>
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

// A callback request's line and headers: all that is looked at before its body is read.
struct CallbackHead {
  std::string_view method = "POST";
  std::string_view path;
  std::string_view api_key;                       // the x-api-key header
  std::string_view authorization;                 // the Authorization header
  std::string_view content_encoding;              // "" when absent
  std::string_view content_type;                  // "" when absent
  std::string_view transfer_encoding;             // "" when absent
  std::optional<std::string_view> content_length; // the header's text, when present
};

// What the head decides: refuse now (no byte of the body read), or read a body of at most
// `max_body` bytes and hand it to `route_key` (token mode: the input key named by the URL).
struct HeadVerdict {
  bool read_body = false;
  CallbackAnswer refusal; // when not read_body
  std::string route_key;
  std::optional<size_t> length; // the declared Content-Length
};

// Decides from the head alone. Not POST is 405; missing or wrong credentials 401; a path we do not
// serve, a wrong token, or the plain path in token mode 404; a Content-Encoding other than
// identity, or a multipart body, 415 (nothing is inflated: a small gzip body can stand for a huge
// one); a Content-Length over `max_body` 413; a malformed Content-Length, a Transfer-Encoding
// other than chunked, or both a length and chunked 400 (request smuggling). Never throws.
HeadVerdict
screen_callback_head(const CallbackConfig& config, const CallbackHead& head, size_t max_body);

// Screens a callback body (JSON, an object with string `task_id` and `status`) and hands it to
// the tracker under `route_key` ("" on the plain path: its task id). Only the fields the tracker
// routes by are built while screening: time is linear in the body and memory what is kept,
// whatever a stranger sends. Malformed JSON, a body that is not an object or has no string
// task_id or status is 400; a body naming another task than the URL's input was submitted as is
// 409; a full buffer, or a stopping run, 503; everything else 200. Never throws.
CallbackAnswer
handle_callback_body(Tracker& tracker, const std::string& route_key, std::string body);

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

// The JSON fields a screened callback body keeps (the rest is read, not built), and how many
// values of them at most: a genuine callback's input_parameters are a few strings.
inline constexpr size_t k_screened_values = 2000;

} // namespace core

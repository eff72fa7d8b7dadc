#include "core/callback_handler.h"

#include "core/callback_route.h"
#include "core/files.h"
#include "core/keys.h"

#include <fmt/format.h>

namespace core {

namespace {

// Text from the network, safe for a log line: control characters become '?', long text is cut.
std::string shown(std::string_view s) {
  std::string out;
  for (char ch : s.substr(0, 100)) {
    out += static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f ? '?' : ch;
  }
  return s.size() > 100 ? out + "..." : out;
}

CallbackAnswer answer(int status, std::string_view message, std::string log) {
  return {status, dump_line(Json{{"ok", status < 300}, {"message", message}}), std::move(log)};
}

CallbackAnswer
handle_callback_body(Tracker& tracker, const std::string& route_key, std::string_view body) {
  Json payload = parse_json(body);
  if (payload.is_discarded()) {
    return answer(400, "malformed JSON", "callback rejected: malformed JSON");
  }
  if (!payload.is_object()) {
    return answer(400, "body must be a JSON object", "callback rejected: not a JSON object");
  }
  auto id = payload.find("task_id");
  auto status = payload.find("status");
  if (id == payload.end() || !id->is_string() || id->get_ref<const std::string&>().empty()) {
    return answer(400, "missing task_id", "callback rejected: no string task_id");
  }
  if (status == payload.end() || !status->is_string()) {
    return answer(400, "missing status", "callback rejected: no string status");
  }
  std::string task_id = id->get<std::string>();
  std::string status_text = shown(status->get<std::string>());
  const std::string& key = route_key.empty() ? task_id : route_key;
  switch (tracker.deliver(key, std::move(payload), body.size())) {
  case Delivery::delivered:
    return answer(
        200, "delivered", fmt::format("callback for {}: {}", shown(task_id), status_text));
  case Delivery::duplicate:
    return answer(
        200, "duplicate ignored", fmt::format("duplicate callback for {} ignored", shown(task_id)));
  case Delivery::progress:
    return answer(200,
                  "progress noted",
                  fmt::format("progress callback for {}: {}", shown(task_id), status_text));
  case Delivery::buffered:
    return answer(
        200,
        "accepted",
        fmt::format("callback for {} not (yet) submitted by this run: kept", shown(task_id)));
  case Delivery::mismatch:
    return answer(
        409,
        "task_id does not match this URL",
        fmt::format("callback refused: {} is not the task of input {}", shown(task_id), key));
  case Delivery::closing:
    return answer(503,
                  "the run is stopping, redeliver later",
                  fmt::format("callback for {} refused: the run is stopping before its result "
                              "(its sender redelivers it to the next run)",
                              shown(task_id)));
  case Delivery::buffer_full:
    return answer(
        503,
        "busy, retry later",
        fmt::format("callback for {} refused: early-callback buffer full", shown(task_id)));
  }
  return answer(500, "internal error", "unreachable");
}

} // namespace

bool callback_authorized(const CallbackConfig& config, const CallbackRequest& request) {
  if (config.callback_key.empty() && config.basic_credentials.empty()) {
    return true;
  }
  bool ok = false;
  if (!config.callback_key.empty()) {
    ok |= constant_time_equal(request.api_key, config.callback_key);
    ok |= constant_time_equal(request.authorization, "Bearer " + config.callback_key);
  }
  if (!config.basic_credentials.empty()) {
    ok |= constant_time_equal(request.authorization,
                              "Basic " + base64_encode(config.basic_credentials));
  }
  return ok;
}

CallbackAnswer
handle_callback(Tracker& tracker, const CallbackConfig& config, const CallbackRequest& request) {
  if (!callback_authorized(config, request)) {
    return answer(401, "unauthorized", "callback refused: missing or wrong credentials");
  }
  std::string_view body = request.body;
  CallbackRoute route = match_callback_path(request.path, config.callback_path);
  std::string key;
  if (config.token.empty()) {
    if (route.kind != CallbackRoute::Kind::plain) {
      return answer(404, "not found", "callback refused: unknown path");
    }
  } else {
    if (route.kind != CallbackRoute::Kind::tokened) {
      return answer(404, "not found", "callback refused: not this run's callback URL");
    }
    if (!constant_time_equal(route.token, config.token)) {
      return answer(404, "not found", "callback refused: wrong token");
    }
    key = route.id;
  }
  return handle_callback_body(tracker, key, body);
}

CallbackAnswer handle_callback(Tracker& tracker, std::string_view body) {
  return handle_callback_body(tracker, {}, body);
}

} // namespace core

#include "core/callback_handler.h"

#include "core/api.h"
#include "core/callback_route.h"
#include "core/files.h"
#include "core/keys.h"
#include "core/text.h"

#include <fmt/format.h>

#include <vector>

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

// A header value, trimmed and lower-cased, for comparing with a token ("gzip", "chunked").
std::string header_token(std::string_view value) {
  return lower(std::string(trim(value, " \t")));
}

} // namespace

HeadVerdict
screen_callback_head(const CallbackConfig& config, const CallbackHead& head, size_t max_body) {
  HeadVerdict v;
  auto refuse = [&v](int status, std::string_view message, std::string log) {
    v.refusal = answer(status, message, std::move(log));
    return v;
  };
  if (head.method != "POST") {
    return refuse(405,
                  "method not allowed",
                  fmt::format("{} refused: callbacks are POSTs", shown(head.method)));
  }
  CallbackRequest request{head.path, {}, head.api_key, head.authorization};
  if (!callback_authorized(config, request)) {
    return refuse(401, "unauthorized", "callback refused: missing or wrong credentials");
  }
  CallbackRoute route = match_callback_path(head.path, config.callback_path);
  if (config.token.empty()) {
    if (route.kind != CallbackRoute::Kind::plain) {
      return refuse(404, "not found", "callback refused: unknown path");
    }
  } else {
    if (route.kind != CallbackRoute::Kind::tokened) {
      return refuse(404, "not found", "callback refused: not this run's callback URL");
    }
    if (!constant_time_equal(route.token, config.token)) {
      return refuse(404, "not found", "callback refused: wrong token");
    }
    v.route_key = route.id;
  }
  const std::string encoding = header_token(head.content_encoding);
  if (!encoding.empty() && encoding != "identity") {
    return refuse(415,
                  "Content-Encoding not accepted: send the JSON uncompressed",
                  fmt::format("callback refused: Content-Encoding {} (only identity is read)",
                              shown(encoding)));
  }
  if (header_token(head.content_type).starts_with("multipart/")) {
    return refuse(415, "multipart bodies not accepted: send JSON", "callback refused: multipart");
  }
  const std::string te = header_token(head.transfer_encoding);
  const bool chunked = te == "chunked";
  if (!te.empty() && !chunked) {
    return refuse(400,
                  "Transfer-Encoding not accepted",
                  fmt::format("callback refused: Transfer-Encoding {}", shown(te)));
  }
  if (head.content_length) {
    std::string_view text = trim(*head.content_length, " \t");
    size_t length = 0;
    bool digits = !text.empty() && text.size() <= 19 &&
                  text.find_first_not_of("0123456789") == std::string_view::npos;
    for (char ch : text) {
      length = length * 10 + static_cast<size_t>(ch - '0');
    }
    if (!digits || chunked) {
      return refuse(400,
                    "bad Content-Length",
                    fmt::format("callback refused: Content-Length {}{}",
                                shown(text),
                                chunked ? " with chunked Transfer-Encoding" : ""));
    }
    if (length > max_body) {
      return refuse(
          413,
          "payload too large",
          fmt::format("callback refused: {} bytes, over the {} byte limit", length, max_body));
    }
    v.length = length;
  }
  v.read_body = true;
  return v;
}

CallbackAnswer
handle_callback_body(Tracker& tracker, const std::string& route_key, std::string body) {
  static const std::vector<std::string_view> kept = {
      "task_id", "status", "endpoint_name", "input_parameters", "unique_parameter_names"};
  bool capped = false;
  Json head = parse_json_members(body, kept, k_screened_values, capped);
  if (head.is_discarded()) {
    return answer(400, "malformed JSON", "callback rejected: malformed JSON");
  }
  if (!head.is_object()) {
    return answer(400, "body must be a JSON object", "callback rejected: not a JSON object");
  }
  auto id = head.find("task_id");
  auto status = head.find("status");
  if (id == head.end() || !id->is_string() || id->get_ref<const std::string&>().empty()) {
    return answer(400, "missing task_id", "callback rejected: no string task_id");
  }
  if (status == head.end() || !status->is_string()) {
    return answer(400, "missing status", "callback rejected: no string status");
  }
  RawCallback callback{id->get<std::string>(),
                       status->get<std::string>(),
                       capped ? std::string() : content_key(head),
                       std::move(body)};
  std::string task_id = callback.task_id;
  std::string status_text = shown(callback.status);
  const std::string& key = route_key.empty() ? task_id : route_key;
  switch (tracker.deliver(key, std::move(callback))) {
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
  CallbackHead head;
  head.path = request.path;
  head.api_key = request.api_key;
  head.authorization = request.authorization;
  HeadVerdict verdict = screen_callback_head(config, head, std::string_view::npos);
  if (!verdict.read_body) {
    return verdict.refusal;
  }
  return handle_callback_body(tracker, verdict.route_key, std::string(request.body));
}

CallbackAnswer handle_callback(Tracker& tracker, std::string_view body) {
  return handle_callback_body(tracker, {}, std::string(body));
}

} // namespace core

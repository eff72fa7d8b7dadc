// libFuzzer harness for what a stranger on the network controls: a callback POST (its path,
// x-api-key and Authorization headers, and body) as the listener hands it to handle_callback,
// under each way a run can be configured; and the service's answers to a submit (reply and
// error bodies), the inference request validation and the base64 of screenshots.
//
// The fuzz input is text: the path, the x-api-key header and the Authorization header on the
// first three lines, then the body. handle_callback never throws; any exception, crash or
// broken invariant below is a bug.
#include "core/api.h"
#include "core/callback_handler.h"
#include "core/callback_route.h"
#include "core/files.h"
#include "core/tracker.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "fuzz_check.h"

namespace {

constexpr std::string_view k_token = "0123456789abcdef0123456789abcdef";
constexpr std::string_view k_input_key = "fedcba9876543210fedcba9876543210-1";
constexpr std::string_view k_other_key = "fedcba9876543210fedcba9876543210-2";
constexpr std::string_view k_task = "task-1";

// Splits off the text up to the next newline.
std::string_view take_line(std::string_view& rest) {
  auto nl = rest.find('\n');
  std::string_view line = rest.substr(0, nl);
  rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
  return line;
}

bool valid_status(int status) {
  return status == 200 || status == 400 || status == 401 || status == 404 || status == 409 ||
         status == 503;
}

// The answer's `message`, once check_answer has passed.
std::string message_of(const core::CallbackAnswer& answer) {
  return core::Json::parse(answer.body)["message"].get<std::string>();
}

void check_answer(const core::CallbackAnswer& answer) {
  FUZZ_CHECK(valid_status(answer.status), "an answer has a documented status");
  core::Json body = core::Json::parse(answer.body, nullptr, /*allow_exceptions=*/false);
  FUZZ_CHECK(body.is_object(), "an answer's body is a JSON object");
  FUZZ_CHECK(body.contains("ok") && body["ok"].is_boolean(), "an answer says ok");
  FUZZ_CHECK(body["ok"].get<bool>() == (answer.status < 300), "ok matches the status");
  FUZZ_CHECK(body.contains("message") && body["message"].is_string(), "an answer says why");
  FUZZ_CHECK(!answer.log.empty(), "an answer has a log line");
  // The log goes to a terminal: text from the body must not start lines or send escapes.
  FUZZ_CHECK_STRICT(std::none_of(answer.log.begin(),
                                 answer.log.end(),
                                 [](unsigned char c) { return c < 0x20 || c == 0x7f; }),
                    "a log line has no control characters");
}

// One listener configuration: its tracker, with a waiter bound as the runner binds them.
struct Setup {
  core::CallbackConfig config;
  core::Tracker tracker;
  std::shared_ptr<core::Waiter> waiter = std::make_shared<core::Waiter>();
  std::shared_ptr<core::Waiter> other = std::make_shared<core::Waiter>();

  Setup(core::CallbackConfig c, core::TrackerLimits limits)
      : config(std::move(c)), tracker(limits) {
    if (config.token.empty()) {
      tracker.bind(std::string(k_task), waiter);
    } else {
      tracker.bind(std::string(k_input_key), waiter, std::string(k_task));
      tracker.bind(std::string(k_other_key), other);
    }
  }
};

void fuzz_handler(Setup& s, const core::CallbackRequest& request) {
  const bool authorized = core::callback_authorized(s.config, request);
  const size_t buffered = s.tracker.buffered_count();
  core::CallbackAnswer first = core::handle_callback(s.tracker, s.config, request);
  check_answer(first);
  FUZZ_CHECK((first.status == 401) == !authorized, "401 exactly for missing credentials");
  if (first.status >= 400) {
    // Refused callbacks never reach a waiter nor the early-callback buffer.
    FUZZ_CHECK(!s.waiter->done() && !s.other->done(), "a refused callback completes nothing");
    FUZZ_CHECK(s.tracker.buffered_count() == buffered, "a refused callback is not buffered");
  }
  if (first.status == 200 && !s.config.token.empty()) {
    auto route = core::match_callback_path(request.path, s.config.callback_path);
    FUZZ_CHECK(route.kind == core::CallbackRoute::Kind::tokened && route.token == k_token,
               "token mode accepts only this run's URLs");
  }
  // The service redelivers: the same callback again must never complete a waiter twice.
  bool was_done = s.waiter->done() || s.other->done();
  core::CallbackAnswer again = core::handle_callback(s.tracker, s.config, request);
  check_answer(again);
  if (was_done) {
    FUZZ_CHECK(message_of(again) != "delivered", "a redelivered callback is not delivered twice");
  }
  if (s.waiter->done()) {
    core::Json got = s.waiter->take();
    FUZZ_CHECK(got.is_object() && got.value("task_id", "") == k_task,
               "a waiter gets only its own task's callback");
    FUZZ_CHECK(core::is_terminal_status(got.value("status", "")), "only a final status completes");
  }
}

void fuzz_route(std::string_view path, std::string_view callback_path) {
  auto route = core::match_callback_path(path, callback_path);
  if (route.kind != core::CallbackRoute::Kind::tokened) {
    FUZZ_CHECK(route.token.empty() && route.id.empty(), "only a tokened route has a token");
    return;
  }
  FUZZ_CHECK(!route.token.empty() && !route.id.empty(), "a tokened route has token and id");
  // The URLs we hand out are recognised as what they name.
  for (std::string_view base : {"/receive_callback", "/receive_callback/", "/p/receive_callback"}) {
    auto back = core::match_callback_path(core::callback_suffix(base, route.token, route.id), base);
    FUZZ_CHECK(back.kind == core::CallbackRoute::Kind::tokened && back.token == route.token &&
                   back.id == route.id,
               "callback_suffix and match_callback_path agree");
  }
}

void fuzz_api(std::string_view body) {
  core::SubmitReply reply = core::parse_submit_reply(200, body);
  FUZZ_CHECK(reply.task_id ? !reply.task_id->empty() && reply.error.empty() : !reply.error.empty(),
             "a submit reply is a task id or an error");
  std::string text = core::error_text(422, body);
  FUZZ_CHECK(text.starts_with("HTTP 422: "), "an error names its status");
  FUZZ_CHECK(text.find_first_of("\r\n") == std::string::npos, "an error is one line");
  FUZZ_CHECK(text.size() <= 1024, "an error is short");

  core::Json doc = core::Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return;
  }
  core::Json detail = core::validate_inference_request(doc);
  FUZZ_CHECK(detail.is_array(), "validation answers a list");
  for (const auto& item : detail) {
    FUZZ_CHECK(item.is_object() && item.contains("loc") && item.contains("msg"),
               "validation items are FastAPI-shaped");
  }
  FUZZ_CHECK(doc.is_object() || !detail.empty(), "a body that is not an object is refused");
  // What we build from valid parameters the service accepts.
  bool params_ok = doc.is_object();
  if (params_ok) {
    for (const auto& [name, list] : doc.items()) {
      params_ok = params_ok && list.is_array();
      if (params_ok) {
        for (const auto& v : list) {
          params_ok = params_ok && (v.is_string() || v.is_number() || v.is_boolean());
        }
      }
    }
  }
  if (params_ok) {
    core::RequestOptions opts{"my-automation", {}, 1, 10};
    if (!doc.empty()) {
      opts.unique.push_back(doc.begin().key());
    }
    FUZZ_CHECK(core::validate_inference_request(core::build_inference_request(opts, doc)).empty(),
               "a request built from valid parameters is valid");
  }
  (void)core::dump_line(detail);
}

void fuzz_base64(std::string_view body) {
  auto decoded = core::base64_decode(body);
  if (decoded) {
    FUZZ_CHECK(decoded->size() <= body.size(), "decoding never grows");
    FUZZ_CHECK(core::base64_decode(core::base64_encode(*decoded)) == *decoded,
               "decoded bytes round-trip");
  }
  FUZZ_CHECK(core::base64_decode(core::base64_encode(body)) == std::string(body),
             "base64 round-trips");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  std::string_view path = take_line(rest);
  std::string_view api_key = take_line(rest);
  std::string_view authorization = take_line(rest);
  std::string_view body = rest;
  const core::CallbackRequest request{path, body, api_key, authorization};

  // The dashboard URL, open; the same with a key; per-run URLs behind a proxy prefix with a key;
  // per-run URLs with basic credentials and a tiny early-callback buffer (503 when full).
  core::TrackerLimits roomy;
  core::TrackerLimits tiny;
  tiny.max_buffer_bytes = 64;
  Setup plain({"/receive_callback", "", "", ""}, roomy);
  Setup keyed({"/receive_callback", "", "s3cret-key", ""}, tiny);
  Setup tokened({"/hooks/receive_callback/", std::string(k_token), "s3cret-key", ""}, roomy);
  Setup basic({"/receive_callback", std::string(k_token), "", "user:pa:ss"}, tiny);
  for (Setup* s : {&plain, &keyed, &tokened, &basic}) {
    fuzz_handler(*s, request);
  }
  core::Tracker bare;
  check_answer(core::handle_callback(bare, body));

  fuzz_route(path, "/receive_callback");
  fuzz_route(path, api_key); // any configured --callback-path
  fuzz_api(body);
  fuzz_base64(body);
  return 0;
}

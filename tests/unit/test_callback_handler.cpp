#include "core/api.h"
#include "core/callback_handler.h"

#include <doctest/doctest.h>

TEST_SUITE_BEGIN("callback_handler");

TEST_CASE("callback_handler::handle_callback answers by what the body holds") {
  core::Tracker tracker;
  auto w = std::make_shared<core::Waiter>();
  tracker.bind("t1", w);
  SUBCASE("malformed JSON is 400") {
    CHECK(core::handle_callback(tracker, "{not json").status == 400);
    CHECK(core::handle_callback(tracker, "").status == 400);
    CHECK(core::handle_callback(tracker, std::string("\x00\xff", 2)).status == 400);
  }
  SUBCASE("a non-object or missing fields is 400") {
    CHECK(core::handle_callback(tracker, "[1,2]").status == 400);
    CHECK(core::handle_callback(tracker, R"({"status":"success"})").status == 400);
    CHECK(core::handle_callback(tracker, R"({"task_id":5,"status":"success"})").status == 400);
    CHECK(core::handle_callback(tracker, R"({"task_id":"t1"})").status == 400);
    CHECK(core::handle_callback(tracker, R"({"task_id":"t1","status":null})").status == 400);
    CHECK_FALSE(w->done());
  }
  SUBCASE("a terminal callback completes the waiter") {
    auto a = core::handle_callback(tracker, R"({"task_id":"t1","status":"success","x":1})");
    CHECK(a.status == 200);
    REQUIRE(w->done());
    CHECK(w->take()["x"] == 1);
  }
  SUBCASE("unknown task ids are 200, kept for a while") {
    auto a = core::handle_callback(tracker, R"({"task_id":"other","status":"success"})");
    CHECK(a.status == 200);
    CHECK(a.log.find("other") != std::string::npos);
  }
  SUBCASE("a full buffer is 503") {
    core::Tracker small({10, std::chrono::seconds(600)});
    auto a = core::handle_callback(small, R"({"task_id":"other","status":"success"})");
    CHECK(a.status == 503);
  }
}

TEST_SUITE_END();

TEST_SUITE_BEGIN("callback_handler");

TEST_CASE("callback_handler::handle_callback routes by path and token") {
  const std::string tok = "0123456789abcdef0123456789abcdef";
  core::Tracker tracker;
  auto w = std::make_shared<core::Waiter>();
  tracker.bind("a1-1", w, "t1");
  core::CallbackConfig token_mode{"/receive_callback", tok};
  const std::string good = "/receive_callback/" + tok + "/a1-1";
  const std::string body = R"({"task_id":"t1","status":"success"})";
  SUBCASE("the plain path is 404 in token mode") {
    CHECK(core::handle_callback(tracker, token_mode, {"/receive_callback", body}).status == 404);
    CHECK_FALSE(w->done());
  }
  SUBCASE("a wrong token is 404 and reaches no waiter") {
    std::string forged = "/receive_callback/" + std::string(32, 'a') + "/a1-1";
    CHECK(core::handle_callback(tracker, token_mode, {forged, body}).status == 404);
    CHECK_FALSE(w->done());
  }
  SUBCASE("a body naming another task is 409") {
    CHECK(
        core::handle_callback(tracker, token_mode, {good, R"({"task_id":"t2","status":"success"})"})
            .status == 409);
    CHECK_FALSE(w->done());
  }
  SUBCASE("the right URL and task is delivered") {
    CHECK(core::handle_callback(tracker, token_mode, {good, body}).status == 200);
    CHECK(w->done());
  }
  SUBCASE("plain mode refuses other paths") {
    core::CallbackConfig plain{"/receive_callback", ""};
    CHECK(core::handle_callback(tracker, plain, {"/other", body}).status == 404);
    CHECK(core::handle_callback(tracker, plain, {good, body}).status == 404);
  }
  SUBCASE("a callback before the submit answer is matched on bind, or dropped if it lies") {
    core::Tracker t2;
    CHECK(core::handle_callback(
              t2,
              token_mode,
              {"/receive_callback/" + tok + "/a9-1", R"({"task_id":"t9","status":"failed"})"})
              .status == 200);
    auto w9 = std::make_shared<core::Waiter>();
    t2.bind("a9-1", w9, "t9");
    CHECK(w9->done());
    CHECK(core::handle_callback(
              t2,
              token_mode,
              {"/receive_callback/" + tok + "/a8-1", R"({"task_id":"evil","status":"success"})"})
              .status == 200);
    auto w8 = std::make_shared<core::Waiter>();
    t2.bind("a8-1", w8, "t8");
    CHECK_FALSE(w8->done());
  }
}

TEST_SUITE_END();

TEST_SUITE_BEGIN("callback_handler");

TEST_CASE("callback_handler::callback_authorized checks the callback key and basic auth") {
  core::CallbackConfig config;
  core::CallbackRequest none{"/receive_callback", "{}", "", ""};
  CHECK(core::callback_authorized(config, none)); // nothing asked
  config.callback_key = "s3cret";
  CHECK_FALSE(core::callback_authorized(config, none));
  CHECK(core::callback_authorized(config, {"/", "", "s3cret", ""}));
  CHECK(core::callback_authorized(config, {"/", "", "", "Bearer s3cret"}));
  CHECK_FALSE(core::callback_authorized(config, {"/", "", "s3cre", ""}));
  CHECK_FALSE(core::callback_authorized(config, {"/", "", "", "Bearer wrong"}));
  config.basic_credentials = "user:pw";
  CHECK(core::callback_authorized(config, {"/", "", "", "Basic dXNlcjpwdw=="}));
  CHECK_FALSE(core::callback_authorized(config, {"/", "", "", "Basic dXNlcjpwWA=="}));
  core::Tracker tracker;
  auto answer = core::handle_callback(tracker, config, none);
  CHECK(answer.status == 401);
}

TEST_CASE("callback_handler::screen_callback_head decides before a byte of the body is read") {
  core::CallbackConfig plain;
  const std::string tok = "0123456789abcdef0123456789abcdef";
  core::CallbackConfig keyed{"/receive_callback", tok, "key", ""};
  auto head = [](std::string_view path) {
    core::CallbackHead h;
    h.path = path;
    return h;
  };
  auto status = [](const core::HeadVerdict& v) { return v.read_body ? 0 : v.refusal.status; };
  core::CallbackHead h = head("/receive_callback");
  CHECK(status(core::screen_callback_head(plain, h, 100)) == 0);
  h.method = "PUT";
  CHECK(status(core::screen_callback_head(plain, h, 100)) == 405);
  CHECK(status(core::screen_callback_head(plain, head("/elsewhere"), 100)) == 404);
  h = head("/receive_callback");
  SUBCASE("credentials first, then the path and token") {
    h = head("/made/up");
    CHECK(status(core::screen_callback_head(keyed, h, 100)) == 401);
    h.api_key = "key";
    CHECK(status(core::screen_callback_head(keyed, h, 100)) == 404);
    h.path = "/receive_callback/wrong/in-1";
    CHECK(status(core::screen_callback_head(keyed, h, 100)) == 404);
    const std::string good = "/receive_callback/" + tok + "/a1-1";
    h.path = good;
    auto v = core::screen_callback_head(keyed, h, 100);
    CHECK(v.read_body);
    CHECK(v.route_key == "a1-1");
  }
  SUBCASE("a trailing slash names the same callback path") {
    CHECK(status(core::screen_callback_head(plain, head("/receive_callback/"), 100)) == 0);
    CHECK(status(core::screen_callback_head(plain, head("/receive_callback/?a=1"), 100)) == 0);
    CHECK(status(core::screen_callback_head(plain, head("/receive_callback//"), 100)) == 404);
    CHECK(status(core::screen_callback_head(plain, head("/receive_callbac/"), 100)) == 404);
    const std::string slashed = "/receive_callback/" + tok + "/a1-1/";
    h = head(slashed);
    h.api_key = "key";
    auto v = core::screen_callback_head(keyed, h, 100);
    CHECK(v.read_body);
    CHECK(v.route_key == "a1-1");
    const std::string token_only = "/receive_callback/" + tok + "/";
    h.path = token_only;
    CHECK(status(core::screen_callback_head(keyed, h, 100)) == 404);
  }
  SUBCASE("nothing is inflated, multipart is not read") {
    for (const char* encoding : {"gzip", "deflate", "br", "GZIP", "gzip, identity"}) {
      h.content_encoding = encoding;
      CHECK(status(core::screen_callback_head(plain, h, 100)) == 415);
    }
    h.content_encoding = "identity";
    CHECK(status(core::screen_callback_head(plain, h, 100)) == 0);
    h.content_type = "multipart/form-data; boundary=x";
    CHECK(status(core::screen_callback_head(plain, h, 100)) == 415);
  }
  SUBCASE("lengths and framing") {
    h.content_length = "100";
    auto v = core::screen_callback_head(plain, h, 100);
    CHECK(v.read_body);
    CHECK(v.length == size_t{100});
    h.content_length = "101";
    CHECK(status(core::screen_callback_head(plain, h, 100)) == 413);
    for (const char* bad : {"", "-1", "1e3", "0x10", "99999999999999999999999"}) {
      h.content_length = bad;
      CHECK(status(core::screen_callback_head(plain, h, 100)) == 400);
    }
    h.content_length = "10";
    h.transfer_encoding = "chunked";
    CHECK(status(core::screen_callback_head(plain, h, 100)) == 400); // smuggling
    h.content_length.reset();
    CHECK(status(core::screen_callback_head(plain, h, 100)) == 0);
    h.transfer_encoding = "gzip, chunked";
    CHECK(status(core::screen_callback_head(plain, h, 100)) == 400);
  }
}

TEST_CASE("callback_handler::a kept callback costs its text, not its parsed size") {
  core::Tracker tracker;
  std::string body = R"({"task_id":"forged","status":"success","output_data":[)";
  for (int i = 0; i < 3000; ++i) {
    body += i ? ",{}" : "{}";
  }
  body += "]}";
  auto answer = core::handle_callback_body(tracker, "", body);
  CHECK(answer.status == 200);
  CHECK(tracker.buffered_count() == 1);
  CHECK(tracker.buffered_bytes() >= body.size());
  CHECK(tracker.buffered_bytes() < body.size() + 1024);
  // Claimed, it is parsed whole.
  auto w = std::make_shared<core::Waiter>();
  tracker.bind("forged", w);
  REQUIRE(w->done());
  CHECK(w->take()["output_data"].size() == 3000);
}

TEST_CASE("callback_handler::screening finds the content of a callback for content matching") {
  core::Tracker tracker;
  std::string request =
      R"({"endpoint_name":"ep","input_parameters":{"email":["a@x"]},"unique_parameter_names":[]})";
  auto w = std::make_shared<core::Waiter>();
  tracker.bind_content(core::content_key(core::Json::parse(request)), w);
  auto answer = core::handle_callback_body(
      tracker,
      "",
      R"({"task_id":"t-9","status":"success","output_data":[1],"endpoint_name":"ep",)"
      R"("input_parameters":{"email":["a@x"]},"unique_parameter_names":[]})");
  CHECK(answer.status == 200);
  REQUIRE(w->done());
  CHECK(w->take()["task_id"] == "t-9");
}

TEST_SUITE_END();

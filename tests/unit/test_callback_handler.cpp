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

TEST_SUITE_END();

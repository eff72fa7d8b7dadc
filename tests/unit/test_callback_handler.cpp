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

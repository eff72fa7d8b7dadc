#include "core/json.h"

#include <doctest/doctest.h>

#include <string>
#include <thread>
#include <vector>

#include "emulator/emulator_tasks.h"

TEST_SUITE_BEGIN("emulator");

using emulator::AnswerPlanner;
using emulator::SubmitAnswer;
using Kind = emulator::SubmitAnswer::Kind;

TEST_CASE("emulator::AnswerPlanner names each task's own id by default") {
  AnswerPlanner planner(0);
  for (const char* id : {"t-1", "t-2", "t-3"}) {
    SubmitAnswer a = planner.next(id, false);
    CHECK(a.kind == Kind::task_id);
    CHECK(a.task_id == id);
    CHECK(a.repeat == 0);
    CHECK(emulator::repeat_note(a).empty());
  }
}

TEST_CASE("emulator::AnswerPlanner repeats the first task_id in the next N answers") {
  SUBCASE("N = 2 and three submits: all three answers name the first task") {
    AnswerPlanner planner(2);
    CHECK(planner.next("t-1", false).task_id == "t-1");
    SubmitAnswer second = planner.next("t-2", false);
    SubmitAnswer third = planner.next("t-3", false);
    CHECK(second.task_id == "t-1");
    CHECK(second.repeat == 1);
    CHECK(second.repeats == 2);
    CHECK(third.task_id == "t-1");
    CHECK(third.repeat == 2);
    CHECK(emulator::repeat_note(third) == "; the answer names task t-1 (repeat 2 of 2)");
    // Past the N repeats, each answer names its own task again.
    SubmitAnswer fourth = planner.next("t-4", false);
    CHECK(fourth.task_id == "t-4");
    CHECK(fourth.repeat == 0);
  }
  SUBCASE("a bad answer names no task, so it is neither the first nor a repeat") {
    AnswerPlanner planner(1);
    CHECK(planner.next("t-1", true).kind == Kind::html);
    CHECK(planner.next("t-2", false).task_id == "t-2"); // the first answer with a task_id
    CHECK(planner.next("t-3", true).kind == Kind::ok_without_id);
    SubmitAnswer repeat = planner.next("t-4", false);
    CHECK(repeat.task_id == "t-2");
    CHECK(repeat.repeat == 1);
    CHECK(planner.next("t-5", false).task_id == "t-5");
  }
  SUBCASE("a negative count repeats nothing") {
    AnswerPlanner planner(-3);
    planner.next("t-1", false);
    CHECK(planner.next("t-2", false).task_id == "t-2");
  }
}

TEST_CASE("emulator::AnswerPlanner alternates the two bad answers, HTML first") {
  AnswerPlanner planner(0);
  std::vector<Kind> kinds;
  for (int i = 0; i < 5; ++i) {
    SubmitAnswer a = planner.next("t-" + std::to_string(i), true);
    CHECK(a.task_id.empty());
    kinds.push_back(a.kind);
  }
  CHECK(kinds == std::vector<Kind>{
                     Kind::html, Kind::ok_without_id, Kind::html, Kind::ok_without_id, Kind::html});
}

TEST_CASE("emulator::AnswerPlanner gives N repeats in all when called from many threads") {
  AnswerPlanner planner(50);
  std::vector<std::thread> threads;
  std::vector<std::vector<SubmitAnswer>> answers(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        answers[t].push_back(planner.next(std::to_string(t) + "-" + std::to_string(i), false));
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  int repeats = 0;
  std::vector<bool> seen(51, false);
  for (const auto& list : answers) {
    for (const auto& a : list) {
      if (a.repeat != 0) {
        ++repeats;
        REQUIRE(a.repeat <= 50);
        CHECK_FALSE(seen[a.repeat]); // each repeat number once
        seen[a.repeat] = true;
      }
    }
  }
  CHECK(repeats == 50);
}

TEST_CASE("emulator::answer_body gives each kind of answer its status, type and body") {
  SUBCASE("a task_id: 202 with the service's three fields") {
    SubmitAnswer a;
    a.task_id = "t-9";
    emulator::AnswerBody body = emulator::answer_body(a, "Task has been allocated.");
    CHECK(body.status == 202);
    CHECK(body.content_type == "application/json");
    core::Json json = core::Json::parse(body.body);
    CHECK(json["success"] == true);
    CHECK(json["message"] == "Task has been allocated.");
    CHECK(json["task_id"] == "t-9");
  }
  SUBCASE("HTML: 200 text/html") {
    SubmitAnswer a;
    a.kind = Kind::html;
    emulator::AnswerBody body = emulator::answer_body(a, "m");
    CHECK(body.status == 200);
    CHECK(body.content_type == "text/html");
    CHECK(body.body == "<html><body>OK</body></html>");
  }
  SUBCASE("202 {\"ok\":true}") {
    SubmitAnswer a;
    a.kind = Kind::ok_without_id;
    emulator::AnswerBody body = emulator::answer_body(a, "m");
    CHECK(body.status == 202);
    CHECK(body.content_type == "application/json");
    CHECK(body.body == R"({"ok":true})");
  }
}

TEST_CASE("emulator::answer_log keeps '202 task ID' for answers with a task_id") {
  SubmitAnswer a;
  a.task_id = "first";
  a.repeat = 1;
  a.repeats = 3;
  // A repeat logs the task's own id (its callbacks name it) and says what the answer named.
  CHECK(emulator::answer_log(a, "own") == "202 task own");
  CHECK(emulator::repeat_note(a) == "; the answer names task first (repeat 1 of 3)");
  a = SubmitAnswer{};
  a.kind = Kind::html;
  CHECK(emulator::answer_log(a, "own") == "200 text/html without task_id, task own");
  a.kind = Kind::ok_without_id;
  CHECK(emulator::answer_log(a, "own") == R"(202 {"ok":true} without task_id, task own)");
}

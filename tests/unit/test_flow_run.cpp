#include "core/flow.h"
#include "core/flow_run.h"
#include "core/output.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

TEST_SUITE_BEGIN("flow_run");

using core::Flow;
using core::FlowJob;
using core::ItemRun;
using core::Json;

#define CHECK_HAS(hay, needle)                                                                     \
  do {                                                                                             \
    const std::string check_has_hay = (hay);                                                       \
    const std::string check_has_needle = (needle);                                                 \
    CHECK_MESSAGE(check_has_hay.find(check_has_needle) != std::string::npos,                       \
                  "\"" << check_has_needle << "\" not in:\n"                                       \
                       << check_has_hay);                                                          \
  } while (false)

namespace {

Flow flow_of(const std::string& steps) {
  return core::parse_flow(R"({"steps": )" + steps + "}", "t.json");
}

// A callback payload with one output's json_data.
Json success(const Json& json_data, const std::string& task = "t") {
  return Json{{"task_id", task},
              {"status", "success"},
              {"output_data", Json::array({Json{{"json_data", json_data}}})}};
}
Json failed(const std::string& error, const std::string& task = "t") {
  return Json{{"task_id", task}, {"status", "failed"}, {"error", error}};
}

// The one job of step `id` among `jobs`.
FlowJob job_of(const Flow& flow, const std::vector<FlowJob>& jobs, const std::string& id) {
  size_t index = flow.index_of(id);
  const FlowJob* found = nullptr;
  for (const auto& job : jobs) {
    if (job.step == index) {
      REQUIRE_MESSAGE(found == nullptr, "two jobs for step " << id);
      found = &job;
    }
  }
  REQUIRE_MESSAGE(found != nullptr, "no job for step " << id);
  return *found;
}

std::vector<std::string> ids_of(const Flow& flow, const std::vector<FlowJob>& jobs) {
  std::vector<std::string> out;
  for (const auto& job : jobs) {
    out.push_back(flow.steps[job.step].id);
  }
  return out;
}

std::string step_status(const ItemRun& run, const std::string& id) {
  return core::line_status(run.line()["steps"][id]);
}

} // namespace

TEST_CASE("flow_run::linear needs: the second step waits and gets the first one's result") {
  Flow flow = flow_of(R"([
    {"id": "a", "endpoint": "/a", "input": {"email": "{{item.email}}"}},
    {"id": "b", "endpoint": "/b",
     "input": {"acct": "{{a:/output_data/0/json_data/x}}", "n": "{{item.n}}", "fixed": "v"}}
  ])");
  ItemRun run(flow, Json::parse(R"({"email":"e@x","n":5})"));
  CHECK_FALSE(run.done());
  CHECK(run.outstanding() == 0);

  auto jobs = run.take_ready();
  REQUIRE(jobs.size() == 1);
  CHECK(jobs[0].step == 0);
  CHECK(jobs[0].attempt == 0);
  CHECK(jobs[0].element == 0);
  CHECK(jobs[0].params.dump() == R"({"email":["e@x"]})");
  CHECK(jobs[0].secure.is_null());
  CHECK(run.wants(jobs[0]));
  CHECK(run.outstanding() == 1);
  CHECK(run.take_ready().empty()); // handed out once; b waits for a
  CHECK(step_status(run, "b") == "pending");

  run.complete(jobs[0], success({{"x", "ACC-1"}}, "t-a"));
  CHECK(run.outstanding() == 0);
  CHECK_FALSE(run.done());
  auto next = run.take_ready();
  REQUIRE(next.size() == 1);
  CHECK(next[0].step == 1);
  CHECK(next[0].params.dump() == R"({"acct":["ACC-1"],"n":[5],"fixed":["v"]})");

  run.complete(next[0], success({{"y", 1}}, "t-b"));
  CHECK(run.done());
  CHECK(run.succeeded());
  CHECK(run.outstanding() == 0);
  Json line = run.line();
  CHECK(line["status"] == "success");
  CHECK_FALSE(line.contains("error"));
  CHECK(line["item"].dump() == R"({"email":"e@x","n":5})");
  CHECK(line["steps"]["a"]["task_id"] == "t-a");
  CHECK(line["steps"]["b"]["task_id"] == "t-b");
  CHECK(run.item().dump() == line["item"].dump());
}

TEST_CASE("flow_run::line() shape") {
  Flow flow = flow_of(R"([{"id": "a", "endpoint": "/a"}, {"id": "b", "endpoint": "/b"}])");
  ItemRun run(flow, Json::parse(R"({"k":1})"));
  auto jobs = run.take_ready();
  REQUIRE(jobs.size() == 2);
  // Before the end: pending steps, not a success.
  Json before = run.line();
  CHECK(before["status"] == "failed");
  CHECK(before["steps"].dump() == R"({"a":{"status":"pending"},"b":{"status":"pending"}})");

  run.complete(job_of(flow, jobs, "b"), failed("boom"));
  run.complete(job_of(flow, jobs, "a"), success({{"x", 1}}));
  Json line = run.line();
  std::vector<std::string> keys;
  for (const auto& [key, value] : line.items()) {
    keys.push_back(key);
  }
  CHECK(keys == std::vector<std::string>{"status", "error", "item", "steps"});
  CHECK(line["status"] == "failed");
  CHECK(line["error"] == "step \"b\": failed: boom");
  CHECK(line["item"].dump() == R"({"k":1})");
  // Steps in file order, each its result.
  std::vector<std::string> steps;
  for (const auto& [key, value] : line["steps"].items()) {
    steps.push_back(key);
  }
  CHECK(steps == std::vector<std::string>{"a", "b"});
  CHECK(line["steps"]["a"].dump() == success({{"x", 1}}).dump());
  CHECK(line["steps"]["b"].dump() == failed("boom").dump());
}

TEST_CASE("flow_run::independent steps are ready together") {
  Flow flow = flow_of(R"([
    {"id": "a", "endpoint": "/a"},
    {"id": "b", "endpoint": "/b"},
    {"id": "c", "endpoint": "/c", "needs": ["a", "b"]}
  ])");
  ItemRun run(flow, Json::object());
  auto jobs = run.take_ready();
  CHECK(ids_of(flow, jobs) == std::vector<std::string>{"a", "b"});
  CHECK(run.outstanding() == 2);
  run.complete(job_of(flow, jobs, "a"), success({}));
  CHECK(run.take_ready().empty()); // c still waits for b
  CHECK(run.outstanding() == 1);
  run.complete(job_of(flow, jobs, "b"), success({}));
  auto c = run.take_ready();
  CHECK(ids_of(flow, c) == std::vector<std::string>{"c"});
  CHECK_FALSE(run.done());
  run.complete(c[0], success({}));
  CHECK(run.done());
  CHECK(run.succeeded());
}

TEST_CASE("flow_run::a step whose need failed is skipped, and the item fails") {
  SUBCASE("on_failure continue: skipped because of the need") {
    Flow flow = flow_of(R"([
      {"id": "a", "endpoint": "/a", "on_failure": "continue"},
      {"id": "b", "endpoint": "/b", "needs": "a"}
    ])");
    ItemRun run(flow, Json::object());
    auto jobs = run.take_ready();
    run.complete(jobs.at(0), failed("bad password"));
    CHECK(run.take_ready().empty());
    CHECK(run.done());
    CHECK_FALSE(run.succeeded());
    Json line = run.line();
    CHECK(line["status"] == "failed");
    CHECK(line["error"] == "step \"a\": failed: bad password");
    CHECK(line["steps"]["b"]["status"] == "skipped");
    CHECK(line["steps"]["b"]["reason"] == "needs step \"a\", which ended with failed");
  }
  SUBCASE("on_failure stop (the default): skipped because the flow stopped") {
    Flow flow = flow_of(R"([
      {"id": "a", "endpoint": "/a"},
      {"id": "b", "endpoint": "/b", "needs": "a"}
    ])");
    ItemRun run(flow, Json::object());
    run.complete(run.take_ready().at(0), failed("bad password"));
    CHECK(run.take_ready().empty());
    CHECK(run.done());
    Json line = run.line();
    CHECK(line["status"] == "failed");
    CHECK(line["error"] == "step \"a\": failed: bad password");
    CHECK(line["steps"]["b"]["status"] == "skipped");
    CHECK(line["steps"]["b"]["reason"] == "the flow stopped after step \"a\" failed");
  }
}

TEST_CASE("flow_run::when {a: failed} runs only on failure, and is no failure when skipped") {
  Flow flow = flow_of(R"([
    {"id": "a", "endpoint": "/a", "on_failure": "continue"},
    {"id": "handler", "endpoint": "/h", "when": {"a": "failed"},
     "input": {"why": "{{a:/error}}"}},
    {"id": "next", "endpoint": "/n", "needs": "a"},
    {"id": "after_handler", "endpoint": "/ah", "needs": "handler"}
  ])");
  SUBCASE("a fails: the handler runs, with a's result") {
    ItemRun run(flow, Json::object());
    run.complete(run.take_ready().at(0), failed("boom"));
    auto jobs = run.take_ready();
    CHECK(ids_of(flow, jobs) == std::vector<std::string>{"handler"});
    CHECK(run.wants(jobs[0]));
    CHECK(jobs[0].params.dump() == R"({"why":["boom"]})");
    CHECK(step_status(run, "next") == "skipped");
    run.complete(jobs[0], success({}));
    auto after = run.take_ready();
    CHECK(ids_of(flow, after) == std::vector<std::string>{"after_handler"});
    run.complete(after.at(0), success({}));
    CHECK(run.done());
    CHECK(run.line()["status"] == "failed"); // a still failed
    CHECK(step_status(run, "handler") == "success");
  }
  SUBCASE("a succeeds: the handler is skipped, not a failure") {
    ItemRun run(flow, Json::object());
    run.complete(run.take_ready().at(0), success({}));
    auto jobs = run.take_ready();
    CHECK(ids_of(flow, jobs) == std::vector<std::string>{"next"});
    Json handler = run.line()["steps"]["handler"];
    CHECK(handler["status"] == "skipped");
    CHECK(handler["reason"] == "when: step \"a\" ended with success, not failed");
    // A step that needs the skipped handler is skipped too, still without failing the item.
    CHECK(step_status(run, "after_handler") == "skipped");
    run.complete(jobs[0], success({}));
    CHECK(run.done());
    CHECK(run.succeeded());
    Json line = run.line();
    CHECK(line["status"] == "success");
    CHECK_FALSE(line.contains("error"));
  }
}

TEST_CASE("flow_run::when any, and when with a list of statuses") {
  Flow flow = flow_of(R"([
    {"id": "a", "endpoint": "/a", "on_failure": "continue"},
    {"id": "always", "endpoint": "/x", "when": {"a": "any"}},
    {"id": "timeouts", "endpoint": "/t", "when": {"a": ["timeout", "killed"]}}
  ])");
  SUBCASE("after a success") {
    ItemRun run(flow, Json::object());
    run.complete(run.take_ready().at(0), success({}));
    CHECK(ids_of(flow, run.take_ready()) == std::vector<std::string>{"always"});
    CHECK(run.line()["steps"]["timeouts"]["reason"] ==
          "when: step \"a\" ended with success, not timeout or killed");
  }
  SUBCASE("after a failure") {
    ItemRun run(flow, Json::object());
    run.complete(run.take_ready().at(0), failed("x"));
    CHECK(ids_of(flow, run.take_ready()) == std::vector<std::string>{"always"});
    CHECK(step_status(run, "timeouts") == "skipped");
  }
  SUBCASE("after a timeout") {
    ItemRun run(flow, Json::object());
    run.complete(run.take_ready().at(0), core::failure_line("timeout", "no callback", nullptr));
    CHECK(ids_of(flow, run.take_ready()) == std::vector<std::string>{"always", "timeouts"});
  }
}

TEST_CASE("flow_run::on_failure stop: nothing more starts, unsent siblings are skipped") {
  Flow flow = flow_of(R"([
    {"id": "a", "endpoint": "/a"},
    {"id": "b", "endpoint": "/b"},
    {"id": "c", "endpoint": "/c", "needs": "b"},
    {"id": "d", "endpoint": "/d", "needs": "a"}
  ])");
  ItemRun run(flow, Json::object());
  auto jobs = run.take_ready();
  REQUIRE(jobs.size() == 2);
  FlowJob a = job_of(flow, jobs, "a");
  FlowJob b = job_of(flow, jobs, "b");
  CHECK(run.wants(b));
  run.complete(a, failed("denied"));
  CHECK_FALSE(run.wants(b)); // not submitted yet: no more
  CHECK(run.outstanding() == 1);
  CHECK_FALSE(run.done());
  Json skip = run.skipped_result();
  CHECK(skip["status"] == "skipped");
  CHECK(skip["reason"] == "the flow stopped after step \"a\" failed");
  run.complete(b, skip);
  CHECK(run.take_ready().empty());
  CHECK(run.done());
  Json line = run.line();
  CHECK(line["status"] == "failed");
  CHECK(line["error"] == "step \"a\": failed: denied");
  CHECK(line["steps"]["b"]["status"] == "skipped");
  CHECK(line["steps"]["c"]["status"] == "skipped");
  CHECK(line["steps"]["c"]["reason"] == "the flow stopped after step \"a\" failed");
  CHECK(line["steps"]["d"]["reason"] == "the flow stopped after step \"a\" failed");
}

TEST_CASE("flow_run::on_failure stop: a job already submitted still ends with its result") {
  Flow flow = flow_of(R"([
    {"id": "a", "endpoint": "/a"},
    {"id": "b", "endpoint": "/b"},
    {"id": "c", "endpoint": "/c", "needs": "b"}
  ])");
  ItemRun run(flow, Json::object());
  auto jobs = run.take_ready();
  run.complete(job_of(flow, jobs, "a"), failed("denied"));
  run.complete(job_of(flow, jobs, "b"), success({{"ok", true}})); // it was already sent
  CHECK(run.take_ready().empty());                                // but c does not start
  CHECK(run.done());
  CHECK(step_status(run, "b") == "success");
  CHECK(run.line()["steps"]["c"]["reason"] == "the flow stopped after step \"a\" failed");
}

TEST_CASE("flow_run::on_failure stop still starts a failure handler, and wants it submitted") {
  Flow flow = flow_of(R"([
    {"id": "a", "endpoint": "/a"},
    {"id": "handler", "endpoint": "/h", "when": {"a": "failed"}},
    {"id": "next", "endpoint": "/n", "needs": "a"}
  ])");
  ItemRun run(flow, Json::object());
  run.complete(run.take_ready().at(0), failed("boom"));
  auto jobs = run.take_ready();
  REQUIRE(ids_of(flow, jobs) == std::vector<std::string>{"handler"});
  CHECK(step_status(run, "next") == "skipped");
  CHECK(run.wants(jobs[0])); // started after the stop on purpose: it is to be submitted
  run.complete(jobs[0], success({}));
  CHECK(run.done());
  CHECK(step_status(run, "handler") == "success");
  CHECK(run.line()["error"] == "step \"a\": failed: boom");
}

TEST_CASE("flow_run::a failure handler started after a stop gets its retries") {
  Flow flow = flow_of(R"([
    {"id": "a", "endpoint": "/a"},
    {"id": "b", "endpoint": "/b"},
    {"id": "handler", "endpoint": "/h", "when": {"a": "failed"}, "retries": 1}
  ])");
  ItemRun run(flow, Json::object());
  auto jobs = run.take_ready();
  REQUIRE(jobs.size() == 2);
  run.complete(job_of(flow, jobs, "a"), failed("boom"));
  FlowJob b = job_of(flow, jobs, "b");
  CHECK_FALSE(run.wants(b)); // a sibling from before the stop is still not wanted
  run.complete(b, run.skipped_result());
  auto handler = run.take_ready();
  REQUIRE(ids_of(flow, handler) == std::vector<std::string>{"handler"});
  run.complete(handler[0], failed("flaky"));
  auto again = run.take_ready();
  REQUIRE(again.size() == 1);
  CHECK(again[0].attempt == 1);
  CHECK(run.wants(again[0]));
  run.complete(again[0], success({}));
  CHECK(run.done());
  CHECK(step_status(run, "handler") == "success");
  CHECK(step_status(run, "b") == "skipped");
}

TEST_CASE("flow_run::on_failure continue: independent steps still run") {
  Flow flow = flow_of(R"([
    {"id": "a", "endpoint": "/a", "on_failure": "continue"},
    {"id": "x", "endpoint": "/x"},
    {"id": "c", "endpoint": "/c", "needs": "x"},
    {"id": "d", "endpoint": "/d", "needs": "a"}
  ])");
  ItemRun run(flow, Json::object());
  auto jobs = run.take_ready();
  run.complete(job_of(flow, jobs, "a"), failed("nope"));
  FlowJob x = job_of(flow, jobs, "x");
  CHECK(run.wants(x));
  run.complete(x, success({}));
  auto c = run.take_ready();
  CHECK(ids_of(flow, c) == std::vector<std::string>{"c"});
  CHECK(run.wants(c.at(0)));
  run.complete(c.at(0), success({}));
  CHECK(run.done());
  Json line = run.line();
  CHECK(line["status"] == "failed");
  CHECK(line["error"] == "step \"a\": failed: nope");
  CHECK(line["steps"]["c"]["status"] == "success");
  CHECK(line["steps"]["d"]["status"] == "skipped");
}

TEST_CASE("flow_run::foreach: one job per element, results in element order") {
  Flow flow = flow_of(R"([
    {"id": "a", "endpoint": "/a"},
    {"id": "b", "endpoint": "/b", "foreach": "a:/output_data/0/json_data/users",
     "input": {"name": "{{each.name}}", "who": "{{each}}", "email": "{{item.email}}"}},
    {"id": "c", "endpoint": "/c", "needs": "b", "input": {"second": "{{b:/1/task_id}}"}}
  ])");
  ItemRun run(flow, Json::parse(R"({"email":"e@x"})"));
  run.complete(run.take_ready().at(0),
               success(Json::parse(R"({"users":[{"name":"u0"},{"name":"u1"},{"name":"u2"}]})")));
  auto jobs = run.take_ready();
  REQUIRE(jobs.size() == 3);
  CHECK(run.outstanding() == 3);
  for (size_t e = 0; e < 3; ++e) {
    CAPTURE(e);
    CHECK(jobs[e].step == 1);
    CHECK(jobs[e].element == e);
    CHECK(jobs[e].params["name"] == Json::array({"u" + std::to_string(e)}));
    CHECK(jobs[e].params["who"] == Json::array({"{\"name\":\"u" + std::to_string(e) + "\"}"}));
    CHECK(jobs[e].params["email"] == Json::array({"e@x"}));
  }
  // Out of order.
  run.complete(jobs[2], success({{"e", 2}}, "t2"));
  run.complete(jobs[0], success({{"e", 0}}, "t0"));
  CHECK(step_status(run, "b") == "pending");
  CHECK(run.take_ready().empty());
  run.complete(jobs[1], success({{"e", 1}}, "t1"));
  Json b = run.line()["steps"]["b"];
  REQUIRE(b.is_array());
  REQUIRE(b.size() == 3);
  CHECK(b[0]["task_id"] == "t0");
  CHECK(b[1]["task_id"] == "t1");
  CHECK(b[2]["task_id"] == "t2");
  // The list is the step's result for later templates.
  auto c = run.take_ready();
  REQUIRE(c.size() == 1);
  CHECK(c[0].params.dump() == R"({"second":["t1"]})");
  run.complete(c[0], success({}));
  CHECK(run.done());
  CHECK(run.succeeded());
}

TEST_CASE("flow_run::foreach over the item; a failed element fails the step") {
  Flow flow = flow_of(R"([
    {"id": "b", "endpoint": "/b", "foreach": "item:/ids", "on_failure": "continue",
     "input": {"id": "{{each}}"}},
    {"id": "c", "endpoint": "/c", "needs": "b"}
  ])");
  ItemRun run(flow, Json::parse(R"({"ids":["x","y"]})"));
  auto jobs = run.take_ready();
  REQUIRE(jobs.size() == 2);
  CHECK(jobs[0].params.dump() == R"({"id":["x"]})");
  CHECK(jobs[1].params.dump() == R"({"id":["y"]})");
  run.complete(jobs[1], failed("bad y"));
  run.complete(jobs[0], success({}));
  CHECK(run.done());
  Json line = run.line();
  CHECK(line["status"] == "failed");
  CHECK(line["error"] == "step \"b\" (element 1): failed: bad y");
  CHECK(line["steps"]["b"][1]["status"] == "failed");
  CHECK(line["steps"]["c"]["status"] == "skipped");
  CHECK(line["steps"]["c"]["reason"] == "needs step \"b\", which ended with failed");
}

TEST_CASE("flow_run::foreach over an empty list succeeds with [] and its dependents run") {
  Flow flow = flow_of(R"([
    {"id": "b", "endpoint": "/b", "foreach": "item:/ids", "input": {"id": "{{each}}"}},
    {"id": "c", "endpoint": "/c", "needs": "b"}
  ])");
  ItemRun run(flow, Json::parse(R"({"ids":[]})"));
  auto jobs = run.take_ready();
  CHECK(ids_of(flow, jobs) == std::vector<std::string>{"c"});
  CHECK(run.line()["steps"]["b"] == Json::array());
  run.complete(jobs.at(0), success({}));
  CHECK(run.done());
  CHECK(run.succeeded());
}

TEST_CASE("flow_run::foreach over a non-list is invalid_input naming the step") {
  Flow flow = flow_of(R"([
    {"id": "a", "endpoint": "/a"},
    {"id": "b", "endpoint": "/b", "foreach": "a:/output_data/0/json_data/ids",
     "input": {"id": "{{each}}"}},
    {"id": "c", "endpoint": "/c", "needs": "b"}
  ])");
  SUBCASE("an object") {
    ItemRun run(flow, Json::object());
    run.complete(run.take_ready().at(0), success({{"ids", {{"k", 1}}}}));
    CHECK(run.take_ready().empty());
    CHECK(run.done());
    Json line = run.line();
    CHECK(line["steps"]["b"]["status"] == "invalid_input");
    CHECK_HAS(line["steps"]["b"]["error"].get<std::string>(), "not a list");
    CHECK_HAS(line["error"].get<std::string>(), "step \"b\": invalid_input: ");
    CHECK_HAS(line["error"].get<std::string>(),
              "{{a:/output_data/0/json_data/ids}} is object, not a list");
    CHECK(line["steps"]["c"]["status"] == "skipped");
  }
  SUBCASE("missing") {
    ItemRun run(flow, Json::object());
    run.complete(run.take_ready().at(0), success({{"other", 1}}));
    Json line = run.line();
    CHECK(line["steps"]["b"]["status"] == "invalid_input");
    CHECK_HAS(line["error"].get<std::string>(), "step \"b\"");
    CHECK_HAS(line["error"].get<std::string>(), "/output_data/0/json_data/ids");
  }
}

TEST_CASE("flow_run::an unresolvable reference at run time is invalid_input") {
  SUBCASE("a step result without the pointer") {
    Flow flow = flow_of(R"([
      {"id": "a", "endpoint": "/a"},
      {"id": "b", "endpoint": "/b", "input": {"acct": "{{a:/output_data/0/json_data/missing}}"}}
    ])");
    ItemRun run(flow, Json::object());
    run.complete(run.take_ready().at(0), success({{"present", 1}}));
    CHECK(run.take_ready().empty()); // nothing was submitted for b
    CHECK(run.done());
    Json line = run.line();
    CHECK(line["status"] == "failed");
    CHECK(line["steps"]["b"]["status"] == "invalid_input");
    std::string error = line["error"].get<std::string>();
    CHECK_HAS(error, "step \"b\": invalid_input: ");
    CHECK_HAS(error, "{{a:/output_data/0/json_data/missing}}");
    CHECK_HAS(error, "nothing at /output_data/0/json_data/missing");
    // The step is named once.
    CHECK(error.find("step \"b\"", 1) == std::string::npos);
  }
  SUBCASE("an item field, with a suggestion") {
    Flow flow = flow_of(R"([{"id": "b", "endpoint": "/b", "input": {"to": "{{item.emial}}"}}])");
    ItemRun run(flow, Json::parse(R"({"email":"e@x"})"));
    CHECK(run.take_ready().empty());
    CHECK(run.done());
    Json line = run.line();
    CHECK(line["steps"]["b"]["status"] == "invalid_input");
    CHECK_HAS(line["error"].get<std::string>(), "step \"b\"");
    CHECK_HAS(line["error"].get<std::string>(), "did you mean \"email\"?");
  }
  SUBCASE("one element of a foreach") {
    Flow flow = flow_of(R"([
      {"id": "b", "endpoint": "/b", "foreach": "item:/users", "input": {"n": "{{each.name}}"}}
    ])");
    ItemRun run(flow, Json::parse(R"({"users":[{"name":"u0"},{"nam":"u1"}]})"));
    auto jobs = run.take_ready();
    REQUIRE(jobs.size() == 1); // element 1 cannot be filled
    CHECK(jobs[0].element == 0);
    // With on_failure stop, the element already handed out is not wanted any more.
    CHECK_FALSE(run.wants(jobs[0]));
    run.complete(jobs[0], run.skipped_result());
    CHECK(run.done());
    Json line = run.line();
    CHECK(line["status"] == "failed");
    CHECK_HAS(line["error"].get<std::string>(), "step \"b\" (element 1): invalid_input: ");
    CHECK_HAS(line["error"].get<std::string>(), "{{each.name}}");
    REQUIRE(line["steps"]["b"].size() == 2);
    CHECK(line["steps"]["b"][0]["status"] == "skipped");
    CHECK(line["steps"]["b"][1]["status"] == "invalid_input");
  }
}

TEST_CASE("flow_run::retries") {
  Flow flow = flow_of(R"([
    {"id": "a", "endpoint": "/a", "retries": 1, "input": {"k": "v"}},
    {"id": "b", "endpoint": "/b", "needs": "a"}
  ])");
  SUBCASE("a failed job comes back with attempt 1; a second failure ends the step") {
    ItemRun run(flow, Json::object());
    auto first = run.take_ready();
    REQUIRE(first.size() == 1);
    CHECK(first[0].attempt == 0);
    run.complete(first[0], failed("flaky"));
    CHECK(run.outstanding() == 0);
    CHECK_FALSE(run.done());
    CHECK(step_status(run, "a") == "pending");
    auto second = run.take_ready();
    REQUIRE(second.size() == 1);
    CHECK(second[0].step == 0);
    CHECK(second[0].attempt == 1);
    CHECK(second[0].params.dump() == first[0].params.dump());
    run.complete(second[0], failed("still flaky"));
    CHECK(run.take_ready().empty());
    CHECK(run.done());
    Json line = run.line();
    CHECK(line["steps"]["a"]["error"] == "still flaky");
    CHECK(line["error"] == "step \"a\": failed: still flaky");
    CHECK(line["steps"]["b"]["status"] == "skipped");
  }
  SUBCASE("a success on the retry") {
    ItemRun run(flow, Json::object());
    run.complete(run.take_ready().at(0), core::failure_line("timeout", "no callback", nullptr));
    auto again = run.take_ready();
    REQUIRE(again.size() == 1);
    CHECK(again[0].attempt == 1);
    run.complete(again[0], success({}));
    auto b = run.take_ready();
    CHECK(ids_of(flow, b) == std::vector<std::string>{"b"});
    run.complete(b.at(0), success({}));
    CHECK(run.succeeded());
  }
  SUBCASE("invalid_input is not retried") {
    ItemRun run(flow, Json::object());
    run.complete(run.take_ready().at(0), core::failure_line("invalid_input", "422", nullptr));
    CHECK(run.take_ready().empty());
    CHECK(run.done());
    CHECK(step_status(run, "a") == "invalid_input");
  }
  SUBCASE("no retries by default") {
    Flow plain = flow_of(R"([{"id": "a", "endpoint": "/a"}])");
    ItemRun run(plain, Json::object());
    run.complete(run.take_ready().at(0), failed("x"));
    CHECK(run.take_ready().empty());
    CHECK(run.done());
  }
}

TEST_CASE("flow_run::is_retryable_status") {
  CHECK(core::is_retryable_status("failed"));
  CHECK(core::is_retryable_status("killed"));
  CHECK(core::is_retryable_status("timeout"));
  CHECK(core::is_retryable_status("submit_failed"));
  CHECK_FALSE(core::is_retryable_status("invalid_input"));
  CHECK_FALSE(core::is_retryable_status("success"));
  CHECK_FALSE(core::is_retryable_status("skipped"));
  CHECK_FALSE(core::is_retryable_status("interrupted"));
  CHECK_FALSE(core::is_retryable_status("cancelled"));
  CHECK_FALSE(core::is_retryable_status(""));
}

TEST_CASE("flow_run::abandon ends everything; the caller completes what it sent") {
  Flow flow = flow_of(R"([
    {"id": "a", "endpoint": "/a"},
    {"id": "b", "endpoint": "/b"},
    {"id": "c", "endpoint": "/c", "needs": "a"},
    {"id": "d", "endpoint": "/d", "needs": "c"},
    {"id": "e", "endpoint": "/e", "needs": "b"}
  ])");
  ItemRun run(flow, Json::object());
  auto jobs = run.take_ready();
  REQUIRE(jobs.size() == 2);
  run.complete(job_of(flow, jobs, "a"), success({})); // c is now ready, not handed out
  FlowJob b = job_of(flow, jobs, "b");
  CHECK(run.outstanding() == 1);

  run.abandon("interrupted", "SIGINT");
  CHECK(run.take_ready().empty()); // c ended here instead
  CHECK_FALSE(run.wants(b));
  CHECK(run.outstanding() == 1);
  CHECK_FALSE(run.done()); // b is still out
  CHECK(step_status(run, "c") == "interrupted");
  CHECK(step_status(run, "d") == "interrupted");
  CHECK(step_status(run, "b") == "pending");

  Json skip = run.skipped_result();
  CHECK(skip["status"] == "interrupted");
  run.complete(b, skip);
  CHECK(run.outstanding() == 0);
  CHECK(run.done());
  CHECK_FALSE(run.succeeded());
  Json line = run.line();
  CHECK(line["status"] == "interrupted");
  CHECK(line["error"] == "SIGINT");
  CHECK(line["steps"]["a"]["status"] == "success");
  CHECK(line["steps"]["b"]["status"] == "interrupted");
  CHECK(line["steps"]["e"]["status"] == "interrupted");
  CHECK(line["steps"]["c"]["error"] == "SIGINT");
}

TEST_CASE("flow_run::abandon keeps the first error and the first status") {
  Flow flow = flow_of(R"([{"id": "a", "endpoint": "/a"}, {"id": "b", "endpoint": "/b"}])");
  ItemRun run(flow, Json::object());
  auto jobs = run.take_ready();
  run.complete(job_of(flow, jobs, "a"), failed("first"));
  run.abandon("interrupted", "SIGINT");
  run.abandon("terminated", "SIGTERM");
  run.complete(job_of(flow, jobs, "b"), run.skipped_result());
  CHECK(run.done());
  Json line = run.line();
  CHECK(line["status"] == "interrupted");
  CHECK(line["error"] == "step \"a\": failed: first");
}

TEST_CASE("flow_run::a finished step's result is kept even when it succeeds after abandon") {
  Flow flow =
      flow_of(R"([{"id": "a", "endpoint": "/a"}, {"id": "b", "endpoint": "/b", "needs": "a"}])");
  ItemRun run(flow, Json::object());
  auto jobs = run.take_ready();
  run.abandon("interrupted", "stop");
  CHECK_FALSE(run.done());
  run.complete(jobs.at(0), success({{"late", true}})); // the callback came anyway
  CHECK(run.done());
  Json line = run.line();
  CHECK(line["status"] == "interrupted");
  CHECK(line["steps"]["a"]["status"] == "success");
  CHECK(line["steps"]["b"]["status"] == "interrupted");
}

TEST_CASE("flow_run::secure_parameters are rendered with single lists unwrapped") {
  Flow flow = flow_of(R"([
    {"id": "a", "endpoint": "/a", "input": {"u": "{{item.user}}"},
     "secure_parameters": {"login": [
       {"onepassword": {"vault_name": "v", "item_name": "{{item.user}}", "field": "{{item.f}}"}}
     ]}}
  ])");
  ItemRun run(flow, Json::parse(R"({"user":["u1"],"f":"pw"})"));
  auto jobs = run.take_ready();
  REQUIRE(jobs.size() == 1);
  CHECK(jobs[0].params.dump() == R"({"u":["u1"]})"); // input parameters keep their lists
  CHECK(jobs[0].secure.dump() ==
        R"({"login":[{"onepassword":{"vault_name":"v","item_name":"u1","field":"pw"}}]})");
}

TEST_CASE("flow_run::a secure_parameters reference that does not resolve is invalid_input") {
  Flow flow = flow_of(R"([
    {"id": "a", "endpoint": "/a",
     "secure_parameters": {"login": [{"totp": {"totp_secret": "{{item.secret}}"}}]}}
  ])");
  ItemRun run(flow, Json::parse(R"({"secrett":"s"})"));
  CHECK(run.take_ready().empty());
  CHECK(run.done());
  Json line = run.line();
  CHECK(line["steps"]["a"]["status"] == "invalid_input");
  CHECK_HAS(line["error"].get<std::string>(), "{{item.secret}}");
  CHECK_HAS(line["error"].get<std::string>(), "did you mean \"secrett\"?");
}

TEST_CASE("flow_run::a step with no jobs left and nothing outstanding is done") {
  Flow flow = flow_of(R"([{"id": "a", "endpoint": "/a"}])");
  ItemRun run(flow, Json::object());
  CHECK_FALSE(run.done()); // a job is ready, not handed out
  auto jobs = run.take_ready();
  CHECK_FALSE(run.done()); // handed out, not completed
  CHECK(run.outstanding() == 1);
  run.complete(jobs.at(0), success({}));
  CHECK(run.done());
  CHECK(run.outstanding() == 0);
}

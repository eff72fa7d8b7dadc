#include "core/output.h"

#include <doctest/doctest.h>

#include <csignal>
#include <string>
#include <thread>
#include <unistd.h>

TEST_SUITE_BEGIN("output");

TEST_CASE("output::LineWriter writes a large line whole through a pipe (short writes)") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  std::string line(3 * 1024 * 1024, 'x'); // far beyond a pipe's buffer
  line[12345] = 'y';
  std::string got;
  std::thread reader([&] {
    char buf[65536];
    ssize_t n;
    while ((n = ::read(fds[0], buf, sizeof buf)) > 0) {
      got.append(buf, static_cast<size_t>(n));
    }
  });
  {
    core::LineWriter out(fds[1]);
    out.write_line(line);
    out.write_line("second");
  }
  ::close(fds[1]);
  reader.join();
  ::close(fds[0]);
  CHECK(got == line + "\nsecond\n");
}

TEST_CASE("output::LineWriter reports a closed reader as StdoutClosed") {
  std::signal(SIGPIPE, SIG_IGN);
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  ::close(fds[0]);
  core::LineWriter out(fds[1]);
  CHECK_THROWS_AS(out.write_line("x"), core::StdoutClosed);
  ::close(fds[1]);
}

TEST_CASE("output::failure_line has the documented shape") {
  auto line = core::failure_line("timeout", "no callback", core::Json{{"email", {"a@x"}}}, "t1");
  CHECK(core::dump_line(line) ==
        R"({"task_id":"t1","status":"timeout","error":"no callback","input":{"email":["a@x"]}})");
  CHECK(core::line_status(line) == "timeout");
}

TEST_CASE("output::shorten_for_terminal replaces long base64 values, leaves the rest") {
  const std::string png(300 * 1024, 'A');
  core::Json line = {{"task_id", "t1"},
                     {"final_screenshot", png},
                     {"output_data",
                      core::Json::array({{{"image", "data:image/png;base64," + png}},
                                         std::string(2000, 'x') + " words"})}};
  size_t shortened = 0;
  const std::string shown = core::shorten_for_terminal(core::dump_line(line), shortened);
  CHECK(shortened == 2);
  auto json = core::parse_json(shown);
  REQUIRE(json.is_object());
  CHECK(json["final_screenshot"] == "<base64, 300 KB, not shown on a terminal: --screenshots DIR "
                                    "saves screenshots, a pipe or a file gets it whole>");
  CHECK(json["output_data"][0]["image"].get<std::string>().starts_with("<base64, 301 KB"));
  CHECK(json["output_data"][1] == line["output_data"][1]); // not base64: kept
  CHECK(json["task_id"] == "t1");
  // Nothing long: the very same bytes.
  const std::string small = R"({"b":1,"a":"x"})";
  CHECK(core::shorten_for_terminal(small, shortened) == small);
  const std::string text = core::dump_line(core::Json{{"z", std::string(5000, 'x') + "!"}});
  CHECK(core::shorten_for_terminal(text, shortened) == text);
  CHECK(shortened == 2);
}

TEST_CASE("output::status_line unwraps the task from the service's envelope") {
  core::Json answer = core::Json::parse(
      R"({"success":true,"task":{"created_at":"2026-01-01T00:00:00Z","task_id":"t1",)"
      R"("status":"running","started_at":"2026-01-01T00:00:01Z","completed_at":null}})");
  auto line = core::status_line(answer, "t1");
  REQUIRE(line);
  // A run line's keys first (error null when the service gives none), then the service's own.
  CHECK(core::dump_line(*line) ==
        R"({"task_id":"t1","status":"running","error":null,"created_at":"2026-01-01T00:00:00Z",)"
        R"("started_at":"2026-01-01T00:00:01Z","completed_at":null})");
  CHECK_FALSE(line->contains("success"));

  SUBCASE("a list of tasks: the one asked about") {
    auto other = core::status_line(
        core::Json::parse(R"({"tasks":[{"task_id":"a","status":"queued"},)"
                          R"({"task_id":"b","status":"failed","error":"boom"}]})"),
        "b");
    REQUIRE(other);
    CHECK(core::dump_line(*other) == R"({"task_id":"b","status":"failed","error":"boom"})");
  }
  SUBCASE("no task with a status: nothing to print") {
    CHECK_FALSE(core::status_line(core::Json::parse(R"({"success":true})"), "t1"));
    CHECK_FALSE(core::status_line(core::Json::parse(R"({"task":null})"), "t1"));
    CHECK_FALSE(core::status_line(core::Json::parse(R"([1,2])"), "t1"));
  }
}

TEST_CASE("output::result_line is the callback payload, out of its envelope") {
  core::Json payload = core::Json::parse(
      R"({"task_id":"t1","endpoint_name":"demo","status":"success","output_data":[],"error":null})");
  core::Json answer = {{"success", true}, {"data", payload}};
  auto line = core::result_line(answer);
  REQUIRE(line);
  CHECK(*line == payload);
  CHECK(core::dump_line(*line) == core::dump_line(payload)); // the service's key order
  SUBCASE("the payload itself") {
    CHECK(core::result_line(payload) == payload);
  }
  SUBCASE("a task still running has no result") {
    CHECK_FALSE(core::result_line(core::Json::parse(R"({"success":true,"data":null})")));
    CHECK_FALSE(core::result_line(core::Json::parse(R"("text")")));
  }
}

TEST_SUITE_END();

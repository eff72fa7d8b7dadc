#include "core/progress.h"

#include <doctest/doctest.h>

TEST_SUITE_BEGIN("progress");

using namespace std::chrono_literals;
using Clock = core::Progress::Clock;

TEST_CASE("progress::format_duration") {
  CHECK(core::format_duration(0) == "0:00");
  CHECK(core::format_duration(65) == "1:05");
  CHECK(core::format_duration(3723) == "1:02:03");
  CHECK(core::format_duration(-1) == "?");
}

TEST_CASE("progress::Progress counts, estimates and summarises") {
  auto t0 = Clock::now();
  core::Progress p(t0);
  p.set_total(4, true);
  p.set_in_flight(2);
  p.finished("success", 1s, "f:1", "", t0 + 1s);
  p.finished("failed", 3s, "f:2", "boom", t0 + 2s);
  auto line = p.status_line(t0 + 2s);
  CHECK(line.find("[2/4] 1 ok · 1 failed · 0 timeout · 2 in flight · 0:02") == 0);
  CHECK(line.find("ETA 0:02") != std::string::npos); // 2 left at one a second
  auto j = p.status_json(t0 + 2s);
  CHECK(j["done"] == 2);
  CHECK(j["failed"] == 1);
  CHECK(j["eta_s"] == 2.0);
  auto summary = p.summary_lines(t0 + 2s);
  REQUIRE(summary.size() == 3);
  CHECK(summary[0] == "2 inputs in 0:02: 1 failed, 1 success");
  CHECK(summary[1] == "slowest: f:2 (3.0 s)");
  CHECK(summary[2] == "  f:2 failed: boom");
}

TEST_CASE("progress::Progress: a stream's total grows, failures beyond ten are counted") {
  auto t0 = Clock::now();
  core::Progress p(t0);
  p.set_total(0, false);
  for (int i = 0; i < 13; ++i) {
    p.finished("timeout", 1s, "s:" + std::to_string(i), "", t0 + 1s);
  }
  CHECK(p.status_line(t0 + 1s).find("[13/13+]") == 0);
  CHECK(p.status_json(t0 + 1s)["eta_s"].is_null());
  auto summary = p.summary_lines(t0 + 1s);
  CHECK(summary.back() == "  ... and 3 more not successful");
}

TEST_CASE("progress::status_line fits the terminal: the least useful fields go first") {
  auto t0 = Clock::now();
  core::Progress p(t0);
  p.set_label("my-automation");
  p.set_total(200, true);
  p.set_in_flight(7);
  for (int i = 0; i < 193; ++i) {
    p.finished(i % 11 == 0 ? "failed" : "success", 3400ms, "f:1", "", t0 + 36s);
  }
  const auto now = t0 + 36s;
  const std::string wide = p.status_line(now);
  CHECK(wide.find("my-automation [193/200] 175 ok · 18 failed · 0 timeout · 7 in flight · 0:36") ==
        0);
  CHECK(wide.find("task 3.4 s") != std::string::npos);
  for (size_t columns : {200, 80, 60, 40, 30, 20, 10}) {
    CAPTURE(columns);
    const std::string line = p.status_line(now, columns);
    CHECK(core::display_width(line) <= columns - 1); // never the last column: no wrap
    if (columns >= 30) {
      CHECK(line.find("[193/200] 175 ok · 18 failed") != std::string::npos);
    }
  }
  // At 80 columns the zero timeouts went first, at 70 the typical task time too.
  CHECK(p.status_line(now, 80) ==
        "my-automation [193/200] 175 ok · 18 failed · 7 in flight · 0:36 · task 3.4 s");
  CHECK(p.status_line(now, 70) ==
        "my-automation [193/200] 175 ok · 18 failed · 7 in flight · 0:36");
  // Then the label is shortened, then dropped: the counts that matter stay.
  CHECK(p.status_line(now, 50) == "my-automation [193/200] 175 ok · 18 failed");
  CHECK(p.status_line(now, 42) == "my-automati… [193/200] 175 ok · 18 failed");
  CHECK(p.status_line(now, 40) == "[193/200] 175 ok · 18 failed");
}

TEST_CASE("progress::cut_to_width counts code points and never splits one") {
  CHECK(core::display_width("a · b") == 5);
  CHECK(core::cut_to_width("abcdef", 4) == "abc…");
  CHECK(core::cut_to_width("ab·de", 4) == "ab·…");
  CHECK(core::cut_to_width("abc", 3) == "abc");
  CHECK(core::cut_to_width("abc", 0).empty());
}

TEST_CASE("progress::summary names where a line came from, then its own error") {
  auto t0 = Clock::now();
  core::Progress p(t0);
  p.finished("failed", 1s, "e200.txt:3", "element not found", t0, "journaled earlier");
  p.finished("failed", 1s, "<stdin>:5", "", t0, "passed on");
  auto summary = p.summary_lines(t0);
  REQUIRE(summary.size() == 4);
  CHECK(summary[2] == "  e200.txt:3 failed (journaled earlier): element not found");
  CHECK(summary[3] == "  <stdin>:5 failed (passed on)");
}

TEST_SUITE_END();

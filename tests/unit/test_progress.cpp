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

TEST_SUITE_END();

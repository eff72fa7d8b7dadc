#include "core/wait_policy.h"

#include <doctest/doctest.h>

TEST_SUITE_BEGIN("wait_policy");

using core::TaskState;
using core::WaitDecision;
using core::WaitLimits;
using namespace std::chrono_literals;
using std::chrono::milliseconds;

namespace {

core::WallTime wall(const char* text) {
  auto t = core::parse_iso8601(text);
  REQUIRE(t.has_value());
  return *t;
}

// A fixed instant on both clocks, and the limits of the examples: --timeout 60, --max-wait 600.
const core::SteadyTime k_submitted = core::SteadyTime(1000s);
const WaitLimits k_limits{60s, 600s};

} // namespace

TEST_CASE("parse_iso8601 reads the service's times and refuses the rest") {
  auto a = core::parse_iso8601("2026-08-20T10:00:09Z");
  REQUIRE(a);
  CHECK(std::chrono::duration_cast<std::chrono::seconds>(a->time_since_epoch()).count() ==
        1787220009);
  // Fractions, offsets and naive times (FastAPI writes datetimes without a zone).
  CHECK(wall("2026-08-20T10:00:09.250000Z") - *a == 250ms);
  CHECK(wall("2026-08-20T12:00:09+02:00") == *a);
  CHECK(wall("2026-08-20T09:30:09-00:30") == *a);
  CHECK(wall("2026-08-20T10:00:09") == *a);
  CHECK(wall("2026-08-20 10:00:09") == *a);
  for (const char* bad : {"",
                          "2026-08-20",
                          "2026-08-20T10:00",
                          "2026-13-20T10:00:09Z",
                          "2026-08-20T10:00:09.Z",
                          "2026-08-20T10:00:09Zjunk",
                          "2026-08-20T10:00:09+2",
                          "yesterday"}) {
    CAPTURE(bad);
    CHECK_FALSE(core::parse_iso8601(bad));
  }
}

TEST_CASE("read_task_state reads every shape of task_status") {
  const core::Json one = core::parse_json(
      R"({"success":true,"task":{"task_id":"a","status":"running","started_at":"2026-08-20T10:00:09Z"}})");
  TaskState s = core::read_task_state(one, "a");
  CHECK(s.status == "running");
  CHECK(s.started_at == wall("2026-08-20T10:00:09Z"));

  // Several tasks (PR #225): the one asked about, wherever it is.
  const core::Json many = core::parse_json(
      R"({"success":true,"task":[{"task_id":"b","status":"queued"},{"task_id":"a","status":"success"}]})");
  CHECK(core::read_task_state(many, "a").status == "success");
  CHECK(core::read_task_state(many, "zzz").status == "queued"); // not named: the first
  const core::Json tasks =
      core::parse_json(R"({"tasks":[{"task_id":"a","status":"allocated","started_at":null}]})");
  TaskState t = core::read_task_state(tasks, "a");
  CHECK(t.status == "allocated");
  CHECK_FALSE(t.started_at);
  CHECK(core::read_task_state(core::parse_json(R"({"status":"failed"})"), "a").status == "failed");
  // Nonsense says nothing.
  CHECK(core::read_task_state(core::parse_json(R"({"task":7})"), "a").status.empty());
  CHECK(core::read_task_state(core::parse_json(R"("running")"), "a").status.empty());
  CHECK(core::read_task_state(
            core::parse_json(R"({"task":{"status":"running","started_at":"soon"}})"), "a")
            .started_at == std::nullopt);
}

TEST_CASE("a terminal status is fetched, whatever the time") {
  for (const char* status : {"success", "failed", "killed", "cancelled"}) {
    WaitDecision d = core::decide_after_check(
        TaskState{status, std::nullopt}, k_limits, k_submitted, k_submitted + 5000s, {}, 9);
    CHECK(d.action == WaitDecision::Action::fetch);
  }
}

TEST_CASE("a queued task is no timeout: it is asked about again, with backoff") {
  const core::SteadyTime now = k_submitted + 60s; // its first deadline
  WaitDecision d1 = core::decide_after_check(
      TaskState{"queued", std::nullopt}, k_limits, k_submitted, now, {}, 1);
  CHECK(d1.action == WaitDecision::Action::recheck);
  CHECK(d1.when == now + 7500ms); // timeout / 8
  WaitDecision d3 = core::decide_after_check(
      TaskState{"allocated", std::nullopt}, k_limits, k_submitted, now, {}, 3);
  CHECK(d3.when == now + 30s);
  // Unknown statuses wait the same way.
  CHECK(core::decide_after_check(TaskState{"", std::nullopt}, k_limits, k_submitted, now, {}, 1)
            .action == WaitDecision::Action::recheck);
  // Running since an unknown time: since the submit at the latest, so past the timeout.
  WaitDecision running = core::decide_after_check(
      TaskState{"running", std::nullopt}, k_limits, k_submitted, now + 1s, {}, 1);
  CHECK(running.action == WaitDecision::Action::timeout);
  CHECK(
      running.reason ==
      "still running 61 s after its submit, past --timeout 60 s (the service gives no started_at)");
}

TEST_CASE("the backoff stays between 1 s and 5 minutes") {
  CHECK(core::recheck_backoff(100ms, 1) == 1s);
  CHECK(core::recheck_backoff(2s, 2) == 2s);
  CHECK(core::recheck_backoff(2s, 4) == 8s);
  CHECK(core::recheck_backoff(std::chrono::hours(10), 1) == std::chrono::minutes(5));
  CHECK(core::recheck_backoff(60s, 1000) == std::chrono::minutes(5));
}

TEST_CASE("a running task gets --timeout from its started_at") {
  const core::WallTime started = wall("2026-08-20T10:00:00Z");
  const core::SteadyTime now = k_submitted + 100s; // queued 80 s, running 20 s
  WaitDecision d = core::decide_after_check(
      TaskState{"running", started}, k_limits, k_submitted, now, started + 20s, 2);
  CHECK(d.action == WaitDecision::Action::recheck);
  CHECK(d.when == now + 40s);
  // Past started_at + timeout: a timeout that says why.
  WaitDecision late = core::decide_after_check(
      TaskState{"running", started}, k_limits, k_submitted, now, started + 61s, 2);
  CHECK(late.action == WaitDecision::Action::timeout);
  CHECK(late.reason == "still running 61 s after it started, past --timeout 60 s");
  // A started_at ahead of this clock (skew) waits the whole timeout, and no longer than
  // --max-wait.
  WaitDecision ahead = core::decide_after_check(
      TaskState{"running", started}, k_limits, k_submitted, now, started - 30s, 2);
  CHECK(ahead.when == now + 60s);
  WaitDecision capped = core::decide_after_check(
      TaskState{"running", started}, k_limits, k_submitted, k_submitted + 590s, started, 2);
  CHECK(capped.when == k_submitted + 600s);
}

TEST_CASE("--max-wait ends every wait") {
  const core::SteadyTime end = k_submitted + 600s;
  WaitDecision d = core::decide_after_check(
      TaskState{"allocated", std::nullopt}, k_limits, k_submitted, end, {}, 7);
  CHECK(d.action == WaitDecision::Action::timeout);
  CHECK(d.reason == "no result within --max-wait 600 s (the service says allocated)");
  WaitDecision near = core::decide_after_check(
      TaskState{"queued", std::nullopt}, k_limits, k_submitted, end - 1s, {}, 9);
  CHECK(near.when == end);
  CHECK(core::first_deadline(k_limits, k_submitted) == k_submitted + 60s);
  CHECK(core::first_deadline(WaitLimits{60s, 10s}, k_submitted) == k_submitted + 10s);
}

TEST_CASE("the default timeout counts attempts, their pauses and the delivery window") {
  CHECK(core::default_timeout(std::chrono::minutes(10), 1) == std::chrono::minutes(15));
  // 3 attempts: 30 min + 10 s + 20 s + 5 min.
  CHECK(core::default_timeout(std::chrono::minutes(10), 3) == std::chrono::minutes(35) + 30s);
  CHECK(core::default_timeout(std::chrono::minutes(1), 0) == std::chrono::minutes(6));
}

TEST_CASE("peers: p90 and the straggler threshold") {
  core::PeerDurations peers(10);
  CHECK_FALSE(peers.threshold(60s));
  for (int i = 1; i <= 10; ++i) {
    peers.record(milliseconds(i * 1000));
  }
  CHECK(peers.p90() == 9s);
  CHECK(peers.threshold(1s) == 27s);
  CHECK(peers.threshold(60s) == 60s);
  // A ring: the oldest samples make way.
  for (int i = 0; i < 10; ++i) {
    peers.record(100ms);
  }
  CHECK(peers.count() == 10);
  CHECK(peers.p90() == 100ms);
  core::PeerDurations one;
  one.record(2s);
  CHECK(one.p90() == 2s);
}

TEST_CASE("the rate limit lets a burst through, then spaces requests") {
  core::RateLimit limit(10, 3); // 100 ms apart, 3 at once
  const core::SteadyTime t0 = core::SteadyTime(50s);
  CHECK(limit.reserve(t0) == t0);
  CHECK(limit.reserve(t0) == t0);
  CHECK(limit.reserve(t0) == t0);
  CHECK(limit.reserve(t0) == t0 + 100ms);
  CHECK(limit.reserve(t0) == t0 + 200ms);
  // After a quiet second, a burst again (not ten).
  const core::SteadyTime t1 = t0 + 2s;
  CHECK(limit.reserve(t1) == t1);
  CHECK(limit.reserve(t1) == t1);
  CHECK(limit.reserve(t1) == t1);
  CHECK(limit.reserve(t1) == t1 + 100ms);
}

TEST_SUITE_END();

#include "core/error.h"
#include "core/run_controls.h"

#include <doctest/doctest.h>

#include <map>
#include <set>
#include <string>

using namespace std::chrono_literals;

namespace {

std::string error_of(auto parse, std::string_view text) {
  try {
    parse(text);
  } catch (const core::Error& e) {
    CHECK(e.code() == core::ExitCode::usage);
    return e.what();
  }
  return "";
}

} // namespace

TEST_CASE("--halt: GNU parallel's spelling") {
  auto soon = core::parse_halt("soon,fail=5");
  CHECK(soon.when == core::HaltPolicy::When::soon);
  CHECK(soon.failures == 5);
  auto now = core::parse_halt("now,fail=20%");
  CHECK(now.when == core::HaltPolicy::When::now);
  CHECK(now.failures == 0);
  CHECK(now.percent == doctest::Approx(20));
  CHECK(core::parse_halt("fail=3").when == core::HaltPolicy::When::soon);
  CHECK_FALSE(core::parse_halt("never").active());
}

TEST_CASE("--halt: each mistake is one line naming it") {
  auto parse = [](std::string_view t) { return core::parse_halt(t); };
  CHECK(error_of(parse, "soon").find("no fail=N condition") != std::string::npos);
  CHECK(error_of(parse, "soon,success=3").find("only fail= conditions") != std::string::npos);
  CHECK(error_of(parse, "later,fail=3").find("\"later\" is neither") != std::string::npos);
  CHECK(error_of(parse, "soon,fail=0").find("at least 1") != std::string::npos);
  CHECK(error_of(parse, "soon,fail=x").find("at least 1") != std::string::npos);
  CHECK(error_of(parse, "now,fail=150%").find("at most 100") != std::string::npos);
  CHECK(error_of(parse, "now,fail=3,fail=4").find("one condition only") != std::string::npos);
  for (std::string_view bad : {"soon", "soon,success=3", "", "fail=-1"}) {
    std::string e = error_of(parse, bad);
    CHECK(e.starts_with("--halt: "));
    CHECK(e.find('\n') == std::string::npos);
  }
}

TEST_CASE("--halt: a count halts at N failures, a percentage once 10 tasks finished") {
  auto count = core::parse_halt("soon,fail=5");
  CHECK_FALSE(count.reason(4, 4));
  REQUIRE(count.reason(5, 9));
  CHECK(*count.reason(5, 9) == "--halt soon,fail=5: 5 tasks failed");
  auto share = core::parse_halt("now,fail=50%");
  CHECK_FALSE(share.reason(9, 9)); // fewer than 10 finished: too few to judge
  CHECK_FALSE(share.reason(4, 10));
  REQUIRE(share.reason(5, 10));
  CHECK(*share.reason(5, 10) == "--halt now,fail=50%: 5 of 10 finished tasks failed (50%)");
  CHECK_FALSE(core::parse_halt("never").reason(100, 100));
}

TEST_CASE("--shard: I/N counted from 1") {
  auto s = core::parse_shard("2/4");
  CHECK(s.index == 2);
  CHECK(s.count == 4);
  CHECK(s.text() == "2/4");
  auto parse = [](std::string_view t) { return core::parse_shard(t); };
  CHECK(error_of(parse, "0/4").find("JOB_COMPLETION_INDEX") != std::string::npos);
  CHECK(error_of(parse, "5/4").find("does not exist") != std::string::npos);
  CHECK(error_of(parse, "2").find("expected I/N") != std::string::npos);
  CHECK(error_of(parse, "a/b").find("expected I/N") != std::string::npos);
  CHECK(error_of(parse, "1/0").find("expected I/N") != std::string::npos);
}

TEST_CASE("--shard: every key in exactly one shard, spread evenly, the same on every machine") {
  std::map<unsigned, int> sizes;
  for (int i = 0; i < 4000; ++i) {
    std::string key = "key-" + std::to_string(i);
    int holders = 0;
    for (unsigned shard = 1; shard <= 4; ++shard) {
      holders += core::Shard{shard, 4}.holds(key) ? 1 : 0;
    }
    CHECK(holders == 1);
    ++sizes[core::shard_of(key, 4)];
  }
  for (auto [shard, size] : sizes) {
    CHECK(size > 850); // 1000 expected
    CHECK(size < 1150);
  }
  // A fixed value: SHA-256, not std::hash, so another build or machine agrees.
  CHECK(core::shard_of("9b7e2f0a6f8b3c1d9e0f1a2b3c4d5e6f-1", 1000) ==
        core::shard_of("9b7e2f0a6f8b3c1d9e0f1a2b3c4d5e6f-1", 1000));
  CHECK(core::shard_of("abc", 1) == 1);
  CHECK(core::shard_of("abc", 7) == 3);
}

TEST_CASE("--rate: N/s or N/m") {
  CHECK(core::parse_rate("10/s").per_second == doctest::Approx(10));
  CHECK(core::parse_rate("30/m").per_second == doctest::Approx(0.5));
  CHECK(core::parse_rate("0.5/s").per_second == doctest::Approx(0.5));
  auto parse = [](std::string_view t) { return core::parse_rate(t); };
  CHECK(error_of(parse, "10").find("did you mean 10/s?") != std::string::npos);
  CHECK(error_of(parse, "10/h").find("expected N/s or N/m") != std::string::npos);
  CHECK(error_of(parse, "0/s").find("expected N/s or N/m") != std::string::npos);
  CHECK(error_of(parse, "-1/s").find("expected N/s or N/m") != std::string::npos);
  CHECK(error_of(parse, "5000000/s").find("at most") != std::string::npos);
}

TEST_CASE("RateLimiter: evenly spaced, never two at once, no burst after a pause") {
  core::RateLimiter limiter(10);
  auto t0 = core::RateLimiter::Clock::time_point{} + 1h;
  CHECK(limiter.reserve(t0) == t0);
  CHECK(limiter.reserve(t0) == t0 + 100ms);
  CHECK(limiter.reserve(t0) == t0 + 200ms);
  // Long after: at once, then spaced again (one token, not a burst of the ones missed).
  auto later = t0 + 10s;
  CHECK(limiter.reserve(later) == later);
  CHECK(limiter.reserve(later) == later + 100ms);
}

TEST_CASE("--joblog: a header once, tab-separated, no empty field, one line per entry") {
  CHECK(core::joblog_header() ==
        "Seq\tSource\tTaskId\tStatus\tSubmitted\tStarted\tEnded\tSeconds\tError\n");
  core::JoblogEntry e;
  e.seq = 3;
  e.source = "in.txt:3";
  e.task_id = "t-1";
  e.status = "failed";
  e.submitted = "2026-12-05T10:00:00.000Z";
  e.ended = "2026-12-05T10:00:01.500Z";
  e.seconds = 1.5;
  e.error = "element\tnot found\nstack trace line";
  CHECK(core::joblog_line(e) == "3\tin.txt:3\tt-1\tfailed\t2026-12-05T10:00:00.000Z\t-\t"
                                "2026-12-05T10:00:01.500Z\t1.500\telement not found\n");
  core::JoblogEntry never;
  never.seq = 4;
  never.source = "in.txt:4";
  never.status = "skipped";
  never.ended = "2026-12-05T10:00:02.000Z";
  CHECK(core::joblog_line(never) ==
        "4\tin.txt:4\t-\tskipped\t-\t-\t2026-12-05T10:00:02.000Z\t-\t-\n");
}

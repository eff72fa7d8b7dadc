#include <doctest/doctest.h>

#include "emulator/request_model.h"
#include "emulator/work_queue.h"

TEST_SUITE_BEGIN("emulator_queue");

using emulator::TaskOutcome;
using emulator::WorkQueue;
using Ids = std::vector<std::string>;
using namespace std::chrono_literals;

TEST_CASE("unlimited capacity and distinct keys: every task starts at once") {
  WorkQueue q(0);
  CHECK(q.enqueue("a", "", std::nullopt) == Ids{"a"});
  CHECK(q.enqueue("b", "k1", std::nullopt) == Ids{"b"});
  CHECK(q.enqueue("c", "k2", std::nullopt) == Ids{"c"});
  CHECK(q.running() == 3);
}

TEST_CASE("capacity: extra tasks wait, in submit order") {
  WorkQueue q(2);
  CHECK(q.enqueue("a", "", std::nullopt) == Ids{"a"});
  CHECK(q.enqueue("b", "", std::nullopt) == Ids{"b"});
  CHECK(q.enqueue("c", "", std::nullopt).empty());
  CHECK(q.enqueue("d", "", std::nullopt).empty());
  CHECK(q.waiting() == 2);
  CHECK(q.finish("b") == Ids{"c"});
  CHECK(q.finish("a") == Ids{"d"});
  CHECK(q.finish("zzz").empty()); // unknown: nothing changes
  CHECK(q.finish("c").empty());
  CHECK(q.running() == 1);
}

TEST_CASE("equal unique keys run one after another, others pass them") {
  WorkQueue q(0);
  CHECK(q.enqueue("a1", "alice", std::nullopt) == Ids{"a1"});
  CHECK(q.enqueue("a2", "alice", std::nullopt).empty());
  CHECK(q.enqueue("b1", "bob", std::nullopt) == Ids{"b1"});
  CHECK(q.enqueue("a3", "alice", std::nullopt).empty());
  CHECK(q.finish("a1") == Ids{"a2"});
  CHECK(q.finish("a2") == Ids{"a3"});
}

TEST_CASE("priority orders one login queue: lower first, none last, ties in submit order") {
  WorkQueue q(0);
  CHECK(q.enqueue("run", "k", std::nullopt) == Ids{"run"});
  q.enqueue("none", "k", std::nullopt);
  q.enqueue("p5", "k", 5);
  q.enqueue("p-1", "k", -1);
  q.enqueue("p5b", "k", 5);
  CHECK(q.finish("run") == Ids{"p-1"});
  CHECK(q.finish("p-1") == Ids{"p5"});
  CHECK(q.finish("p5") == Ids{"p5b"});
  CHECK(q.finish("p5b") == Ids{"none"});
}

TEST_CASE("capacity and keys together: a free place goes to the first task whose key is free") {
  WorkQueue q(2);
  q.enqueue("a1", "alice", std::nullopt);
  q.enqueue("a2", "alice", std::nullopt); // waits for a1 (its key)
  q.enqueue("b1", "bob", std::nullopt);   // the second place
  q.enqueue("c1", "carol", std::nullopt); // waits for a place
  CHECK(q.running() == 2);
  CHECK(q.finish("b1") == Ids{"c1"}); // a2's key is still busy
  CHECK(q.finish("a1") == Ids{"a2"});
}

TEST_CASE("unique_key: the values of the unique names, whatever the key order") {
  auto a = core::parse_json(
      R"({"input_parameters":{"x":["1"],"email":["a@x"]},"unique_parameter_names":["email"]})");
  auto b = core::parse_json(
      R"({"input_parameters":{"email":["a@x"],"x":["2"]},"unique_parameter_names":["email"]})");
  auto none = core::parse_json(R"({"input_parameters":{"email":["a@x"]}})");
  CHECK(emulator::unique_key(a) == emulator::unique_key(b));
  CHECK(emulator::unique_key(a) == R"({"email":["a@x"]})");
  CHECK(emulator::unique_key(none).empty());
}

TEST_CASE("attempts: retried until success or the last, with 10 s * 2^n pauses") {
  const auto run = 100ms;
  const auto limit = 60s;
  auto one = emulator::plan_attempts({TaskOutcome::success}, 2, run, limit, 1.0);
  CHECK(one.attempts == 1);
  CHECK(one.result == TaskOutcome::success);
  CHECK(one.duration == 100ms);
  auto all_fail = emulator::plan_attempts(
      {TaskOutcome::failed, TaskOutcome::failed, TaskOutcome::failed}, 2, run, limit, 1.0);
  CHECK(all_fail.attempts == 3);
  CHECK(all_fail.result == TaskOutcome::failed);
  CHECK(all_fail.duration == 300ms + 10s + 20s);
  auto killed_then_ok =
      emulator::plan_attempts({TaskOutcome::killed, TaskOutcome::success}, 1, run, limit, 0.01);
  CHECK(killed_then_ok.attempts == 2);
  CHECK(killed_then_ok.result == TaskOutcome::success);
  CHECK(killed_then_ok.duration == 60s + 100ms + 100ms); // the pause scaled to 100 ms
  auto no_retries =
      emulator::plan_attempts({TaskOutcome::killed, TaskOutcome::success}, 0, run, limit, 1.0);
  CHECK(no_retries.attempts == 1);
  CHECK(no_retries.result == TaskOutcome::killed);
}

TEST_CASE("the request model: one kind per secure parameter, digits only for TOTP secrets") {
  auto problems = [](const char* secure) {
    return emulator::secure_parameter_problems(
        core::parse_json(std::string(R"({"secure_parameters":)") + secure + "}"));
  };
  CHECK(problems(R"({"pw":[{"onepassword":{"vault_name":"v","item_name":"i","field_name":"f"}}]})")
            .empty());
  CHECK(
      problems(R"({"otp":[{"totp":{"totp_secret":"S","digits":6},"onepassword":null}]})").empty());
  CHECK(problems(R"({"otp":[{"onepassword":{"vault_name":"v","item_name":"i","field_name":"f",
                   "type":"totp_secret","digits":6}}]})")
            .empty());
  auto two = problems(R"({"pw":[{"onepassword":{"vault_name":"v"},"totp":{"totp_secret":"S"}}]})");
  REQUIRE(two.size() == 1);
  CHECK(two[0]["loc"] == core::Json::array({"body", "secure_parameters", "pw", 0}));
  CHECK(two[0]["msg"] ==
        "Value error, exactly one of onepassword, amazon_secrets_manager or totp must be set");
  CHECK(problems(R"({"pw":[{}]})").size() == 1);
  auto digits = problems(R"({"k":[{"amazon_secrets_manager":{"secret_name":"s","region_name":"r",
                           "digits":6}}]})");
  REQUIRE(digits.size() == 1);
  CHECK(digits[0]["msg"] == "Value error, digits is allowed only when type is totp_secret");
  CHECK(problems(R"({"k":[{"onepassword":{"type":"totp_secret"}}]})").size() == 1);
}

TEST_SUITE_END();

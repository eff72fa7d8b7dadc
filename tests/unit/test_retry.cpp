#include "core/retry.h"

#include <doctest/doctest.h>

TEST_SUITE_BEGIN("retry");

using core::AttemptOutcome;
using std::chrono::milliseconds;

namespace {
AttemptOutcome answered(int status) {
  AttemptOutcome o;
  o.status = status;
  return o;
}
AttemptOutcome of_kind(AttemptOutcome::Kind kind) {
  AttemptOutcome o;
  o.kind = kind;
  return o;
}
} // namespace

TEST_CASE("retry::decide_retry retries only where no task can exist") {
  std::mt19937_64 rng(1);
  core::RetryPolicy policy;
  CHECK(core::decide_retry(of_kind(AttemptOutcome::Kind::not_sent), 0, policy, rng).retry);
  CHECK(core::decide_retry(answered(429), 0, policy, rng).retry);
  CHECK(core::decide_retry(answered(503), 0, policy, rng).retry);
  for (int status : {400, 401, 403, 404, 409, 422, 500, 502, 504}) {
    CAPTURE(status);
    CHECK_FALSE(core::decide_retry(answered(status), 0, policy, rng).retry);
  }
  CHECK_FALSE(core::decide_retry(of_kind(AttemptOutcome::Kind::unknown), 0, policy, rng).retry);
}

TEST_CASE("retry::decide_retry stops after the retries") {
  std::mt19937_64 rng(1);
  core::RetryPolicy policy;
  policy.retries = 2;
  CHECK(core::decide_retry(answered(503), 1, policy, rng).retry);
  CHECK_FALSE(core::decide_retry(answered(503), 2, policy, rng).retry);
  policy.retries = 0;
  CHECK_FALSE(core::decide_retry(answered(503), 0, policy, rng).retry);
}

TEST_CASE("retry::decide_retry backs off exponentially with jitter, capped") {
  std::mt19937_64 rng(7);
  core::RetryPolicy policy;
  policy.retries = 30;
  for (int i = 0; i < 100; ++i) {
    auto first = core::decide_retry(answered(503), 0, policy, rng).delay;
    CHECK(first >= milliseconds(250));
    CHECK(first <= milliseconds(500));
    auto third = core::decide_retry(answered(503), 2, policy, rng).delay;
    CHECK(third >= milliseconds(1000));
    CHECK(third <= milliseconds(2000));
    auto late = core::decide_retry(answered(503), 25, policy, rng).delay;
    CHECK(late <= milliseconds(30000));
  }
}

TEST_CASE("retry::decide_retry honours Retry-After, within the cap") {
  std::mt19937_64 rng(1);
  core::RetryPolicy policy;
  auto o = answered(429);
  o.retry_after = milliseconds(7000);
  CHECK(core::decide_retry(o, 0, policy, rng).delay == milliseconds(7000));
  o.retry_after = milliseconds(3600 * 1000);
  CHECK(core::decide_retry(o, 0, policy, rng).delay == milliseconds(30000));
}

TEST_CASE("retry::parse_retry_after") {
  CHECK(core::parse_retry_after("3") == milliseconds(3000));
  CHECK(core::parse_retry_after(" 0 ") == milliseconds(0));
  CHECK_FALSE(core::parse_retry_after("soon"));
  CHECK_FALSE(core::parse_retry_after("-1"));
  CHECK_FALSE(core::parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"));
  CHECK_FALSE(core::parse_retry_after(""));
}

TEST_CASE("retry::is_run_refusal") {
  CHECK(core::is_run_refusal(401));
  CHECK(core::is_run_refusal(403));
  CHECK(core::is_run_refusal(404));
  CHECK_FALSE(core::is_run_refusal(422));
  CHECK_FALSE(core::is_run_refusal(500));
  // FastAPI's answer to a request without its x-api-key header refuses the run too.
  CHECK(core::is_run_refusal(
      422,
      R"({"detail":[{"type":"missing","loc":["header","x-api-key"],"msg":"Field required","input":null}]})"));
  CHECK(core::is_run_refusal(422, R"({"detail":[{"loc":["header","X-API-Key"]}]})"));
  CHECK(core::is_run_refusal(401, ""));
  // A 422 about the body is the input's problem.
  CHECK_FALSE(core::is_run_refusal(
      422, R"({"detail":[{"type":"value_error","loc":["body"],"msg":"Value error, x-api-key"}]})"));
  CHECK_FALSE(core::is_run_refusal(422, R"({"detail":"x-api-key"})"));
  CHECK_FALSE(core::is_run_refusal(422, "not json"));
}

TEST_CASE("retry::is_key_refusal") {
  CHECK(core::is_key_refusal(401, ""));
  CHECK(core::is_key_refusal(403, R"({"detail":"Invalid or missing API key"})"));
  CHECK_FALSE(core::is_key_refusal(404, ""));
  CHECK_FALSE(core::is_key_refusal(500, R"({"detail":[{"loc":["header","x-api-key"]}]})"));
  CHECK(core::is_key_refusal(
      422,
      R"({"detail":[{"type":"missing","loc":["header","x-api-key"],"msg":"Field required","input":null}]})"));
  SUBCASE("any item of the list, any case") {
    CHECK(core::is_key_refusal(
        422,
        R"({"detail":[{"loc":["body","endpoint_name"],"msg":"x"},{"loc":["HEADER","X-API-KEY"]}]})"));
    CHECK(core::is_key_refusal(422, R"({"detail":[{"loc":["header","x_api_key"]}]})"));
  }
  SUBCASE("a 422 about the body, or an odd shape, is not") {
    CHECK_FALSE(core::is_key_refusal(
        422,
        R"({"detail":[{"type":"value_error","loc":["body"],"msg":"unique_parameter_name email not found in input_parameters or secure_parameters"}]})"));
    CHECK_FALSE(core::is_key_refusal(422, R"({"detail":[{"loc":["body","x-api-key-ish"]}]})"));
    CHECK_FALSE(core::is_key_refusal(422, R"({"detail":[{"loc":"x-api-key"}, "x-api-key", 7]})"));
    CHECK_FALSE(core::is_key_refusal(422, R"({"detail":{"loc":["header","x-api-key"]}})"));
    CHECK_FALSE(core::is_key_refusal(422, R"(["x-api-key"])"));
    CHECK_FALSE(core::is_key_refusal(422, ""));
  }
}

TEST_SUITE_END();

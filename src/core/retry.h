#pragma once

#include <chrono>
#include <optional>
#include <random>
#include <string>
#include <string_view>

namespace core {

// How one submit attempt ended, as far as retrying is concerned.
struct AttemptOutcome {
  enum class Kind {
    answered, // an HTTP answer arrived (see `status`)
    not_sent, // the connection failed before the request was sent
    unknown,  // reset, read timeout, write error: the service may have created the task
  };
  Kind kind = Kind::answered;
  int status = 0;                                       // when answered
  std::optional<std::chrono::milliseconds> retry_after; // a parsed Retry-After header
};

struct RetryPolicy {
  int retries = 3; // extra attempts
  std::chrono::milliseconds base{500};
  std::chrono::milliseconds cap{30000};
};

// What to do after an attempt: retry after `delay`, or stop.
struct RetryDecision {
  bool retry = false;
  std::chrono::milliseconds delay{0};
};

// Retries only where the service cannot have created the task: a connection that failed before
// the request was sent, and 429/503 (turned away before anything was created). `attempt` counts
// from 0. The delay is exponential backoff with full jitter, at least the service's Retry-After.
RetryDecision decide_retry(const AttemptOutcome& outcome,
                           int attempt,
                           const RetryPolicy& policy,
                           std::mt19937_64& rng);

// Parses a Retry-After header given in seconds (HTTP dates are not used by APIs like this one).
std::optional<std::chrono::milliseconds> parse_retry_after(const std::string& value);

// True for answers that mean the whole run is refused: a bad key (401, 403), an unknown
// endpoint (404).
bool is_run_refusal(int status);
// True for an answer about the API key: 401, 403, or FastAPI's 422 whose `detail` lists an item
// with "x-api-key" in its `loc` (case-insensitive; the service's answer to a request without
// the header: {"detail":[{"type":"missing","loc":["header","x-api-key"],...}]}). A 422 about
// anything else (the body) is not.
bool is_key_refusal(int status, std::string_view body);
// is_run_refusal for a whole answer: a key refusal or 404.
bool is_run_refusal(int status, std::string_view body);

} // namespace core

#include "core/retry.h"

#include "core/json.h"
#include "core/text.h"

#include <algorithm>
#include <charconv>

namespace core {

RetryDecision decide_retry(const AttemptOutcome& outcome,
                           int attempt,
                           const RetryPolicy& policy,
                           std::mt19937_64& rng) {
  bool safe = outcome.kind == AttemptOutcome::Kind::not_sent ||
              (outcome.kind == AttemptOutcome::Kind::answered &&
               (outcome.status == 429 || outcome.status == 503));
  if (!safe || attempt >= policy.retries) {
    return {};
  }
  // Exponential backoff from `base`, capped; full jitter spreads many clients apart.
  auto ceiling = policy.base.count() << std::min(attempt, 20);
  ceiling = std::min<long long>(ceiling, policy.cap.count());
  std::uniform_int_distribution<long long> dist(ceiling / 2, std::max<long long>(ceiling, 1));
  std::chrono::milliseconds delay{dist(rng)};
  if (outcome.retry_after) {
    delay = std::max(delay, std::min(*outcome.retry_after, policy.cap));
  }
  return {true, delay};
}

std::optional<std::chrono::milliseconds> parse_retry_after(const std::string& value) {
  size_t b = value.find_first_not_of(" \t");
  size_t e = value.find_last_not_of(" \t");
  if (b == std::string::npos) {
    return std::nullopt;
  }
  long long seconds = 0;
  const char* first = value.data() + b;
  const char* last = value.data() + e + 1;
  auto [ptr, ec] = std::from_chars(first, last, seconds);
  if (ec != std::errc() || ptr != last || seconds < 0) {
    return std::nullopt;
  }
  seconds = std::min<long long>(seconds, 24 * 3600);
  return std::chrono::milliseconds(seconds * 1000);
}

bool is_run_refusal(int status) {
  return status == 401 || status == 403 || status == 404;
}

bool is_run_refusal(int status, std::string_view body) {
  return status == 404 || is_key_refusal(status, body);
}

bool is_key_refusal(int status, std::string_view body) {
  if (status == 401 || status == 403) {
    return true;
  }
  if (status != 422) {
    return false;
  }
  Json answer = parse_json(body);
  if (!answer.is_object()) {
    return false;
  }
  auto detail = answer.find("detail");
  if (detail == answer.end() || !detail->is_array()) {
    return false;
  }
  for (const Json& item : *detail) {
    auto loc = item.is_object() ? item.find("loc") : item.end();
    if (!item.is_object() || loc == item.end() || !loc->is_array()) {
      continue;
    }
    for (const Json& part : *loc) {
      // FastAPI names the header by its alias; a model may name it by the Python name.
      if (part.is_string() && (lower(part.get<std::string>()) == "x-api-key" ||
                               lower(part.get<std::string>()) == "x_api_key")) {
        return true;
      }
    }
  }
  return false;
}

} // namespace core

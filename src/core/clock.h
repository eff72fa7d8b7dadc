#pragma once

#include <chrono>
#include <stop_token>
#include <string>

namespace core {

// Sleeps for `duration` unless `stop` is requested first. Returns true when it slept the whole
// time, false when it was stopped.
bool sleep_for(std::chrono::milliseconds duration, std::stop_token stop);

// The current UTC time as ISO 8601: "2026-11-29T01:02:03Z", or with milliseconds
// "2026-11-29T01:02:03.456Z".
std::string utc_now_iso(bool milliseconds = false);

// `when` as ISO 8601 UTC, likewise.
std::string utc_iso(std::chrono::system_clock::time_point when, bool milliseconds = true);

} // namespace core

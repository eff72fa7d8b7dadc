#include "core/clock.h"

#include <fmt/format.h>

#include <condition_variable>
#include <ctime>
#include <mutex>

namespace core {

bool sleep_for(std::chrono::milliseconds duration, std::stop_token stop) {
  // A condition variable nobody notifies: only the stop token can end the wait early.
  std::mutex m;
  std::condition_variable_any cv;
  std::unique_lock lock(m);
  cv.wait_for(lock, stop, duration, [] { return false; });
  return !stop.stop_requested();
}

std::string utc_now_iso(bool milliseconds) {
  return utc_iso(std::chrono::system_clock::now(), milliseconds);
}

std::string utc_iso(std::chrono::system_clock::time_point now, bool milliseconds) {
  auto secs = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  if (!milliseconds) {
    return fmt::format("{}Z", buf);
  }
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  return fmt::format("{}.{:03}Z", buf, ms);
}

} // namespace core

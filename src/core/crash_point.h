#pragma once

// Named crash points: where a test needs the process to die (or get a signal) at an exact
// moment, instead of racing a kill against a file it polls.
//
//   core::crash_point("after_submit");   // one line at the place that names the moment
//
// Compiled in only with OPTEXITY_TEST_HOOKS (CMake option OPTEXITY_TEST_HOOKS, on in builds that
// build the tests, off in scripts/package's Release build); otherwise the call is an empty inline
// function and disappears. In a test build, the environment arms at most one point:
//
//   OPTEXITY_CRASH_AT=NAME            SIGKILL at the first time the program passes NAME
//   OPTEXITY_CRASH_AT=NAME:N          ... at the Nth time (counted over all threads)
//   OPTEXITY_CRASH_AT=NAME:N:SIGNAL   send SIGNAL (KILL, INT or TERM) to the whole process at the
//                                     Nth time, and go on (the signal handling takes over). INT
//                                     and TERM are handled before the point returns (through
//                                     the handler set_signal_handler registered), so what comes
//                                     after the point sees the signal, as if it came just then
//
// Unset, the point costs one relaxed atomic load. The points, in the order a submit passes them
// (tests/integration/test_crash_matrix.sh kills a run at each):
//   before_send    the engine: nothing of this submit journaled or sent yet
//   after_attempt  the attempt (intent) journaled, the request not sent
//   after_send     the client: the service has the request and answered; the answer unread
//   after_answer   the engine: the task id read, not yet journaled
//   after_submit   the submit (task id) journaled, before waiting for the callback
//   after_result   the final result journaled, its line not yet printed

#include <string_view>

#ifdef OPTEXITY_TEST_HOOKS

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <string>
#include <unistd.h>

namespace core {

namespace crash_point_detail {

struct Armed {
  std::string name;
  long hit = 1;
  int signo = SIGKILL;
  std::atomic<long> hits{0};
};

inline Armed* armed() {
  static Armed* const point = []() -> Armed* {
    const char* spec = std::getenv("OPTEXITY_CRASH_AT");
    if (!spec || !*spec) {
      return nullptr;
    }
    auto* a = new Armed; // lives as long as the process
    std::string s = spec;
    auto colon = s.find(':');
    a->name = s.substr(0, colon);
    if (colon != std::string::npos) {
      std::string rest = s.substr(colon + 1);
      auto second = rest.find(':');
      a->hit = std::max(1L, std::atol(rest.substr(0, second).c_str()));
      if (second != std::string::npos) {
        std::string sig = rest.substr(second + 1);
        a->signo = sig == "INT" ? SIGINT : sig == "TERM" ? SIGTERM : SIGKILL;
      }
    }
    return a;
  }();
  return point;
}

} // namespace crash_point_detail

// The process's handling of SIGINT/SIGTERM (runner::SignalWatcher registers it): a crash point
// calls it on its own thread, synchronously, so the moment of the signal is exact.
inline std::atomic<void (*)(int)>& signal_handler_slot() {
  static std::atomic<void (*)(int)> slot{nullptr};
  return slot;
}

inline void set_signal_handler(void (*handler)(int)) {
  signal_handler_slot().store(handler);
}

inline void crash_point(std::string_view name) {
  crash_point_detail::Armed* a = crash_point_detail::armed();
  if (!a || name != a->name) {
    return;
  }
  if (a->hits.fetch_add(1) + 1 != a->hit) {
    return;
  }
  // Says in the test's stderr file why the process ended.
  std::string line = "optexity-chain: test hook: crash point " + a->name + " (hit " +
                     std::to_string(a->hit) + "): signal " + std::to_string(a->signo) + "\n";
  [[maybe_unused]] auto n = ::write(2, line.data(), line.size());
  if (a->signo != SIGKILL) {
    if (auto* handler = signal_handler_slot().load()) {
      handler(a->signo);
      return;
    }
  }
  ::kill(::getpid(), a->signo); // the process, not this thread: a signal-watching thread gets it
}

} // namespace core

#else

namespace core {

constexpr void crash_point(std::string_view) noexcept {}
constexpr void set_signal_handler(void (*)(int)) noexcept {}

} // namespace core

#endif

#pragma once

#include <cstdio>
#include <cstdlib>

// An invariant of the code under test: when it fails the harness aborts, which libFuzzer reports
// as a crash with the input that caused it (a plain assert would vanish under NDEBUG).
#define FUZZ_CHECK(cond, what)                                                                     \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      std::fprintf(                                                                                \
          stderr, "FUZZ_CHECK failed at %s:%d: %s (%s)\n", __FILE__, __LINE__, what, #cond);       \
      std::abort();                                                                                \
    }                                                                                              \
  } while (0)

// Checks of presentation rather than safety (messages and log lines stay on one line, whatever
// the data holds): on only in a strict run, FUZZ_STRICT=1.
inline bool fuzz_strict() {
  static const bool strict = [] {
    const char* value = std::getenv("FUZZ_STRICT");
    return value != nullptr && value[0] == '1';
  }();
  return strict;
}

#define FUZZ_CHECK_STRICT(cond, what)                                                              \
  do {                                                                                             \
    if (fuzz_strict()) {                                                                           \
      FUZZ_CHECK(cond, what);                                                                      \
    }                                                                                              \
  } while (0)

#include "core/log.h"

#include <atomic>
#include <cstdio>
#include <mutex>

namespace core {

namespace {

std::atomic<Verbosity> g_verbosity{Verbosity::normal};
std::mutex g_mutex;

void emit(const char* prefix, const std::string& message) {
  std::lock_guard lock(g_mutex);
  std::fprintf(stderr, "optexity-chain: %s%s\n", prefix, message.c_str());
  std::fflush(stderr);
}

} // namespace

void set_verbosity(Verbosity v) {
  g_verbosity.store(v);
}
Verbosity verbosity() {
  return g_verbosity.load();
}

void log_error(const std::string& message) {
  emit("error: ", message);
}

void log_warning(const std::string& message) {
  if (verbosity() != Verbosity::quiet) {
    emit("warning: ", message);
  }
}

void log_info(const std::string& message) {
  if (verbosity() != Verbosity::quiet) {
    emit("", message);
  }
}

void log_always(const std::string& message) {
  emit("", message);
}

void log_debug(const std::string& message) {
  if (verbosity() == Verbosity::verbose) {
    emit("debug: ", message);
  }
}

} // namespace core

#include "core/log.h"

#include "core/redact.h"
#include "core/status.h"

#include <fmt/format.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <unistd.h>

namespace core {

namespace {

std::atomic<Verbosity> g_verbosity{Verbosity::normal};
std::atomic<ColorMode> g_color{ColorMode::automatic};
std::mutex g_mutex;
std::string g_live; // the live status line, guarded by g_mutex

void emit(const char* prefix, const std::string& message) {
  // Every stderr line passes the one redaction: a secret echoed by a service or a parser never
  // reaches a terminal or a CI log.
  const std::string text = redact(message);
  std::lock_guard lock(g_mutex);
  // Erase the live line, print the message above where it was, then draw it again.
  std::fprintf(stderr,
               "%soptexity-chain: %s%s\n%s",
               g_live.empty() ? "" : "\r\x1b[K",
               prefix,
               text.c_str(),
               g_live.c_str());
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

void set_live_status(const std::string& line) {
  std::lock_guard lock(g_mutex);
  if (line.empty() && g_live.empty()) {
    return;
  }
  g_live = line;
  std::fprintf(stderr, "\r\x1b[K%s", g_live.c_str());
  std::fflush(stderr);
}

bool stderr_is_tty() {
  static const bool tty = ::isatty(2) == 1;
  return tty;
}

void set_color_mode(ColorMode mode) {
  g_color.store(mode);
}

bool use_color() {
  switch (g_color.load()) {
  case ColorMode::always:
    return true;
  case ColorMode::never:
    return false;
  case ColorMode::automatic:
    break;
  }
  const char* no_color = std::getenv("NO_COLOR");
  return stderr_is_tty() && !(no_color && *no_color);
}

std::string colored_status(const std::string& status) {
  if (!use_color()) {
    return status;
  }
  const char* code = status == status::success                                    ? "32"
                     : status == status::timeout || status == status::interrupted ? "33"
                                                                                  : "31";
  return fmt::format("\x1b[{}m{}\x1b[0m", code, status);
}

} // namespace core

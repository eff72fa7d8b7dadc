#include "core/log.h"

#include "core/progress.h"
#include "core/redact.h"
#include "core/status.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <sys/ioctl.h>
#include <unistd.h>

namespace core {

namespace {

std::atomic<Verbosity> g_verbosity{Verbosity::normal};
std::atomic<ColorMode> g_color{ColorMode::automatic};
std::mutex g_mutex;
std::string g_live; // the live status line, guarded by g_mutex

std::atomic<bool> g_json{false};

// One write(2) for the whole text: two processes sharing a terminal (the stages of a pipeline)
// interleave whole redraws, never pieces of them.
void write_all(const std::string& text) {
  size_t at = 0;
  while (at < text.size()) {
    ssize_t n = ::write(2, text.data() + at, text.size() - at);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return; // stderr gone: nothing left to tell
    }
    at += static_cast<size_t>(n);
  }
}

// The live line as drawn: cut to the terminal's width, read at each draw (a resize takes
// effect at the next redraw).
std::string drawn(const std::string& live) {
  return "\r\x1b[K" + cut_to_width(live, terminal_columns() - 1);
}

void emit(const char* level, const char* prefix, const std::string& message) {
  // Every stderr line passes the one redaction: a secret echoed by a service or a parser never
  // reaches a terminal or a CI log.
  const std::string text = redact(message);
  std::lock_guard lock(g_mutex);
  if (g_json.load()) {
    nlohmann::json j = {{"event", "log"}, {"level", level}, {"message", text}};
    write_all(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
    return;
  }
  // Erase the live line, print the message above where it was, then draw it again.
  std::string out = g_live.empty() ? "" : "\r\x1b[K";
  out += fmt::format("optexity-chain: {}{}\n", prefix, text);
  if (!g_live.empty()) {
    out += drawn(g_live);
  }
  write_all(out);
}

} // namespace

void set_verbosity(Verbosity v) {
  g_verbosity.store(v);
}
Verbosity verbosity() {
  return g_verbosity.load();
}

void log_error(const std::string& message) {
  emit("error", "error: ", message);
}

void log_warning(const std::string& message) {
  if (verbosity() != Verbosity::quiet) {
    emit("warning", "warning: ", message);
  }
}

void log_info(const std::string& message) {
  if (verbosity() != Verbosity::quiet) {
    emit("info", "", message);
  }
}

void log_always(const std::string& message) {
  emit("info", "", message);
}

void log_debug(const std::string& message) {
  if (verbosity() == Verbosity::verbose) {
    emit("debug", "debug: ", message);
  }
}

void set_live_status(const std::string& line) {
  std::lock_guard lock(g_mutex);
  if (line.empty() && g_live.empty()) {
    return;
  }
  g_live = line;
  write_all(drawn(g_live));
}

size_t terminal_columns() {
  winsize ws{};
  if (::ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1) {
    return ws.ws_col;
  }
  if (const char* columns = std::getenv("COLUMNS")) {
    char* end = nullptr;
    long n = std::strtol(columns, &end, 10);
    if (end != columns && *end == '\0' && n > 1 && n < 10000) {
      return static_cast<size_t>(n);
    }
  }
  return 80;
}

void set_stderr_json(bool json) {
  g_json.store(json);
}

void log_json_line(const std::string& line) {
  std::lock_guard lock(g_mutex);
  write_all(line + "\n");
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

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

size_t g_drawn_width = 0; // of the live line on the screen, guarded by g_mutex

// Erases the live line on the screen. A terminal made narrower since it was drawn may have
// reflowed it onto several rows (tmux, VTE, iTerm2, kitty do): those rows go too.
std::string erased(size_t columns) {
  std::string out = "\r\x1b[K";
  for (size_t rows = g_drawn_width > 0 ? (g_drawn_width - 1) / columns : 0; rows > 0; --rows) {
    out += "\x1b[1A\x1b[K";
  }
  g_drawn_width = 0;
  return out;
}

// The live line, cut to the terminal's width, read at each draw (a resize takes effect at the
// next redraw). Drawn with autowrap off (DECAWM), then on again: a terminal may reflow to its new
// width before telling the process (tmux defers the pty's resize), and a line drawn for the old
// width is then cut at the margin rather than wrapped onto a row the next erase would not reach.
std::string drawn(const std::string& live, size_t columns) {
  std::string line = cut_to_width(live, columns - 1);
  g_drawn_width = display_width(line);
  return "\x1b[?7l" + line + "\x1b[?7h";
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
  const size_t columns = g_live.empty() ? 0 : terminal_columns();
  std::string out = g_live.empty() ? "" : erased(columns);
  out += fmt::format("optexity-chain: {}{}\n", prefix, text);
  if (!g_live.empty()) {
    out += drawn(g_live, columns);
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
  const size_t columns = terminal_columns();
  std::string out = erased(columns); // first: it reads the width of what is on the screen
  out += drawn(g_live, columns);
  write_all(out);
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

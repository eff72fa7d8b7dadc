#pragma once

#include <cstddef>
#include <string>

namespace core {

// stderr chatter: `optexity-chain: ...` lines, thread-safe, filtered by verbosity.
// quiet: errors only; normal: + warnings and per-task lines; verbose: + debug lines.
enum class Verbosity { quiet, normal, verbose };

void set_verbosity(Verbosity v);
Verbosity verbosity();

void log_error(const std::string& message);   // "optexity-chain: error: ..."
void log_warning(const std::string& message); // "optexity-chain: warning: ..."
void log_info(const std::string& message);    // "optexity-chain: ..."
void log_debug(const std::string& message);   // "optexity-chain: debug: ...", with -v only
void log_always(const std::string& message);  // "optexity-chain: ...", even with -q (asked for)

// A live status line at the bottom of a terminal: log lines scroll above it and it is redrawn
// under them, each draw one write(2) and cut to the terminal's width (never wraps). Empty clears
// it. Only used when stderr is a terminal.
void set_live_status(const std::string& line);

// The width of the terminal on stderr, read now (so a resize counts at the next draw); else
// $COLUMNS, else 80.
size_t terminal_columns();

// `--progress json`: every stderr line is a JSON object, so `jq` reads stderr directly. Log
// lines become {"event":"log","level":"error|warning|info|debug","message":...}.
void set_stderr_json(bool json);
// One JSON object, written as one line on stderr (whatever the verbosity: it was asked for).
void log_json_line(const std::string& line);

// Whether stderr lines may carry colour: --color always|never|auto (auto: stderr is a terminal
// and NO_COLOR is unset).
enum class ColorMode { automatic, always, never };
void set_color_mode(ColorMode mode);
bool use_color();
// `text` wrapped in the colour of a status word (green success, red failures, yellow timeouts
// and interruptions) when colour is on.
std::string colored_status(const std::string& status);

// True when stderr is a terminal.
bool stderr_is_tty();

} // namespace core

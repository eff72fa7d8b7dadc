#pragma once

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

} // namespace core

#pragma once

#include <csignal>

namespace core {

// The process exit codes: the one place they are defined (documented in --help and the man page).
enum class ExitCode : int {
  ok = 0,            // every task succeeded
  task_failed = 1,   // at least one input did not end in `success`
  usage = 2,         // usage, configuration, input file or listen address error
  refused = 3,       // the service refused the run (bad key, unknown endpoint) or is unreachable
  write_failed = 74, // a write failed (journal or stdout: disk full, I/O error); the run stopped
  hangup = 129,      // SIGHUP
  interrupted = 130, // SIGINT
  stdout_closed = 141,
  terminated = 143, // SIGTERM
};

inline int to_int(ExitCode code) {
  return static_cast<int>(code);
}

// The exit code after a signal stopped the run: 143 for SIGTERM, 129 for SIGHUP, 130 for SIGINT.
inline ExitCode signal_exit_code(int signo) {
  return signo == SIGTERM  ? ExitCode::terminated
         : signo == SIGHUP ? ExitCode::hangup
                           : ExitCode::interrupted;
}

// How a line names the signal that stopped the run.
inline const char* signal_description(int signo) {
  return signo == SIGTERM  ? "terminated (SIGTERM)"
         : signo == SIGHUP ? "hung up (SIGHUP)"
                           : "interrupted (SIGINT)";
}

// One line per exit code, for --help.
inline constexpr const char* k_exit_code_help =
    "Exit codes:\n"
    "  0    every task succeeded\n"
    "  1    at least one input did not succeed (failed, killed, timeout, submit_failed, ...)\n"
    "  2    usage, configuration, input file or listen address error\n"
    "  3    the service refused the run (bad API key, unknown endpoint) or cannot be reached\n"
    "  74   a write failed (the journal or stdout: disk full, I/O error); the run stopped\n"
    "  129  hung up (SIGHUP)   130  interrupted by SIGINT   143  terminated by SIGTERM\n"
    "  141  stdout was closed (e.g. | head -1)\n";

// The emulator's exit codes, for `emulator --help`: it serves until a signal stops it (after a
// clean shutdown), so it never exits 0 on its own.
inline constexpr const char* k_emulator_exit_code_help =
    "Exit codes (the emulator serves until stopped):\n"
    "  2    usage or script error, or the address cannot be listened on (port in use)\n"
    "  129  hung up (SIGHUP)   130  interrupted by SIGINT   143  terminated by SIGTERM\n"
    "  141  stdout was closed before the URL could be printed\n";

// The exit codes of `report`, for its --help.
inline constexpr const char* k_report_exit_code_help =
    "Exit codes:\n"
    "  0    the report was written (lines that are not JSON are left out, with a warning)\n"
    "  2    usage error, or an input or the journal cannot be read\n"
    "  74   the report cannot be written\n";

// The exit codes of `status` and `result`, for their --help.
inline constexpr const char* k_status_exit_code_help =
    "Exit codes:\n"
    "  0    every task's line was printed\n"
    "  1    the service does not know a task, or has no result for it yet (the others printed)\n"
    "  2    usage error\n"
    "  3    the service refused the request (bad API key) or cannot be reached\n";

// The exit codes of `login` and `logout`, for their --help.
inline constexpr const char* k_login_exit_code_help =
    "Exit codes:\n"
    "  0    stored (login) or removed (logout)\n"
    "  1    logout: the profile was not stored\n"
    "  2    usage error, no key given, or a credentials file that cannot be read\n"
    "  3    login: the service says the key is not valid (nothing stored)\n"
    "  74   the credentials file cannot be written\n";

} // namespace core

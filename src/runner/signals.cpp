#include "runner/signals.h"

#include "core/crash_point.h"

#include <atomic>
#include <chrono>
#include <csignal>
#include <ctime>
#include <pthread.h>

namespace runner {

namespace {

// The watcher a crash point's INT/TERM goes to (test builds), synchronously.
std::atomic<std::function<void(int)>*> g_on_signal{nullptr};

void on_crash_point_signal(int signo) {
  if (auto* on_signal = g_on_signal.load()) {
    (*on_signal)(signo);
  }
}

// SIGHUP (the terminal or ssh session closed) ends a run like SIGTERM, unless the process was
// started ignoring it (nohup): then it stays ignored.
bool watch_hangup() {
  static const bool watched = [] {
    struct sigaction old {};
    return sigaction(SIGHUP, nullptr, &old) != 0 || old.sa_handler != SIG_IGN;
  }();
  return watched;
}

sigset_t watched_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  if (watch_hangup()) {
    sigaddset(&set, SIGHUP);
  }
  sigaddset(&set, SIGUSR1); // wakes the watcher when it should stop
  return set;
}

} // namespace

void block_signals() {
  sigset_t set = watched_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

SignalWatcher::SignalWatcher(std::function<void(int)> on_signal)
    : m_on_signal(std::move(on_signal)) {
  g_on_signal.store(&m_on_signal);
  core::set_signal_handler(&on_crash_point_signal);
  m_thread = std::thread([this] {
    sigset_t set = watched_signals();
    // The destructor sends SIGUSR1 to this thread; the timeout only guards against a lost one.
    timespec tick{1, 0};
    int last_sig = 0;
    auto last_at = std::chrono::steady_clock::time_point{};
    while (!m_stop.load()) {
      int sig = sigtimedwait(&set, nullptr, &tick);
      if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
        // One signal delivered twice (timeout(1) signals its child, then its whole process
        // group) is one request, not "the user insists".
        auto now = std::chrono::steady_clock::now();
        if (sig == last_sig && now - last_at < std::chrono::milliseconds(500)) {
          continue;
        }
        last_sig = sig;
        last_at = now;
        m_on_signal(sig);
      }
    }
  });
}

SignalWatcher::~SignalWatcher() {
  std::function<void(int)>* mine = &m_on_signal;
  g_on_signal.compare_exchange_strong(mine, nullptr);
  m_stop.store(true);
  if (m_thread.joinable()) {
    pthread_kill(m_thread.native_handle(), SIGUSR1);
    m_thread.join();
  }
}

} // namespace runner

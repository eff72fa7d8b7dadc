#include "runner/signals.h"

#include <csignal>
#include <ctime>
#include <pthread.h>

namespace runner {

void block_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGUSR1); // wakes the watcher when it should stop
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

SignalWatcher::SignalWatcher(std::function<void(int)> on_signal)
    : m_on_signal(std::move(on_signal)) {
  m_thread = std::thread([this] {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGUSR1);
    // The destructor sends SIGUSR1 to this thread; the timeout only guards against a lost one.
    timespec tick{1, 0};
    while (!m_stop.load()) {
      int sig = sigtimedwait(&set, nullptr, &tick);
      if (sig == SIGINT || sig == SIGTERM) {
        m_on_signal(sig);
      }
    }
  });
}

SignalWatcher::~SignalWatcher() {
  m_stop.store(true);
  if (m_thread.joinable()) {
    pthread_kill(m_thread.native_handle(), SIGUSR1);
    m_thread.join();
  }
}

} // namespace runner

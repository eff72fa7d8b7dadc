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
    // A short timeout lets the destructor stop the thread without sending it a signal.
    timespec tick{0, 100 * 1000 * 1000};
    while (!m_stop.load()) {
      int sig = sigtimedwait(&set, nullptr, &tick);
      if (sig > 0) {
        m_on_signal(sig);
      }
    }
  });
}

SignalWatcher::~SignalWatcher() {
  m_stop.store(true);
  if (m_thread.joinable()) {
    m_thread.join();
  }
}

} // namespace runner

#pragma once

#include <atomic>
#include <functional>
#include <thread>

namespace runner {

// Blocks SIGINT, SIGTERM and SIGHUP (unless started ignoring it, as under nohup) in the calling
// thread and so in every thread it starts later; call it first in main, before any thread exists,
// so only the watcher below ever sees them. Also ignores SIGPIPE: a closed stdout is noticed as
// EPIPE on write.
void block_signals();

// A background thread that waits for SIGINT, SIGTERM and SIGHUP (blocked by block_signals) and
// calls `on_signal(signo)` for each one, on its own thread. The same signal again within half a
// second counts once (timeout(1) delivers it to its child and then to the whole process group).
class SignalWatcher {
public:
  explicit SignalWatcher(std::function<void(int)> on_signal);
  ~SignalWatcher();
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

private:
  std::atomic<bool> m_stop{false};
  std::function<void(int)> m_on_signal;
  std::thread m_thread;
};

} // namespace runner

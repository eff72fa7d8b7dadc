#pragma once

// The emulator's callback delivery: a timer heap, a few sender threads with keep-alive
// clients, and redelivery with backoff, as the real control plane retries failed callbacks.

#include "core/url.h"
#include "net/post_clients.h"

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "emulator/emulator_payload.h"

namespace emulator {

// Tells whoever waits on one delivery (a submit whose answer is to be lost) that it ended:
// delivered (a 2xx), given up, or dropped because the sender stopped.
class DeliveryDone {
public:
  void finish(bool delivered);
  // Waits at most `limit`; true when the callback was delivered.
  bool wait(std::chrono::milliseconds limit);

private:
  std::mutex m_mutex;
  std::condition_variable m_cv;
  bool m_finished = false;
  bool m_delivered = false;
};

// One POST of one callback body to one URL; duplicates share the body.
struct CallbackDelivery {
  std::string task_id;
  std::string status; // for the log line
  core::Url url;
  std::string api_key; // sent as x-api-key when not empty
  std::shared_ptr<const CallbackBody> body;
  int attempt = 1;                               // the attempt this delivery will make
  std::chrono::steady_clock::time_point first{}; // when its first attempt was made
  int copy = 0;                                  // 0 for the original, 1.. for injected duplicates
  std::shared_ptr<DeliveryDone> done;            // when set, told how this delivery ended
};

// Sends callbacks when they fall due. start() once, then schedule() from any thread;
// close() drops all pending work and refuses more, join() waits for the threads.
class CallbackSender {
public:
  using Clock = std::chrono::steady_clock;
  using Log = std::function<void(const std::string&)>;

  // `log` receives one line per attempt (none when empty); it must be thread-safe.
  CallbackSender(int threads, Log log);
  ~CallbackSender(); // closes and joins
  CallbackSender(const CallbackSender&) = delete;
  CallbackSender& operator=(const CallbackSender&) = delete;

  // How long a failing callback is retried (from its first attempt), and the longest pause
  // between attempts (they start at 50 ms and double). Before start(); default 5 minutes, 2 s.
  void set_retry_window(std::chrono::milliseconds window, std::chrono::milliseconds max_backoff);
  // Starts the scheduler and the sender threads.
  void start();
  // Queues a delivery for `due`; false once closed.
  bool schedule(CallbackDelivery d, Clock::time_point due);
  // Makes the first attempt on the calling thread (early callbacks: before the 202); a failure
  // is retried through the queue like any other.
  void send_now(CallbackDelivery d);
  // Drops pending deliveries and refuses new ones; wakes the threads. Idempotent.
  void close();
  // Aborts POSTs in flight from send_now(), so a handler blocked on a silent receiver returns.
  void abort_callers();
  // After close(): waits for the scheduler and the senders, aborting any POST in flight.
  void join();

private:
  struct Timer {
    Clock::time_point due;
    uint64_t seq; // FIFO among equal due times
    CallbackDelivery delivery;
  };
  static bool later(const Timer& a, const Timer& b);

  void run_scheduler();
  void run_sender(net::PostClients& cache);
  void send(net::PostClients& cache, CallbackDelivery d);
  void abort(std::vector<std::unique_ptr<net::PostClients>>& caches);

  template <typename... Args>
  void log(fmt::format_string<Args...> format, Args&&... args) {
    // Quiet runs pass no log: skip the formatting too, it is per callback.
    if (m_log) {
      m_log(fmt::format(format, std::forward<Args>(args)...));
    }
  }

  int m_threads;
  Log m_log;
  std::chrono::milliseconds m_window{std::chrono::minutes(5)};
  std::chrono::milliseconds m_max_backoff{2000};

  // The scheduler's timer heap and the senders' ready queue, under one mutex.
  std::mutex m_queue_mutex;
  std::condition_variable m_timer_cv; // the scheduler: a new earliest timer, or close
  std::condition_variable m_ready_cv; // the senders: a delivery is due, or close
  std::vector<Timer> m_timers;
  std::deque<CallbackDelivery> m_ready;
  uint64_t m_seq = 0;
  bool m_closed = false;

  std::thread m_scheduler;
  std::vector<std::thread> m_senders;
  std::atomic<int> m_live_senders{0};

  // Client caches, each used by one thread at a time; the mutex lets abort reach them all.
  std::mutex m_clients_mutex;
  std::vector<std::unique_ptr<net::PostClients>> m_sender_clients;
  std::vector<std::unique_ptr<net::PostClients>> m_caller_clients; // lent to send_now() callers
  std::vector<net::PostClients*> m_caller_free;
};

} // namespace emulator

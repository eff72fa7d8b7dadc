#include "emulator/emulator_delivery.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>
#include <vector>

namespace emulator {

namespace {

// Delivery retry policy: Optexity says "exponential backoff"; these numbers keep tests fast.
constexpr auto k_first_backoff = std::chrono::milliseconds(50);

using Attempt = net::PostResult;

Attempt deliver_once(net::PostClients& clients, const CallbackDelivery& d) {
  std::vector<std::pair<std::string, std::string>> headers;
  if (!d.api_key.empty()) {
    headers.emplace_back("x-api-key", d.api_key);
  }
  // Stream the three parts instead of joining them: with --screenshot-bytes a body can be
  // megabytes, and every attempt and duplicate would copy it again.
  const CallbackBody& body = *d.body;
  return clients.post(d.url, headers, {&body.head, body.screenshot.get(), &body.tail});
}

} // namespace

void DeliveryDone::finish(bool delivered) {
  {
    std::lock_guard lock(m_mutex);
    m_finished = true;
    m_delivered = delivered;
  }
  m_cv.notify_all();
}

bool DeliveryDone::wait(std::chrono::milliseconds limit) {
  std::unique_lock lock(m_mutex);
  m_cv.wait_for(lock, limit, [this] { return m_finished; });
  return m_delivered;
}

namespace {

void finish(const CallbackDelivery& d, bool delivered) {
  if (d.done) {
    d.done->finish(delivered);
  }
}

} // namespace

CallbackSender::CallbackSender(int threads, Log log) : m_threads(threads), m_log(std::move(log)) {}

CallbackSender::~CallbackSender() {
  close();
  abort_callers();
  join();
}

bool CallbackSender::later(const Timer& a, const Timer& b) {
  // std::push_heap builds a max-heap, so "greater" puts the earliest due time at the front.
  return a.due != b.due ? a.due > b.due : a.seq > b.seq;
}

void CallbackSender::set_retry_window(std::chrono::milliseconds window,
                                      std::chrono::milliseconds max_backoff) {
  m_window = window;
  m_max_backoff = std::max(k_first_backoff, max_backoff);
}

void CallbackSender::start() {
  m_scheduler = std::thread([this] { run_scheduler(); });
  for (int i = 0; i < m_threads; ++i) {
    net::PostClients* cache = nullptr;
    {
      std::lock_guard lock(m_clients_mutex);
      m_sender_clients.push_back(std::make_unique<net::PostClients>());
      cache = m_sender_clients.back().get();
    }
    ++m_live_senders; // before the thread exists, so join() never sees a false zero
    m_senders.emplace_back([this, cache] {
      run_sender(*cache);
      --m_live_senders;
    });
  }
}

bool CallbackSender::schedule(CallbackDelivery d, Clock::time_point due) {
  std::unique_lock lock(m_queue_mutex);
  if (m_closed) {
    lock.unlock();
    finish(d, false);
    return false;
  }
  // Due work skips the scheduler: with delay 0 the callback leaves one hand-off sooner.
  if (due <= Clock::now()) {
    m_ready.push_back(std::move(d));
    lock.unlock();
    m_ready_cv.notify_one();
    return true;
  }
  m_timers.push_back({due, m_seq++, std::move(d)});
  std::push_heap(m_timers.begin(), m_timers.end(), later);
  bool earliest = m_timers.front().seq == m_seq - 1;
  lock.unlock();
  if (earliest) {
    m_timer_cv.notify_one();
  }
  return true;
}

void CallbackSender::send_now(CallbackDelivery d) {
  {
    std::lock_guard lock(m_queue_mutex);
    if (m_closed) {
      finish(d, false);
      return;
    }
  }
  // Borrow a client cache, so keep-alive works here too and abort_callers() can reach a POST
  // that hangs (a thread_local cache would be out of its reach).
  net::PostClients* cache = nullptr;
  {
    std::lock_guard lock(m_clients_mutex);
    if (m_caller_free.empty()) {
      m_caller_clients.push_back(std::make_unique<net::PostClients>());
      m_caller_free.push_back(m_caller_clients.back().get());
    }
    cache = m_caller_free.back();
    m_caller_free.pop_back();
  }
  send(*cache, std::move(d));
  std::lock_guard lock(m_clients_mutex);
  m_caller_free.push_back(cache);
}

void CallbackSender::close() {
  {
    std::lock_guard lock(m_queue_mutex);
    m_closed = true;
    for (const Timer& t : m_timers) {
      finish(t.delivery, false);
    }
    for (const CallbackDelivery& d : m_ready) {
      finish(d, false);
    }
    m_timers.clear();
    m_ready.clear();
  }
  m_timer_cv.notify_all();
  m_ready_cv.notify_all();
}

void CallbackSender::abort_callers() {
  abort(m_caller_clients);
}

void CallbackSender::join() {
  if (m_scheduler.joinable()) {
    m_scheduler.join();
  }
  // A sender may be blocked in a POST, or just about to start one: keep aborting until all
  // have seen the close.
  while (m_live_senders > 0) {
    abort(m_sender_clients);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (auto& t : m_senders) {
    if (t.joinable()) {
      t.join();
    }
  }
}

void CallbackSender::abort(std::vector<std::unique_ptr<net::PostClients>>& caches) {
  std::lock_guard lock(m_clients_mutex);
  for (auto& cache : caches) {
    cache->abort_all();
  }
}

// One thread sleeps until the earliest due time and moves due work to the ready queue;
// thousands of waiting callbacks cost a heap entry each, not a sleeping thread.
void CallbackSender::run_scheduler() {
  std::unique_lock lock(m_queue_mutex);
  while (!m_closed) {
    if (m_timers.empty()) {
      m_timer_cv.wait(lock);
      continue;
    }
    auto due = m_timers.front().due;
    if (due > Clock::now()) {
      m_timer_cv.wait_until(lock, due);
      continue;
    }
    size_t moved = 0;
    auto now = Clock::now();
    while (!m_timers.empty() && m_timers.front().due <= now) {
      std::pop_heap(m_timers.begin(), m_timers.end(), later);
      m_ready.push_back(std::move(m_timers.back().delivery));
      m_timers.pop_back();
      ++moved;
    }
    if (moved == 1) {
      m_ready_cv.notify_one();
    } else {
      m_ready_cv.notify_all();
    }
  }
}

void CallbackSender::run_sender(net::PostClients& cache) {
  while (true) {
    CallbackDelivery d;
    {
      std::unique_lock lock(m_queue_mutex);
      m_ready_cv.wait(lock, [&] { return m_closed || !m_ready.empty(); });
      if (m_closed) {
        return;
      }
      d = std::move(m_ready.front());
      m_ready.pop_front();
    }
    send(cache, std::move(d));
  }
}

// One attempt; a non-2xx answer or a connection error is redelivered with backoff, as the
// real control plane does, so the client's listener may see the same callback again.
void CallbackSender::send(net::PostClients& cache, CallbackDelivery d) {
  Attempt out = deliver_once(cache, d);
  std::string copy = d.copy == 0 ? "" : fmt::format(" (duplicate {})", d.copy);
  if (out.ok) {
    log("callback {} {}{} -> {}", d.task_id, d.status, copy, out.what);
    finish(d, true);
    return;
  }
  const auto now = Clock::now();
  if (d.first == Clock::time_point{}) {
    d.first = now;
  }
  auto backoff = std::min<std::chrono::milliseconds>(
      m_max_backoff, k_first_backoff * (1LL << std::min(d.attempt - 1, 20)));
  if (now + backoff > d.first + m_window) {
    log("callback {} {}{} -> {}, lost: gave up after {} attempts in {} ms",
        d.task_id,
        d.status,
        copy,
        out.what,
        d.attempt,
        std::chrono::duration_cast<std::chrono::milliseconds>(now - d.first).count());
    finish(d, false);
    return;
  }
  std::string line = fmt::format("callback {} {}{} -> {} (attempt {} in a {} ms window)",
                                 d.task_id,
                                 d.status,
                                 copy,
                                 out.what,
                                 d.attempt,
                                 m_window.count());
  ++d.attempt;
  if (schedule(std::move(d), now + backoff)) {
    log("{}, retry in {} ms", line, backoff.count());
  } else {
    log("{}, not retried: stopping", line);
  }
}

} // namespace emulator

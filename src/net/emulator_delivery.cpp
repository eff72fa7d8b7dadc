#include "net/emulator_delivery.h"

#include <fmt/format.h>
#include <httplib.h>

#include <algorithm>
#include <map>

namespace net {

namespace {

// Delivery retry policy: Optexity says "exponential backoff"; these numbers keep tests fast.
constexpr int k_max_attempts = 8;
constexpr auto k_first_backoff = std::chrono::milliseconds(50);
constexpr auto k_max_backoff = std::chrono::milliseconds(2000);
constexpr size_t k_max_clients_per_cache = 64;

struct Attempt {
  bool ok = false;
  std::string what; // "200", "503", or the httplib error name
};

// A request target for httplib: the fragment is never sent, and the path must start with '/'.
std::string request_target(const core::Url& url) {
  std::string path = url.path.substr(0, url.path.find('#'));
  if (path.empty() || path.front() != '/') {
    path.insert(path.begin(), '/');
  }
  return path;
}

} // namespace

// Keep-alive clients by origin. Each thread owns one cache at a time, so a Client is never
// shared between two concurrent requests; the mutex only lets abort_all() reach the clients.
struct ClientCache {
  std::mutex mutex;
  std::map<std::string, std::unique_ptr<httplib::Client>> clients;

  httplib::Client& get(const std::string& origin) {
    std::lock_guard lock(mutex);
    auto it = clients.find(origin);
    if (it != clients.end()) {
      return *it->second;
    }
    // Per-request callback URLs could name endless origins; forgetting them all is simplest.
    if (clients.size() >= k_max_clients_per_cache) {
      clients.clear();
    }
    auto client = std::make_unique<httplib::Client>(origin);
    client->set_keep_alive(true);
    // httplib writes headers and body separately: without this, Nagle plus delayed ACK can
    // stall each callback by 40 ms.
    client->set_tcp_nodelay(true);
    client->set_connection_timeout(5, 0);
    client->set_read_timeout(30, 0);
    client->set_write_timeout(30, 0);
    return *clients.emplace(origin, std::move(client)).first->second;
  }

  // Shuts down any socket in use, so a sender blocked on a slow receiver returns at once.
  void abort_all() {
    std::lock_guard lock(mutex);
    for (auto& [origin, client] : clients) {
      client->stop();
    }
  }
};

namespace {

Attempt deliver_once(ClientCache& cache, const CallbackDelivery& d) {
  httplib::Headers headers;
  if (!d.api_key.empty()) {
    headers.emplace("x-api-key", d.api_key);
  }
  auto& client = cache.get(d.url.origin());
  // Stream the three parts instead of joining them: with --screenshot-bytes a body can be
  // megabytes, and every attempt and duplicate would copy it again.
  const CallbackBody& body = *d.body;
  auto provider = [&body](size_t offset, size_t length, httplib::DataSink& sink) {
    const std::string* parts[] = {&body.head, body.screenshot.get(), &body.tail};
    for (const std::string* part : parts) {
      if (offset < part->size()) {
        return sink.write(part->data() + offset, std::min(length, part->size() - offset));
      }
      offset -= part->size();
    }
    return false; // past the end: httplib asked for more than content_length
  };
  auto res = client.Post(request_target(d.url), headers, body.size(), provider, "application/json");
  if (!res) {
    return {false, httplib::to_string(res.error()) + " error"};
  }
  return {res->status >= 200 && res->status < 300, std::to_string(res->status)};
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

void CallbackSender::start() {
  m_scheduler = std::thread([this] { run_scheduler(); });
  for (int i = 0; i < m_threads; ++i) {
    ClientCache* cache = nullptr;
    {
      std::lock_guard lock(m_clients_mutex);
      m_sender_clients.push_back(std::make_unique<ClientCache>());
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
      return;
    }
  }
  // Borrow a client cache, so keep-alive works here too and abort_callers() can reach a POST
  // that hangs (a thread_local cache would be out of its reach).
  ClientCache* cache = nullptr;
  {
    std::lock_guard lock(m_clients_mutex);
    if (m_caller_free.empty()) {
      m_caller_clients.push_back(std::make_unique<ClientCache>());
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

void CallbackSender::abort(std::vector<std::unique_ptr<ClientCache>>& caches) {
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

void CallbackSender::run_sender(ClientCache& cache) {
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
void CallbackSender::send(ClientCache& cache, CallbackDelivery d) {
  Attempt out = deliver_once(cache, d);
  std::string copy = d.copy == 0 ? "" : fmt::format(" (duplicate {})", d.copy);
  if (out.ok) {
    log("callback {} {}{} -> {}", d.task_id, d.status, copy, out.what);
    return;
  }
  if (d.attempt >= k_max_attempts) {
    log("callback {} {}{} -> {}, gave up after {} attempts",
        d.task_id,
        d.status,
        copy,
        out.what,
        d.attempt);
    return;
  }
  auto backoff = std::min(k_max_backoff, k_first_backoff * (1 << (d.attempt - 1)));
  std::string line = fmt::format("callback {} {}{} -> {} (attempt {} of {})",
                                 d.task_id,
                                 d.status,
                                 copy,
                                 out.what,
                                 d.attempt,
                                 k_max_attempts);
  ++d.attempt;
  if (schedule(std::move(d), Clock::now() + backoff)) {
    log("{}, retry in {} ms", line, backoff.count());
  } else {
    log("{}, not retried: stopping", line);
  }
}

} // namespace net

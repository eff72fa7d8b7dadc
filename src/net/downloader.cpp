#include "net/downloader.h"

#include "core/error.h"
#include "core/files.h"
#include "core/url.h"

#include <fmt/format.h>
#include <httplib.h>

#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <netdb.h>
#include <optional>
#include <sys/socket.h>
#include <thread>

namespace net {

namespace {

using Clock = std::chrono::steady_clock;

constexpr auto k_connect_timeout = std::chrono::seconds(10);
constexpr int k_max_redirects = 10;
// How often a stop is repeated until the request returns (see Watch).
constexpr auto k_stop_repeat = std::chrono::milliseconds(100);

// Ends a request at its deadline or on a stop, from a thread of its own: httplib's stop()
// shuts the socket down, so a read blocked on a silent server returns at once. (A read timeout
// alone is per read: a server sending a byte now and then would hold the download for ever.)
// A stop() that comes before the socket exists has nothing to shut, so it is repeated until
// the request returns; one that comes during the connect waits for it (at most
// k_connect_timeout).
class Watch {
public:
  Watch(httplib::Client& http, Clock::time_point deadline, std::stop_token stop)
      : m_http(http), m_deadline(deadline), m_on_stop(std::move(stop), [this] { wake(m_stopped); }),
        m_thread([this] { run(); }) {}
  ~Watch() {
    wake(m_done);
    m_thread.join();
  }
  Watch(const Watch&) = delete;
  Watch& operator=(const Watch&) = delete;

private:
  void wake(bool& flag) {
    std::lock_guard lock(m_mutex);
    flag = true;
    m_cv.notify_all();
  }

  void run() {
    std::unique_lock lock(m_mutex);
    while (!m_done) {
      if (m_stopped || Clock::now() >= m_deadline) {
        lock.unlock();
        m_http.stop();
        lock.lock();
        m_cv.wait_for(lock, k_stop_repeat, [&] { return m_done; });
      } else {
        m_cv.wait_until(lock, m_deadline, [&] { return m_done || m_stopped; });
      }
    }
  }

  httplib::Client& m_http;
  Clock::time_point m_deadline;
  std::mutex m_mutex;
  std::condition_variable m_cv;
  bool m_stopped = false;
  bool m_done = false;
  std::stop_callback<std::function<void()>> m_on_stop; // after the members wake() uses
  std::thread m_thread;                                // last: run() uses everything above
};

// Where a redirect's Location points, from the URL that answered it.
std::optional<core::Url> redirect_target(const core::Url& from, const std::string& location) {
  if (location.rfind("//", 0) == 0) {
    return core::parse_url(from.scheme + ":" + location);
  }
  if (!location.empty() && location.front() == '/') {
    return core::parse_url(from.origin() + location);
  }
  if (location.find("://") != std::string::npos) {
    return core::parse_url(location);
  }
  // A relative path: next to the path that answered.
  std::string dir = from.path.substr(0, from.path.find_first_of("?#"));
  dir = dir.substr(0, dir.rfind('/') + 1);
  return core::parse_url(from.origin() + (dir.empty() ? "/" : dir) + location);
}

// Resolves `url`'s host and checks every address it has: one that is not public refuses the
// download (an attacker's name may list a public address beside 127.0.0.1). On success
// `pinned` is the first address, the one to connect to: httplib would otherwise resolve the
// name again, and a name with a short TTL could answer differently the second time (DNS
// rebinding). getaddrinfo cannot be interrupted: a slow resolver holds the download (and a
// stop) for as long as its own timeout, as httplib's own resolution did before.
std::string resolve_checked(const core::Url& url, bool redirect, std::string& pinned) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int rc = getaddrinfo(url.host.c_str(), nullptr, &hints, &found);
  if (rc != 0) {
    return fmt::format("download failed: cannot resolve {}: {}", url.host, gai_strerror(rc));
  }
  std::string refusal;
  for (addrinfo* ai = found; ai != nullptr && refusal.empty(); ai = ai->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    core::AddressKind kind = core::AddressKind::global;
    if (ai->ai_family == AF_INET) {
      const auto* sin = reinterpret_cast<const sockaddr_in*>(ai->ai_addr);
      std::array<uint8_t, 4> bytes{};
      std::memcpy(bytes.data(), &sin->sin_addr, bytes.size());
      kind = core::classify_ipv4(bytes);
      inet_ntop(AF_INET, &sin->sin_addr, text, sizeof text);
    } else if (ai->ai_family == AF_INET6) {
      const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(ai->ai_addr);
      std::array<uint8_t, 16> bytes{};
      std::memcpy(bytes.data(), &sin6->sin6_addr, bytes.size());
      kind = core::classify_ipv6(bytes);
      inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof text);
    } else {
      continue;
    }
    refusal = core::address_refusal(url.host, text, kind, redirect);
    if (pinned.empty()) {
      pinned = text;
    }
  }
  freeaddrinfo(found);
  if (refusal.empty() && pinned.empty()) {
    return fmt::format("download failed: cannot resolve {}: no address", url.host);
  }
  return refusal;
}

} // namespace

std::string download_file(const std::string& url,
                          const std::string& path,
                          std::chrono::milliseconds timeout,
                          const core::DownloadPolicy& policy,
                          std::stop_token stop) {
  const auto deadline = Clock::now() + timeout;
  std::optional<core::AtomicFileWriter> file; // removes its temporary file unless committed
  auto timed_out = [&] {
    return fmt::format("download timed out after {:g} s ({} bytes received)",
                       std::chrono::duration<double>(timeout).count(),
                       file ? file->size() : 0);
  };
  auto parsed = core::parse_url(url);
  if (!parsed) {
    return fmt::format("not an http(s) URL: {}", url.substr(0, 200));
  }
  std::optional<core::Url> from; // the URL that redirected to `parsed`
  for (int redirects = 0;; ++redirects) {
    if (stop.stop_requested()) {
      return "download interrupted";
    }
    if (Clock::now() >= deadline) {
      return timed_out();
    }
    const core::Url* redirected_from = from ? &*from : nullptr;
    if (std::string refusal = core::url_refusal(*parsed, redirected_from, policy);
        !refusal.empty()) {
      return refusal;
    }
    std::string pinned;
    if (core::must_check_addresses(redirected_from, policy)) {
      if (std::string refusal = resolve_checked(*parsed, from.has_value(), pinned);
          !refusal.empty()) {
        return refusal;
      }
    }
    const auto now = Clock::now();
    if (now >= deadline) {
      return timed_out();
    }
    httplib::Client http(parsed->origin());
    if (!pinned.empty()) {
      // Connect to the address just checked, not to whatever the name resolves to next.
      http.set_hostname_addr_map({{parsed->host, pinned}});
    }
    const auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    http.set_connection_timeout(std::min<std::chrono::milliseconds>(remaining, k_connect_timeout));
    // Only a backstop: the Watch ends the request at the deadline.
    http.set_read_timeout(remaining + std::chrono::seconds(1));
    // A signed URL is sent as it came: re-encoding its path could break its signature.
    http.set_url_encode(false);
    int status = 0;
    std::string location;
    std::string write_error;
    // Called once the headers are read: only a 2xx body goes to the file.
    auto on_response = [&](const httplib::Response& res) {
      status = res.status;
      if (status >= 300 && status < 400 && res.has_header("Location")) {
        location = res.get_header_value("Location");
        return false;
      }
      if (status < 200 || status >= 300) {
        return false;
      }
      try {
        file.emplace(path);
      } catch (const core::Error& e) {
        write_error = e.what();
        return false;
      }
      return true;
    };
    // Each piece of the body goes to disk at once; false ends the request.
    auto on_data = [&](const char* data, size_t size) {
      if (stop.stop_requested() || Clock::now() >= deadline) {
        return false;
      }
      try {
        file->append(std::string_view(data, size));
      } catch (const core::Error& e) {
        write_error = e.what();
        return false;
      }
      return true;
    };
    const std::string target = parsed->path.empty() ? "/" : parsed->path;
    httplib::Result res = [&] {
      Watch watch(http, deadline, stop);
      return http.Get(target, httplib::Headers{}, on_response, on_data);
    }();
    if (!write_error.empty()) {
      return write_error;
    }
    if (res && file) {
      try {
        file->commit();
      } catch (const core::Error& e) {
        return e.what();
      }
      return {};
    }
    if (stop.stop_requested()) {
      return "download interrupted";
    }
    if (Clock::now() >= deadline) {
      return timed_out();
    }
    if (!location.empty()) {
      if (redirects >= k_max_redirects) {
        return fmt::format("download failed: more than {} redirects", k_max_redirects);
      }
      from = *parsed;
      parsed = redirect_target(*from, location);
      if (!parsed) {
        return fmt::format("download failed: redirected to {}", location.substr(0, 200));
      }
      continue;
    }
    if (status != 0 && (status < 200 || status >= 300)) {
      return fmt::format("download failed: HTTP {}", status);
    }
    return fmt::format("download failed: {} ({} bytes received)",
                       res ? "no body" : httplib::to_string(res.error()),
                       file ? file->size() : 0);
  }
}

} // namespace net

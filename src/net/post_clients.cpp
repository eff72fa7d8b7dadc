#include "net/post_clients.h"

#include <httplib.h>

#include <algorithm>

namespace net {

namespace {

constexpr size_t k_max_clients = 64;

// A request target for httplib: the fragment is never sent, and the path must start with '/'.
std::string request_target(const core::Url& url) {
  std::string path = url.path.substr(0, url.path.find('#'));
  if (path.empty() || path.front() != '/') {
    path.insert(path.begin(), '/');
  }
  return path;
}

} // namespace

PostClients::PostClients() = default;
PostClients::~PostClients() = default;

PostResult PostClients::post(const core::Url& url,
                             const std::vector<std::pair<std::string, std::string>>& headers,
                             const std::vector<const std::string*>& parts) {
  httplib::Client* client = nullptr;
  {
    std::lock_guard lock(m_mutex);
    const std::string origin = url.origin();
    auto it = m_clients.find(origin);
    if (it == m_clients.end()) {
      // Per-request URLs could name endless origins; forgetting them all is simplest.
      if (m_clients.size() >= k_max_clients) {
        m_clients.clear();
      }
      auto made = std::make_unique<httplib::Client>(origin);
      made->set_keep_alive(true);
      // httplib writes headers and body separately: without this, Nagle plus delayed ACK can
      // stall each POST by 40 ms.
      made->set_tcp_nodelay(true);
      made->set_connection_timeout(5, 0);
      made->set_read_timeout(30, 0);
      made->set_write_timeout(30, 0);
      it = m_clients.emplace(origin, std::move(made)).first;
    }
    client = it->second.get();
  }
  httplib::Headers sent(headers.begin(), headers.end());
  size_t size = 0;
  for (const std::string* part : parts) {
    size += part->size();
  }
  auto provider = [&parts](size_t offset, size_t length, httplib::DataSink& sink) {
    for (const std::string* part : parts) {
      if (offset < part->size()) {
        return sink.write(part->data() + offset, std::min(length, part->size() - offset));
      }
      offset -= part->size();
    }
    return false; // past the end: httplib asked for more than content_length
  };
  auto res = client->Post(request_target(url), sent, size, provider, "application/json");
  if (!res) {
    return {false, httplib::to_string(res.error()) + " error"};
  }
  return {res->status >= 200 && res->status < 300, std::to_string(res->status)};
}

void PostClients::abort_all() {
  std::lock_guard lock(m_mutex);
  for (auto& [origin, client] : m_clients) {
    client->stop();
  }
}

} // namespace net

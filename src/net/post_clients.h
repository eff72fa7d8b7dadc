#pragma once

// Keep-alive HTTP clients by origin, for a sender that POSTs to many URLs (the emulator's
// callback delivery) without seeing cpp-httplib.

#include "core/url.h"

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace httplib {
class Client;
} // namespace httplib

namespace net {

// How one POST ended.
struct PostResult {
  bool ok = false;  // a 2xx answer
  std::string what; // "200", "503", or the transport error ("Connection error")
};

// One client per origin, kept alive between POSTs. Not for concurrent POSTs: each thread
// owns one PostClients at a time; the mutex only lets abort_all() reach the clients.
class PostClients {
public:
  PostClients();
  ~PostClients();
  PostClients(const PostClients&) = delete;
  PostClients& operator=(const PostClients&) = delete;

  // POSTs the concatenation of `parts` (streamed, never joined: a body can be megabytes) as
  // application/json, with `headers`. Connect timeout 5 s, read and write 30 s.
  PostResult post(const core::Url& url,
                  const std::vector<std::pair<std::string, std::string>>& headers,
                  const std::vector<const std::string*>& parts);
  // Shuts down any socket in use, so a POST blocked on a slow receiver returns at once.
  void abort_all();

private:
  std::mutex m_mutex;
  std::map<std::string, std::unique_ptr<httplib::Client>> m_clients;
};

} // namespace net

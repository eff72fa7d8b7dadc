#include "net/probe.h"

#include "core/url.h"

#include <fmt/format.h>
#include <httplib.h>

namespace net {

std::string post_json(const std::string& url,
                      const std::string& body,
                      const std::vector<std::pair<std::string, std::string>>& headers,
                      std::chrono::milliseconds timeout) {
  auto parsed = core::parse_url(url);
  if (!parsed) {
    return fmt::format("not an http(s) URL: {}", url);
  }
  httplib::Client http(parsed->origin());
  http.set_connection_timeout(timeout);
  http.set_read_timeout(timeout);
  http.set_tcp_nodelay(true);
  httplib::Headers h;
  for (const auto& [name, value] : headers) {
    h.emplace(name, value);
  }
  auto res = http.Post(parsed->path.empty() ? "/" : parsed->path, h, body, "application/json");
  if (!res) {
    return fmt::format("cannot reach it: {}", httplib::to_string(res.error()));
  }
  if (res->status < 200 || res->status >= 300) {
    return fmt::format("it answered HTTP {}", res->status);
  }
  return {};
}

} // namespace net

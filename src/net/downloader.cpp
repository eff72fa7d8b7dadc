#include "net/downloader.h"

#include "core/error.h"
#include "core/files.h"
#include "core/url.h"

#include <fmt/format.h>
#include <httplib.h>

namespace net {

std::string
download_file(const std::string& url, const std::string& path, std::chrono::milliseconds timeout) {
  auto parsed = core::parse_url(url);
  if (!parsed) {
    return fmt::format("not an http(s) URL: {}", url.substr(0, 200));
  }
  httplib::Client http(parsed->origin());
  http.set_connection_timeout(timeout);
  http.set_read_timeout(timeout);
  http.set_follow_location(true);
  std::string target = parsed->path.empty() ? "/" : parsed->path;
  auto res = http.Get(target);
  if (!res) {
    return fmt::format("download failed: {}", httplib::to_string(res.error()));
  }
  if (res->status < 200 || res->status >= 300) {
    return fmt::format("download failed: HTTP {}", res->status);
  }
  try {
    core::write_file_atomic(path, res->body);
  } catch (const core::Error& e) {
    return e.what();
  }
  return {};
}

} // namespace net

#pragma once

#include <optional>
#include <string>

namespace core {

// An http(s) URL split into what cpp-httplib wants: "scheme://host:port" and a path.
struct Url {
  std::string scheme; // http or https
  std::string host;
  int port = 0;
  std::string path;           // starts with '/', "" means "/"
  std::string origin() const; // scheme://host[:port]
};

// Parses an http or https URL; nothing for anything else.
std::optional<Url> parse_url(const std::string& text);

// Where a run sends requests. `--api-url` is a base (the tool appends /api/v1/inference) or a
// full URL ending in /inference, used as is (a local worker). The status API lives at the base.
struct ApiEndpoints {
  Url inference;
  std::optional<Url> status_base; // none for a full /inference URL
  bool is_cloud = false;          // the default Optexity cloud host
};

// Throws core::Error (exit 2) naming the URL when it is not an http(s) URL.
ApiEndpoints resolve_api_url(const std::string& api_url);

// Whether requests to `api` need an API key: the service's API (the cloud, or any base URL) on a
// host other than this machine's loopback. A local worker's /inference needs none, nor does a
// service on loopback (the emulator, a tunnel's near end).
bool needs_api_key(const ApiEndpoints& api);
// Why requests to `api_url` cannot be made with `api_key`: none given where one is needed
// (needs_api_key). The message names the ways to give a key; "" when nothing is wrong.
std::string missing_api_key(const std::string& api_url, const std::string& api_key);

inline constexpr const char* k_default_api_url = "https://api.optexity.com";

} // namespace core

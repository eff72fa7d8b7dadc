#include "core/url.h"

#include "core/error.h"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <string_view>

namespace core {

std::string Url::origin() const {
  bool default_port = (scheme == "http" && port == 80) || (scheme == "https" && port == 443);
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return default_port ? fmt::format("{}://{}", scheme, h)
                      : fmt::format("{}://{}:{}", scheme, h, port);
}

std::optional<Url> parse_url(const std::string& text) {
  Url url;
  auto sep = text.find("://");
  if (sep == std::string::npos) {
    return std::nullopt;
  }
  url.scheme = text.substr(0, sep);
  for (auto& c : url.scheme) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (url.scheme != "http" && url.scheme != "https") {
    return std::nullopt;
  }
  std::string rest = text.substr(sep + 3);
  auto slash = rest.find_first_of("/?#");
  std::string authority = rest.substr(0, slash);
  url.path = slash == std::string::npos ? "" : rest.substr(slash);
  if (authority.find('@') != std::string::npos || authority.empty()) {
    return std::nullopt; // credentials in URLs would end up in logs
  }
  std::string port_text;
  if (authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string::npos) {
      return std::nullopt;
    }
    url.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') {
        return std::nullopt;
      }
      port_text = authority.substr(close + 2);
    }
  } else {
    auto colon = authority.rfind(':');
    url.host = authority.substr(0, colon);
    if (colon != std::string::npos) {
      port_text = authority.substr(colon + 1);
    }
  }
  if (url.host.empty()) {
    return std::nullopt;
  }
  url.port = url.scheme == "https" ? 443 : 80;
  if (!port_text.empty()) {
    int port = 0;
    auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || p != port_text.data() + port_text.size() || port <= 0 ||
        port > 65535) {
      return std::nullopt;
    }
    url.port = port;
  }
  return url;
}

namespace {

// 127.0.0.0/8 written as a dotted quad; a name such as "127.example.com" is not loopback.
bool is_loopback_ipv4(std::string_view host) {
  if (!host.starts_with("127.")) {
    return false;
  }
  int dots = 0;
  int digits = 0;
  for (char c : host) {
    if (c == '.') {
      if (digits == 0) {
        return false;
      }
      ++dots;
      digits = 0;
    } else if (c >= '0' && c <= '9' && digits < 3) {
      ++digits;
    } else {
      return false;
    }
  }
  return dots == 3 && digits > 0;
}

} // namespace

bool needs_api_key(const ApiEndpoints& api) {
  const std::string& path = api.inference.path;
  auto ends_with = [&](std::string_view suffix) {
    return path.size() >= suffix.size() &&
           path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (ends_with("/inference") && !ends_with("/api/v1/inference")) {
    return false; // a local worker
  }
  std::string host = api.inference.host;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  for (char& c : host) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  const bool loopback = host == "localhost" || host.ends_with(".localhost") || host == "::1" ||
                        is_loopback_ipv4(host);
  return !loopback;
}

std::string missing_api_key(const std::string& api_url, const std::string& api_key) {
  if (!api_key.empty() || !needs_api_key(resolve_api_url(api_url))) {
    return {};
  }
  // The service answers every request without one with 422: said once, before any request.
  return fmt::format(
      "no API key for {}: give --api-key-file FILE, set OPTEXITY_API_KEY, run `optexity-chain "
      "login` once, or --api-key KEY",
      api_url);
}

ApiEndpoints resolve_api_url(const std::string& api_url) {
  auto url = parse_url(api_url);
  if (!url) {
    throw Error(fmt::format("--api-url: not an http(s) URL: \"{}\"", api_url));
  }
  ApiEndpoints out;
  std::string path = url->path;
  while (!path.empty() && path.back() == '/') {
    path.pop_back();
  }
  const std::string suffix = "/inference";
  bool full = path.size() >= suffix.size() &&
              path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0;
  out.inference = *url;
  if (full) {
    out.inference.path = path;
    // A base URL + /api/v1/inference still has a status API at that base.
    const std::string api_suffix = "/api/v1/inference";
    if (path.size() >= api_suffix.size() &&
        path.compare(path.size() - api_suffix.size(), api_suffix.size(), api_suffix) == 0) {
      Url base = *url;
      base.path = path.substr(0, path.size() - api_suffix.size());
      out.status_base = base;
    }
  } else {
    out.inference.path = path + "/api/v1/inference";
    Url base = *url;
    base.path = path;
    out.status_base = base;
  }
  out.is_cloud = url->host == "api.optexity.com" || url->host == "inference-api.optexity.com";
  return out;
}

} // namespace core

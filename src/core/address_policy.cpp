#include "core/address_policy.h"

#include <fmt/format.h>

#include <algorithm>
#include <arpa/inet.h> // inet_pton: text to bytes, no I/O

namespace core {

AddressKind classify_ipv4(const std::array<uint8_t, 4>& b) {
  if (b[0] == 0) {
    return AddressKind::unspecified; // 0/8 "this network"; 0.0.0.0 reaches this host on Linux
  }
  if (b[0] == 127) {
    return AddressKind::loopback;
  }
  if (b[0] == 10 || (b[0] == 172 && (b[1] & 0xF0) == 16) || (b[0] == 192 && b[1] == 168) ||
      (b[0] == 100 && (b[1] & 0xC0) == 64)) {
    return AddressKind::private_net;
  }
  if (b[0] == 169 && b[1] == 254) {
    return AddressKind::link_local;
  }
  if (b[0] >= 224 && b[0] <= 239) {
    return AddressKind::multicast;
  }
  if (b[0] >= 240) {
    return AddressKind::broadcast;
  }
  return AddressKind::global;
}

AddressKind classify_ipv6(const std::array<uint8_t, 16>& b) {
  auto zeros = [&](size_t from, size_t to) {
    return std::all_of(b.begin() + from, b.begin() + to, [](uint8_t x) { return x == 0; });
  };
  auto embedded_v4 = [&] { return classify_ipv4({b[12], b[13], b[14], b[15]}); };
  if (zeros(0, 16)) {
    return AddressKind::unspecified;
  }
  if (zeros(0, 15) && b[15] == 1) {
    return AddressKind::loopback;
  }
  if (zeros(0, 10) && b[10] == 0xFF && b[11] == 0xFF) {
    return embedded_v4(); // ::ffff:a.b.c.d, IPv4-mapped
  }
  if (zeros(0, 12)) {
    return embedded_v4(); // ::a.b.c.d, IPv4-compatible (deprecated)
  }
  if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xFF && b[3] == 0x9B && zeros(4, 12)) {
    return embedded_v4(); // 64:ff9b::a.b.c.d, NAT64: a gateway connects to the IPv4 address
  }
  if ((b[0] & 0xFE) == 0xFC || (b[0] == 0xFE && (b[1] & 0xC0) == 0xC0)) {
    return AddressKind::private_net; // fc00::/7 unique local, fec0::/10 site-local
  }
  if (b[0] == 0xFE && (b[1] & 0xC0) == 0x80) {
    return AddressKind::link_local;
  }
  if (b[0] == 0xFF) {
    return AddressKind::multicast;
  }
  return AddressKind::global;
}

std::optional<AddressKind> classify_address(std::string_view literal) {
  std::string text(literal);
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  if (text.find(':') != std::string::npos) {
    text = text.substr(0, text.find('%')); // a zone (fe80::1%eth0) does not change the kind
    std::array<uint8_t, 16> v6{};
    if (inet_pton(AF_INET6, text.c_str(), v6.data()) == 1) {
      return classify_ipv6(v6);
    }
    return std::nullopt;
  }
  std::array<uint8_t, 4> v4{};
  if (inet_pton(AF_INET, text.c_str(), v4.data()) == 1) {
    return classify_ipv4(v4);
  }
  return std::nullopt;
}

std::string describe(AddressKind kind) {
  switch (kind) {
  case AddressKind::global:
    return "public address";
  case AddressKind::loopback:
    return "loopback address";
  case AddressKind::private_net:
    return "private address";
  case AddressKind::link_local:
    return "link-local address";
  case AddressKind::unspecified:
    return "unspecified address";
  case AddressKind::multicast:
    return "multicast address";
  case AddressKind::broadcast:
    return "broadcast or reserved address";
  }
  return "address";
}

std::string url_refusal(const Url& url, const Url* from, const DownloadPolicy& policy) {
  if (from != nullptr && from->scheme == "https" && url.scheme == "http") {
    return fmt::format("download refused: redirect from https to http ({})", url.origin());
  }
  if (from == nullptr && !policy.authenticated && url.scheme != "https") {
    return "download refused: http URL from an unauthenticated callback (only https is fetched; "
           "use --public-url or --callback-key)";
  }
  // A literal address is refused before any DNS (a name is checked once resolved).
  if (must_check_addresses(from, policy)) {
    if (auto kind = classify_address(url.host)) {
      return address_refusal(url.host, url.host, *kind, from != nullptr);
    }
  }
  return {};
}

bool must_check_addresses(const Url* from, const DownloadPolicy& policy) {
  return from != nullptr || !policy.authenticated;
}

std::string address_refusal(const std::string& host,
                            const std::string& address,
                            AddressKind kind,
                            bool redirect) {
  if (kind == AddressKind::global) {
    return {};
  }
  std::string where = host == address ? fmt::format("{} ({})", host, describe(kind))
                                      : fmt::format("{} ({}: {})", host, address, describe(kind));
  return redirect ? fmt::format("download refused: redirect to {}", where)
                  : fmt::format("download refused: {} from an unauthenticated callback", where);
}

} // namespace core

#pragma once

#include "core/url.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace core {

// What an IP address is, for deciding whether a download may connect to it. Everything but
// `global` is somewhere a URL from the network must not make the tool go: this machine, the
// local network, the cloud metadata service (169.254.169.254).
enum class AddressKind {
  global,      // an ordinary public address
  loopback,    // 127/8, ::1
  private_net, // 10/8, 172.16/12, 192.168/16, 100.64/10 (CGNAT), fc00::/7, fec0::/10
  link_local,  // 169.254/16, fe80::/10
  unspecified, // 0/8, ::
  multicast,   // 224/4, ff00::/8
  broadcast,   // 255.255.255.255 and the rest of 240/4 (reserved)
};

AddressKind classify_ipv4(const std::array<uint8_t, 4>& bytes);
// An IPv4 address carried in IPv6 (::ffff:a.b.c.d, ::a.b.c.d, 64:ff9b::a.b.c.d) is its IPv4's.
AddressKind classify_ipv6(const std::array<uint8_t, 16>& bytes);
// An IPv4 dotted quad or an IPv6 literal (brackets allowed); nothing for anything else (a name).
std::optional<AddressKind> classify_address(std::string_view literal);

// "loopback address", "private address", ...
std::string describe(AddressKind kind);

// The rules for a URL a result line names in `downloads` (and any redirect from it).
//
// - A URL named by an authenticated source (the listener accepted only callbacks carrying the
//   run's token, callback key or credentials; or the service's own API returned it) is fetched
//   with http or https from any host: the user's emulator on loopback keeps working.
// - A URL from an unauthenticated callback (the plain path, no key) is fetched only when https,
//   and only from a host whose addresses are all `global`.
// - A redirect is followed only to a host whose addresses are all `global` (whatever the source)
//   and never from https to http.
struct DownloadPolicy {
  bool authenticated = false; // the callback that named the URL was authenticated
};

// Why `url` must not be fetched, or "" when it may (as far as can be told without DNS: see
// must_check_addresses). `from` is the URL whose redirect points at `url`, none for the URL
// the callback named. The reason reads after "download refused: ".
std::string url_refusal(const Url& url, const Url* from, const DownloadPolicy& policy);

// True when every address `url`'s host resolves to must be `global` before connecting.
bool must_check_addresses(const Url* from, const DownloadPolicy& policy);

// Why connecting to `address` (numeric text, what `host` resolved to) is refused, or "" when
// `kind` is global: "redirect to 127.0.0.1 (loopback address)".
std::string address_refusal(const std::string& host,
                            const std::string& address,
                            AddressKind kind,
                            bool redirect);

} // namespace core

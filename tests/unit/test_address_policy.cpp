#include "core/address_policy.h"

#include <doctest/doctest.h>

#include <string>

using core::AddressKind;

namespace {

AddressKind kind_of(const std::string& literal) {
  auto kind = core::classify_address(literal);
  REQUIRE_MESSAGE(kind, literal);
  return *kind;
}

core::Url url(const std::string& text) {
  auto u = core::parse_url(text);
  REQUIRE_MESSAGE(u, text);
  return *u;
}

} // namespace

TEST_SUITE_BEGIN("address_policy");

TEST_CASE("classify_address: IPv4") {
  CHECK(kind_of("127.0.0.1") == AddressKind::loopback);
  CHECK(kind_of("127.255.0.9") == AddressKind::loopback);
  CHECK(kind_of("10.0.0.1") == AddressKind::private_net);
  CHECK(kind_of("172.16.0.1") == AddressKind::private_net);
  CHECK(kind_of("172.31.255.255") == AddressKind::private_net);
  CHECK(kind_of("172.15.0.1") == AddressKind::global);
  CHECK(kind_of("172.32.0.1") == AddressKind::global);
  CHECK(kind_of("192.168.1.1") == AddressKind::private_net);
  CHECK(kind_of("192.169.1.1") == AddressKind::global);
  CHECK(kind_of("100.64.0.1") == AddressKind::private_net);
  CHECK(kind_of("100.127.255.255") == AddressKind::private_net);
  CHECK(kind_of("100.128.0.1") == AddressKind::global);
  CHECK(kind_of("169.254.169.254") == AddressKind::link_local); // cloud metadata
  CHECK(kind_of("0.0.0.0") == AddressKind::unspecified);
  CHECK(kind_of("0.1.2.3") == AddressKind::unspecified);
  CHECK(kind_of("224.0.0.1") == AddressKind::multicast);
  CHECK(kind_of("239.255.255.250") == AddressKind::multicast);
  CHECK(kind_of("255.255.255.255") == AddressKind::broadcast);
  CHECK(kind_of("240.0.0.1") == AddressKind::broadcast);
  CHECK(kind_of("8.8.8.8") == AddressKind::global);
  CHECK(kind_of("93.184.216.34") == AddressKind::global);
}

TEST_CASE("classify_address: IPv6, and IPv4 inside it") {
  CHECK(kind_of("::1") == AddressKind::loopback);
  CHECK(kind_of("[::1]") == AddressKind::loopback);
  CHECK(kind_of("::") == AddressKind::unspecified);
  CHECK(kind_of("fc00::1") == AddressKind::private_net);
  CHECK(kind_of("fd12:3456::1") == AddressKind::private_net);
  CHECK(kind_of("fec0::1") == AddressKind::private_net);
  CHECK(kind_of("fe80::1") == AddressKind::link_local);
  CHECK(kind_of("fe80::1%eth0") == AddressKind::link_local);
  CHECK(kind_of("febf::1") == AddressKind::link_local);
  CHECK(kind_of("ff02::1") == AddressKind::multicast);
  CHECK(kind_of("2001:4860:4860::8888") == AddressKind::global);
  CHECK(kind_of("::ffff:127.0.0.1") == AddressKind::loopback);
  CHECK(kind_of("::ffff:7f00:1") == AddressKind::loopback);
  CHECK(kind_of("::ffff:169.254.169.254") == AddressKind::link_local);
  CHECK(kind_of("::ffff:10.1.2.3") == AddressKind::private_net);
  CHECK(kind_of("::ffff:8.8.8.8") == AddressKind::global);
  CHECK(kind_of("::127.0.0.1") == AddressKind::loopback);
  CHECK(kind_of("64:ff9b::127.0.0.1") == AddressKind::loopback);
  CHECK(kind_of("64:ff9b::8.8.8.8") == AddressKind::global);
}

TEST_CASE("classify_address: a name or a malformed literal is no address") {
  CHECK_FALSE(core::classify_address("localhost"));
  CHECK_FALSE(core::classify_address("example.com"));
  CHECK_FALSE(core::classify_address("127.1"));
  CHECK_FALSE(core::classify_address("1.2.3.4.5"));
  CHECK_FALSE(core::classify_address("::g"));
  CHECK_FALSE(core::classify_address(""));
}

TEST_CASE("describe names each kind") {
  CHECK(core::describe(AddressKind::loopback) == "loopback address");
  CHECK(core::describe(AddressKind::private_net) == "private address");
  CHECK(core::describe(AddressKind::link_local) == "link-local address");
  CHECK(core::describe(AddressKind::unspecified) == "unspecified address");
  CHECK(core::describe(AddressKind::multicast) == "multicast address");
}

TEST_CASE("url_refusal: a URL an authenticated callback named: http or https, any host") {
  const core::DownloadPolicy authed{true};
  CHECK(core::url_refusal(url("http://127.0.0.1:8080/f"), nullptr, authed) == "");
  CHECK(core::url_refusal(url("http://[::1]:8080/f"), nullptr, authed) == "");
  CHECK(core::url_refusal(url("http://10.0.0.5/f"), nullptr, authed) == "");
  CHECK(core::url_refusal(url("https://files.example.com/f"), nullptr, authed) == "");
  CHECK_FALSE(core::must_check_addresses(nullptr, authed));
}

TEST_CASE("url_refusal: a URL an unauthenticated callback named: https to a public host only") {
  const core::DownloadPolicy plain{false};
  CHECK(core::url_refusal(url("http://127.0.0.1:8080/f"), nullptr, plain) ==
        "download refused: http URL from an unauthenticated callback (only https is fetched; "
        "use --public-url or --callback-key)");
  CHECK(core::url_refusal(url("http://files.example.com/f"), nullptr, plain) ==
        "download refused: http URL from an unauthenticated callback (only https is fetched; "
        "use --public-url or --callback-key)");
  CHECK(core::url_refusal(url("https://files.example.com/f"), nullptr, plain) == "");
  CHECK(core::url_refusal(url("https://169.254.169.254/latest/meta-data"), nullptr, plain) ==
        "download refused: 169.254.169.254 (link-local address) from an unauthenticated callback");
  CHECK(core::url_refusal(url("https://[::ffff:127.0.0.1]/f"), nullptr, plain) ==
        "download refused: ::ffff:127.0.0.1 (loopback address) from an unauthenticated callback");
  CHECK(core::must_check_addresses(nullptr, plain));
}

TEST_CASE("url_refusal: a redirect, whatever the source: never inward, never https to http") {
  for (bool authenticated : {true, false}) {
    CAPTURE(authenticated);
    const core::DownloadPolicy policy{authenticated};
    const core::Url from_http = url("http://127.0.0.1:8080/f");
    const core::Url from_https = url("https://files.example.com/f");
    CHECK(core::must_check_addresses(&from_http, policy));
    CHECK(core::url_refusal(url("http://127.0.0.1:9000/x"), &from_http, policy) ==
          "download refused: redirect to 127.0.0.1 (loopback address)");
    CHECK(core::url_refusal(url("https://[fe80::1]/x"), &from_https, policy) ==
          "download refused: redirect to fe80::1 (link-local address)");
    CHECK(core::url_refusal(url("https://192.168.0.1/x"), &from_https, policy) ==
          "download refused: redirect to 192.168.0.1 (private address)");
    CHECK(core::url_refusal(url("http://0.0.0.0/x"), &from_http, policy) ==
          "download refused: redirect to 0.0.0.0 (unspecified address)");
    CHECK(core::url_refusal(url("http://cdn.example.com/x"), &from_https, policy) ==
          "download refused: redirect from https to http (http://cdn.example.com)");
    CHECK(core::url_refusal(url("https://cdn.example.com/x"), &from_https, policy) == "");
    CHECK(core::url_refusal(url("http://cdn.example.com/x"), &from_http, policy) == "");
  }
}

TEST_CASE("address_refusal names the host and what it resolved to") {
  CHECK(core::address_refusal("files.example.com", "8.8.8.8", AddressKind::global, true) == "");
  CHECK(core::address_refusal("localhost", "127.0.0.1", AddressKind::loopback, true) ==
        "download refused: redirect to localhost (127.0.0.1: loopback address)");
  CHECK(core::address_refusal("intranet.example", "10.1.1.1", AddressKind::private_net, false) ==
        "download refused: intranet.example (10.1.1.1: private address) from an "
        "unauthenticated callback");
}

TEST_SUITE_END();

#include "core/error.h"
#include "core/url.h"

#include <doctest/doctest.h>

TEST_SUITE_BEGIN("url");

TEST_CASE("url::parse_url") {
  auto u = core::parse_url("http://127.0.0.1:9000/inference");
  REQUIRE(u);
  CHECK(u->host == "127.0.0.1");
  CHECK(u->port == 9000);
  CHECK(u->path == "/inference");
  CHECK(u->origin() == "http://127.0.0.1:9000");
  auto s = core::parse_url("HTTPS://api.optexity.com");
  REQUIRE(s);
  CHECK(s->port == 443);
  CHECK(s->origin() == "https://api.optexity.com");
  auto v6 = core::parse_url("http://[::1]:8080/x");
  REQUIRE(v6);
  CHECK(v6->host == "::1");
  CHECK(v6->origin() == "http://[::1]:8080");
  CHECK_FALSE(core::parse_url("ftp://x"));
  CHECK_FALSE(core::parse_url("localhost:9000"));
  CHECK_FALSE(core::parse_url("http://:80"));
  CHECK_FALSE(core::parse_url("http://h:99999"));
  CHECK_FALSE(core::parse_url("http://user:pw@h/"));
}

TEST_CASE("url::resolve_api_url: base or full /inference URL") {
  auto base = core::resolve_api_url("https://api.optexity.com");
  CHECK(base.inference.path == "/api/v1/inference");
  CHECK(base.is_cloud);
  REQUIRE(base.status_base);
  CHECK(base.status_base->path == "");
  auto slash = core::resolve_api_url("http://127.0.0.1:5000/");
  CHECK(slash.inference.path == "/api/v1/inference");
  auto local = core::resolve_api_url("http://localhost:9000/inference");
  CHECK(local.inference.path == "/inference");
  CHECK_FALSE(local.status_base);
  CHECK_FALSE(local.is_cloud);
  auto full = core::resolve_api_url("http://h:1/api/v1/inference");
  CHECK(full.inference.path == "/api/v1/inference");
  REQUIRE(full.status_base);
  CHECK(full.status_base->path == "");
  CHECK_THROWS_AS(core::resolve_api_url("not a url"), core::Error);
}

TEST_CASE("needs_api_key: the service's API off this machine") {
  auto needs = [](const char* url) { return core::needs_api_key(core::resolve_api_url(url)); };
  CHECK(needs("https://api.optexity.com"));
  CHECK(needs("https://example.com/api/v1/inference"));
  CHECK(needs("http://10.0.0.5:8000"));
  CHECK_FALSE(needs("http://localhost:9000/inference")); // a local worker
  CHECK_FALSE(needs("http://192.168.1.5:9000/inference"));
  CHECK_FALSE(needs("http://127.0.0.1:8000"));
  CHECK_FALSE(needs("http://LOCALHOST:8000"));
  CHECK_FALSE(needs("http://[::1]:8000"));
  CHECK_FALSE(needs("http://127.1.2.3:8000/api/v1/inference"));
  CHECK_FALSE(needs("http://app.localhost:8000"));
  // A name that merely starts like a loopback address is a host elsewhere.
  CHECK(needs("https://127.example.com"));
  CHECK(needs("https://127.0.0.1.nip.io"));
  CHECK(needs("http://[::2]:8000"));
}

TEST_CASE("url::missing_api_key: the message, or nothing") {
  CHECK(core::missing_api_key("https://api.example.invalid", "") ==
        "no API key for https://api.example.invalid: give --api-key-file FILE, set "
        "OPTEXITY_API_KEY, run `optexity-chain login` once, or --api-key KEY");
  CHECK(core::missing_api_key("https://api.example.invalid", "k").empty());
  CHECK(core::missing_api_key("http://127.0.0.1:9", "").empty());
  CHECK(core::missing_api_key("http://[::1]:9", "").empty());
  CHECK(core::missing_api_key("http://localhost:9", "").empty());
  CHECK(core::missing_api_key("http://worker.lan:9000/inference", "").empty());
  CHECK_FALSE(core::missing_api_key("https://api.optexity.com/api/v1/inference", "").empty());
  CHECK_THROWS_AS(core::missing_api_key("not a url", ""), core::Error);
}

TEST_SUITE_END();

#include "core/callback_route.h"
#include "core/keys.h"

#include <doctest/doctest.h>

#include <set>
#include <vector>

TEST_SUITE_BEGIN("keys");

using core::CallbackRoute;
using core::Json;

TEST_CASE("keys::random_token is 128 bits of hex, different each time") {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    std::string t = core::random_token();
    CHECK(t.size() == 32);
    CHECK(t.find_first_not_of("0123456789abcdef") == std::string::npos);
    seen.insert(t);
  }
  CHECK(seen.size() == 100);
}

TEST_CASE("keys::constant_time_equal") {
  CHECK(core::constant_time_equal("abc", "abc"));
  CHECK_FALSE(core::constant_time_equal("abc", "abd"));
  CHECK_FALSE(core::constant_time_equal("abc", "abcd"));
  CHECK(core::constant_time_equal("", ""));
}

TEST_CASE("keys::content_hash ignores key order, not content") {
  Json a = Json::parse(R"({"x":["1"],"y":["2"]})");
  Json b = Json::parse(R"({"y":["2"],"x":["1"]})");
  Json c = Json::parse(R"({"x":["1"],"y":["3"]})");
  CHECK(core::content_hash("e", a, nullptr) == core::content_hash("e", b, nullptr));
  CHECK(core::content_hash("e", a, nullptr) != core::content_hash("e", c, nullptr));
  CHECK(core::content_hash("e", a, nullptr) != core::content_hash("f", a, nullptr));
  CHECK(core::content_hash("e", a, nullptr) != core::content_hash("e", a, Json::object()));
  CHECK(core::content_hash("e", a, nullptr).size() == 32);
}

TEST_CASE("keys::InputKeys numbers identical inputs") {
  core::InputKeys keys;
  CHECK(keys.next("h1") == "h1-1");
  CHECK(keys.next("h2") == "h2-1");
  CHECK(keys.next("h1") == "h1-2");
}

TEST_CASE("keys::match_callback_path") {
  const std::string tok = "0123456789abcdef0123456789abcdef";
  SUBCASE("plain") {
    CHECK(core::match_callback_path("/receive_callback", "/receive_callback").kind ==
          CallbackRoute::Kind::plain);
    CHECK(core::match_callback_path("/receive_callback?x=1", "/receive_callback").kind ==
          CallbackRoute::Kind::plain);
    // A dashboard URL ending in a slash.
    CHECK(core::match_callback_path("/receive_callback/", "/receive_callback").kind ==
          CallbackRoute::Kind::plain);
    CHECK(core::match_callback_path("/receive_callback/?x=1", "/receive_callback").kind ==
          CallbackRoute::Kind::plain);
    CHECK(core::match_callback_path("/receive_callback//", "/receive_callback").kind ==
          CallbackRoute::Kind::other);
  }
  SUBCASE("tokened with a trailing slash") {
    auto r = core::match_callback_path("/receive_callback/" + tok + "/abc-2/", "/receive_callback");
    CHECK(r.kind == CallbackRoute::Kind::tokened);
    CHECK(r.id == "abc-2");
  }
  SUBCASE("tokened, with or without a proxy prefix") {
    for (std::string prefix : {"", "/optexity", "/a/b"}) {
      auto r = core::match_callback_path(prefix + "/receive_callback/" + tok + "/abc-2",
                                         "/receive_callback");
      CHECK(r.kind == CallbackRoute::Kind::tokened);
      CHECK(r.token == tok);
      CHECK(r.id == "abc-2");
    }
  }
  SUBCASE("a custom callback path whose prefix a proxy strips") {
    auto r = core::match_callback_path("/hook/" + tok + "/ab-1", "/x/hook");
    CHECK(r.kind == CallbackRoute::Kind::tokened);
  }
  SUBCASE("anything else") {
    for (std::string p : std::vector<std::string>{"/",
                                                  "/other",
                                                  "/receive_callback/" + tok,
                                                  "/elsewhere/" + tok + "/a-1",
                                                  "/receive_callback/" + tok + "/a b",
                                                  "/receive_callback/XYZ/a-1",
                                                  "/receive_callback//a-1",
                                                  "/receive_callback/" + tok + "/"}) {
      CAPTURE(p);
      CHECK(core::match_callback_path(p, "/receive_callback").kind == CallbackRoute::Kind::other);
    }
  }
  CHECK(core::callback_suffix("/receive_callback", tok, "k-1") ==
        "/receive_callback/" + tok + "/k-1");
}

TEST_SUITE_END();

// core::parse_json and core::dump_line take shortcuts for long plain strings (a base64
// screenshot): they must give exactly what nlohmann gives.
#include "core/json.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using core::Json;

namespace {

std::string nlohmann_dump(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// parse_json agrees with nlohmann (value, or "not JSON"), and dump_line with nlohmann's dump.
void check_same(const std::string& text) {
  CAPTURE(text.substr(0, 120));
  Json fast = core::parse_json(text);
  Json slow = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  REQUIRE(fast.is_discarded() == slow.is_discarded());
  if (!slow.is_discarded()) {
    CHECK(fast == slow);
    CHECK(core::dump_line(fast) == nlohmann_dump(slow));
  }
}

std::string plain(size_t n, char first = 'A') {
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s += static_cast<char>(first + static_cast<char>(i % 26));
  }
  return s;
}

} // namespace

TEST_SUITE("json") {
  TEST_CASE("json::long plain strings are lifted and put back where they were") {
    const std::string big = plain(5000);
    check_same(R"({"task_id":"t","status":"success","final_screenshot":")" + big + R"("})");
    check_same(R"({"a":[")" + big + R"(",")" + plain(300, 'a') + R"(",1,2.5,null,true]})");
    check_same("[\"" + big + "\" , \"" + big + "\"\n]");
    check_same("\"" + big + "\"");
    // Exactly at the threshold and one below.
    check_same(R"({"x":")" + plain(256) + R"(","y":")" + plain(255) + R"("})");
    Json j = core::parse_json(R"({"s":")" + big + R"(","n":{"t":")" + big + R"("}})");
    CHECK(j["s"] == big);
    CHECK(j["n"]["t"] == big);
  }

  TEST_CASE("json::long keys, escapes and non-ASCII take nlohmann's path") {
    const std::string big = plain(400);
    check_same(R"({")" + big + R"(":1,")" + big + "b\" \n : 2}");
    check_same(R"({"k":")" + big + R"(\"quoted\" \u00e9 \\ end","z":")" + big + R"("})");
    check_same(R"({"k":")" + big + "\xc3\xa9" + big + R"("})");
    check_same(R"({"k":")" + big + "\x7f" + R"("})");
    check_same(R"(["\\", ")" + big + R"(", "\"", ")" + big + R"("])");
  }

  TEST_CASE("json::text that is not JSON stays not JSON") {
    const std::string big = plain(400);
    for (const std::string& text : {
             R"({"a":")" + big + R"(")",
             R"({"a":")" + big,
             R"({"a" ")" + big + R"("})",
             R"({"a":")" + big + R"(" "b":1})",
             R"({"a":")" + big + R"("}})",
             "tru\"" + big + "\"",
             R"({"a":")" + big + "\n" + big + R"("})",
             R"({"a":")" + big + R"(\q"})",
             R"({"a":")" + big + "\"}\\",
             R"({"a":")" + big + "\"} x",
         }) {
      check_same(text);
      CHECK(core::parse_json(text).is_discarded());
    }
  }

  TEST_CASE("json::every byte value at every place of a word is seen by the plain test") {
    // The plain test reads 8 bytes at a time: a byte that needs care must stop it wherever it is.
    for (int byte = 1; byte < 256; ++byte) {
      for (size_t at = 0; at < 16; ++at) {
        std::string big = plain(300);
        big[40 + at] = static_cast<char>(byte);
        std::string text = R"({"k":")" + big + R"("})";
        Json fast = core::parse_json(text);
        Json slow = Json::parse(text, nullptr, false);
        REQUIRE(fast.is_discarded() == slow.is_discarded());
        if (!slow.is_discarded()) {
          REQUIRE(fast == slow);
          REQUIRE(core::dump_line(fast) == nlohmann_dump(slow));
        }
        Json value = big; // invalid UTF-8 included: dump_line replaces it as nlohmann does
        REQUIRE(core::dump_line(value) == nlohmann_dump(value));
      }
    }
  }

  TEST_CASE("json::a string that looks like the marker is kept as it is") {
    const std::string big = plain(300);
    const std::string text =
        R"({"a":"@optexity-lifted-0","b":"@optexity-lifted-x-0","c":")" + big + R"("})";
    check_same(text);
    CHECK(core::parse_json(text)["a"] == "@optexity-lifted-0");
  }

  TEST_CASE("json::a payload holding the lift marker itself is read without a throw") {
    const std::string big = plain(300);
    const std::string& m = core::json_lift_marker();
    for (const std::string& odd : {m + "x", m + "01", m + "99", m + "-1", m + "1 "}) {
      const std::string text = R"({"a":")" + odd + R"(","b":")" + big + R"("})";
      Json j;
      CHECK_NOTHROW(j = core::parse_json(text));
      CHECK(j["a"] == odd);
      CHECK(j["b"] == big);
    }
  }

  TEST_CASE("json::nesting deeper than the limit is refused, with or without lifting") {
    std::string deep(core::k_max_json_depth + 5, '[');
    deep += "\"" + plain(300) + "\"";
    deep += std::string(core::k_max_json_depth + 5, ']');
    CHECK(core::parse_json(deep).is_discarded());
    std::string ok(10, '[');
    ok += "\"" + plain(300) + "\"" + std::string(10, ']');
    check_same(ok);
  }

  TEST_CASE("json::dump_line equals nlohmann's dump for every kind of value") {
    Json j = {{"s", "plain"},
              {"e", "tab\there \"q\" \\ \x01 \x7f"},
              {"u", "caf\xc3\xa9"},
              {"bad", std::string("\xff\xfe")},
              {"n", -12},
              {"u64", 18446744073709551615ULL},
              {"f", 0.1},
              {"big", 1e300},
              {"b", false},
              {"z", nullptr},
              {"arr", Json::array({1, "x", Json::object(), Json::array()})},
              {"key \"with\" quotes", Json::object({{"deep", Json::array({Json::array({})})}})}};
    CHECK(core::dump_line(j) == nlohmann_dump(j));
    CHECK(core::dump_line(Json()) == "null");
    CHECK(core::dump_line(Json::object()) == "{}");
    CHECK(core::dump_line(Json("x")) == "\"x\"");
  }
}

TEST_CASE("json::parse_json builds what nlohmann builds, duplicate keys included") {
  for (const char* text : {R"({"a":1,"b":[1,2,{"c":null}],"a":2})",
                           R"({"k0":0,"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,)"
                           R"("k9":9,"k3":"again","k0":"again"})",
                           R"([{},{},{"x":{}},[],[[]]])",
                           R"("plain")",
                           R"(-1.5e3)"}) {
    CAPTURE(text);
    Json mine = core::parse_json(text);
    Json theirs = Json::parse(text);
    CHECK(mine == theirs);
    CHECK(core::dump_line(mine) == theirs.dump());
  }
}

TEST_CASE("json::parse_json of many empty objects and many keys") {
  // Both were quadratic: nlohmann's callback parser scans the parent after each object, and
  // ordered_json looks every key up linearly. Checked for what is built; the time is measured
  // by bench/callback_cost.sh and guarded by a fuzz_callback regression input (-timeout).
  std::string objects = "[";
  for (int i = 0; i < 100000; ++i) {
    objects += i ? ",{}" : "{}";
  }
  objects += "]";
  Json a = core::parse_json(objects);
  REQUIRE(a.is_array());
  CHECK(a.size() == 100000);
  std::string keys = "{";
  for (int i = 0; i < 50000; ++i) {
    keys += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":" + std::to_string(i);
  }
  keys += "}";
  Json o = core::parse_json(keys);
  REQUIRE(o.is_object());
  CHECK(o.size() == 50000);
  CHECK(o["k49999"] == 49999);
}

TEST_CASE("json::parse_json_members builds only the members asked for, up to a budget") {
  const std::vector<std::string_view> keep = {"task_id", "input_parameters"};
  bool capped = false;
  Json j = core::parse_json_members(
      R"({"task_id":"t","output_data":[{},{"deep":[1,2,3]}],"input_parameters":{"e":["x"]}})",
      keep,
      100,
      capped);
  CHECK_FALSE(capped);
  CHECK(j == Json::parse(R"({"task_id":"t","input_parameters":{"e":["x"]}})"));
  // Past the budget the rest is skipped and said so.
  j = core::parse_json_members(
      R"({"task_id":"t","input_parameters":{"e":[1,2,3,4,5]}})", keep, 4, capped);
  CHECK(capped);
  CHECK(j["task_id"] == "t");
  // Not JSON, or too deep, is discarded; a top-level array keeps nothing.
  CHECK(core::parse_json_members("{\"task_id\":", keep, 100, capped).is_discarded());
  CHECK(core::parse_json_members(std::string(300, '[') + std::string(300, ']'), keep, 100, capped)
            .is_discarded());
  j = core::parse_json_members(R"([{"task_id":"t"}])", keep, 100, capped);
  CHECK(j == Json::array());
}

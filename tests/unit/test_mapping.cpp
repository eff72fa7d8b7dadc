#include "core/error.h"
#include "core/mapping.h"

#include <doctest/doctest.h>

#include <sstream>

TEST_SUITE_BEGIN("mapping");

using core::Json;

namespace {
core::MapResult map1(const std::string& record, const std::string& spec) {
  return core::apply_map(Json::parse(record), core::parse_map_rules({spec}));
}
} // namespace

TEST_CASE("mapping::parse_map_rules") {
  auto rules = core::parse_map_rules({"account=/output_data/0/json_data/account", "all="});
  REQUIRE(rules.size() == 2);
  CHECK(rules[0].name == "account");
  CHECK(rules[0].pointer_text == "/output_data/0/json_data/account");
  CHECK(rules[1].pointer_text.empty()); // the whole document
  CHECK_THROWS_WITH_AS(
      core::parse_map_rules({"account"}), doctest::Contains("NAME=POINTER"), core::Error);
  CHECK_THROWS_WITH_AS(
      core::parse_map_rules({"=/x"}), doctest::Contains("NAME=POINTER"), core::Error);
  CHECK_THROWS_WITH_AS(
      core::parse_map_rules({"a=no-slash"}), doctest::Contains("not a JSON Pointer"), core::Error);
  CHECK_THROWS_AS(core::parse_map_rules({"a=/x~2"}), core::Error); // bad escape
}

TEST_CASE("mapping::apply_map maps each value type") {
  SUBCASE("string") {
    auto r = map1(R"({"a":{"b":"x"}})", "p=/a/b");
    CHECK(r.error.empty());
    CHECK(r.params.dump() == R"({"p":["x"]})");
  }
  SUBCASE("number and boolean as JSON text") {
    CHECK(map1(R"({"n":42})", "p=/n").params.dump() == R"({"p":["42"]})");
    CHECK(map1(R"({"n":1.5})", "p=/n").params.dump() == R"({"p":["1.5"]})");
    CHECK(map1(R"({"b":false})", "p=/b").params.dump() == R"({"p":["false"]})");
  }
  SUBCASE("array to the list") {
    CHECK(map1(R"({"l":["a",2,true]})", "p=/l").params.dump() == R"({"p":["a","2","true"]})");
    CHECK(map1(R"({"l":[]})", "p=/l").params.dump() == R"({"p":[]})");
  }
  SUBCASE("array index and escapes") {
    CHECK(map1(R"({"o":[{"k":"v0"},{"k":"v1"}]})", "p=/o/1/k").params.dump() == R"({"p":["v1"]})");
    CHECK(map1(R"({"a/b":{"m~n":"x"}})", "p=/a~1b/m~0n").params.dump() == R"({"p":["x"]})");
  }
}

TEST_CASE("mapping::apply_map names the pointer in every error") {
  auto check_error =
      [](const std::string& record, const std::string& spec, const std::string& needle) {
        auto r = map1(record, spec);
        CAPTURE(record);
        CHECK(r.error.find(needle) != std::string::npos);
      };
  check_error(R"({"a":null})", "p=/a", "/a is null");
  check_error(R"({"a":{"x":1}})", "p=/a", "/a is an object");
  check_error(R"({"a":[1,null]})", "p=/a", "/a/1 is null");
  check_error(R"({"a":[{"x":1}]})", "p=/a", "/a/0 is an object");
  check_error(R"({"a":[[1]]})", "p=/a", "/a/0 is an array");
  check_error(R"({"a":1})", "p=/b", "/b does not resolve");
  check_error(R"({"a":[1]})", "p=/a/5", "/a/5 does not resolve");
  check_error(R"({"a":[1]})", "p=/a/x", "/a/x does not resolve");
  check_error(R"({"a":"s"})", "p=/a/0", "/a/0 does not resolve");
}

TEST_CASE("mapping::record_to_input filters, maps and carries") {
  core::RecordOptions opts;
  opts.rules = core::parse_map_rules({"account=/output_data/0/json_data/account"});
  opts.where_status = "success";
  opts.carry = true;
  opts.name = "<stdin>";
  SUBCASE("a success record is mapped, carried without its screenshot") {
    auto in = core::record_to_input(
        R"({"status":"success","output_data":[{"json_data":{"account":"A1"}}],"final_screenshot":"xx"})",
        3,
        opts);
    CHECK(in.error.empty());
    CHECK(in.passthrough.is_null());
    CHECK(in.params.dump() == R"({"account":["A1"]})");
    CHECK(in.from["status"] == "success");
    CHECK_FALSE(in.from.contains("final_screenshot"));
    CHECK(in.where == "<stdin>:3");
  }
  SUBCASE("another status passes through unchanged") {
    auto in = core::record_to_input(R"({"status":"failed","error":"x"})", 1, opts);
    CHECK(in.passthrough.dump() == R"({"status":"failed","error":"x"})");
  }
  SUBCASE("a record that does not map is invalid, naming the pointer") {
    auto in = core::record_to_input(R"({"status":"success","output_data":[]})", 2, opts);
    CHECK(in.error ==
          "<stdin>:2: --map account: /output_data/0/json_data/account does not resolve");
  }
  SUBCASE("not JSON") {
    auto in = core::record_to_input("nope", 4, opts);
    CHECK(in.error == "<stdin>:4: not a JSON object");
  }
}

TEST_CASE("mapping::RecordStreamSource skips blank lines") {
  std::istringstream in(
      "{\"status\":\"success\",\"v\":\"a\"}\n\n{\"status\":\"success\",\"v\":\"b\"}\n");
  core::RecordOptions opts;
  opts.rules = core::parse_map_rules({"v=/v"});
  opts.name = "s";
  core::RecordStreamSource source(std::make_unique<core::IstreamLineReader>(in), opts);
  auto a = source.next();
  auto b = source.next();
  REQUIRE(a);
  REQUIRE(b);
  CHECK(b->params["v"][0] == "b");
  CHECK(b->where == "s:3");
  CHECK_FALSE(source.next());
}

TEST_SUITE_END();

#include "core/error.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "emulator/script.h"

TEST_SUITE_BEGIN("script");

using core::Json;

namespace {

// The error message parse_script throws for `text` (named "s.json"), or "" when it is valid.
std::string script_error(const std::string& text) {
  try {
    emulator::parse_script(text, "s.json");
  } catch (const core::Error& e) {
    CHECK(e.code() == core::ExitCode::usage);
    return e.what();
  }
  return {};
}

emulator::Filled fill(const std::string& value, const std::string& params_json) {
  Json params = Json::parse(params_json);
  return emulator::fill_templates(Json::parse(value), {params, "orders", "t-1"}, "/output_data");
}

// An RAII temporary directory (removed with its files).
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() /
           ("optexity-script-test-" + std::to_string(std::rand()) + "-" +
            std::to_string(reinterpret_cast<uintptr_t>(this)));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

} // namespace

TEST_CASE("script::parse_script reads every key") {
  emulator::Script s = emulator::parse_script(R"({
    "description": "accounts",
    "endpoints": {
      "login": {"description": "log in", "delay_ms": 200, "jitter_ms": 10, "fail_rate": 0.25,
                "kill_rate": 0, "drop_callback_rate": 0.5, "duplicate_rate": 1,
                "error": "no {{email}}",
                "output_data": [{"unique_identifier": "{{email}}", "json_data": {"n": 2}}]},
      "orders": {"delay_ms": 0}
    },
    "default": {"fail_rate": 1}
  })",
                                              "s.json");
  REQUIRE(s.endpoints.size() == 2);
  const emulator::ScriptEndpoint& login = s.endpoints.at("login");
  CHECK(login.delay_ms == 200);
  CHECK(login.jitter_ms == 10);
  CHECK(login.fail_rate == doctest::Approx(0.25));
  CHECK(login.kill_rate == doctest::Approx(0));
  CHECK(login.drop_callback_rate == doctest::Approx(0.5));
  CHECK(login.duplicate_rate == doctest::Approx(1));
  CHECK(login.error == "no {{email}}");
  REQUIRE(login.output_data);
  // Key order is the script's, as the callback will show it.
  CHECK(login.output_data->dump() == R"([{"unique_identifier":"{{email}}","json_data":{"n":2}}])");
  const emulator::ScriptEndpoint& orders = s.endpoints.at("orders");
  CHECK(orders.delay_ms == 0);
  CHECK_FALSE(orders.fail_rate);
  CHECK_FALSE(orders.output_data);
  REQUIRE(s.fallback);
  CHECK(s.fallback->fail_rate == doctest::Approx(1));
}

TEST_CASE("script::Script::find falls back to the default, else null") {
  emulator::Script with = emulator::parse_script(R"({"endpoints": {"a": {"delay_ms": 1}},
                                             "default": {"delay_ms": 2}})",
                                                 "s.json");
  CHECK(with.find("a")->delay_ms == 1);
  CHECK(with.find("b")->delay_ms == 2);
  emulator::Script without = emulator::parse_script(R"({"endpoints": {"a": {}}})", "s.json");
  CHECK(without.find("a") != nullptr);
  CHECK(without.find("b") == nullptr);
  emulator::Script only_default = emulator::parse_script(R"({"default": {}})", "s.json");
  CHECK(only_default.find("anything") != nullptr);
}

TEST_CASE("script::parse_script names the file and the place of each problem") {
  SUBCASE("not JSON: file, line and column") {
    std::string e = script_error("{\n  \"endpoints\": {\n    \"a\": {,}\n  }\n}");
    CHECK(e.find("s.json:3:") == 0);
    CHECK(e.find("not valid JSON") != std::string::npos);
    CHECK(script_error("").find("s.json:1:1: not valid JSON") == 0);
  }
  SUBCASE("not an object") {
    CHECK(script_error("[]").find("s.json: top level: expected an object") == 0);
  }
  SUBCASE("unknown keys, with a suggestion when close") {
    CHECK(script_error(R"({"endpoint": {}})") ==
          R"(s.json: /endpoint: unknown key "endpoint"; did you mean "endpoints"?)");
    CHECK(script_error(R"({"endpoints": {"a": {"delay": 1}}})") ==
          R"(s.json: /endpoints/a/delay: unknown key "delay"; did you mean "delay_ms"?)");
    CHECK(script_error(R"({"endpoints": {"a": {"zzzzzzzzzz": 1}}})")
              .find("unknown key \"zzzzzzzzzz\" (expected one of description, delay_ms") !=
          std::string::npos);
  }
  SUBCASE("bad values") {
    CHECK(script_error(R"({"endpoints": {"a": {"delay_ms": -1}}})")
              .find("s.json: /endpoints/a/delay_ms: expected a whole number") == 0);
    CHECK(script_error(R"({"endpoints": {"a": {"delay_ms": 1.5}}})") != "");
    CHECK(script_error(R"({"endpoints": {"a": {"jitter_ms": "5"}}})") != "");
    CHECK(script_error(R"({"endpoints": {"a": {"fail_rate": 1.5}}})") ==
          "s.json: /endpoints/a/fail_rate: expected a share from 0 to 1, got 1.5");
    CHECK(script_error(R"({"endpoints": {"a": {"kill_rate": true}}})") != "");
    CHECK(script_error(R"({"endpoints": {"a": {"output_data": {}}}})")
              .find("s.json: /endpoints/a/output_data: expected an array") == 0);
    CHECK(script_error(R"({"endpoints": {"a": {"error": 3}}})") != "");
    CHECK(script_error(R"({"endpoints": {"a": 1}})")
              .find("s.json: /endpoints/a: expected an object") == 0);
    CHECK(script_error(R"({"endpoints": {"": {}}})").find("cannot be empty") != std::string::npos);
    CHECK(script_error(R"({"endpoints": []})") != "");
  }
  SUBCASE("nothing answered") {
    CHECK(script_error("{}").find("every endpoint would be 404") != std::string::npos);
    CHECK(script_error(R"({"endpoints": {}})") != "");
  }
  SUBCASE("bad templates, with their place") {
    CHECK(script_error(R"({"endpoints": {"a/b": {"output_data": [{"x": ["{{email"]}]}}})") ==
          R"(s.json: /endpoints/a~1b/output_data/0/x/0: unclosed "{{" in "{{email")");
    CHECK(script_error(R"({"endpoints": {"a": {"error": "{{bogus:x}}"}}})")
              .find("s.json: /endpoints/a/error: unknown function \"bogus\"") == 0);
    CHECK(script_error(R"({"default": {"output_data": [{"{{k}}": 1}]}})")
              .find("not filled in object keys") != std::string::npos);
  }
  SUBCASE("all problems at once, one a line") {
    std::string e = script_error(R"({"endpoints": {"a": {"delay": 1, "fail_rate": 2}}, "x": 1})");
    CHECK(std::count(e.begin(), e.end(), '\n') == 2);
  }
}

TEST_CASE("script::template_problem") {
  CHECK(emulator::template_problem("plain text").empty());
  CHECK(emulator::template_problem("").empty());
  CHECK(emulator::template_problem("{{a}}-{{ b[1] }}-{{hash:c}}-{{ hash : d[0] }}").empty());
  CHECK(emulator::template_problem("{{endpoint}} {{task_id}} {{First Name}}").empty());
  CHECK(emulator::template_problem("{{a").find("unclosed") != std::string::npos);
  CHECK(emulator::template_problem("a}}").find("without") != std::string::npos);
  CHECK(emulator::template_problem("{{}}").find("empty template") != std::string::npos);
  CHECK(emulator::template_problem("{{  }}").find("empty template") != std::string::npos);
  CHECK(emulator::template_problem("{{md5:a}}").find("unknown function \"md5\"") !=
        std::string::npos);
  CHECK(emulator::template_problem("{{a[x]}}").find("bad index") != std::string::npos);
  CHECK(emulator::template_problem("{{a[]}}").find("bad index") != std::string::npos);
  CHECK(emulator::template_problem("{{a[-1]}}").find("bad index") != std::string::npos);
  CHECK(emulator::template_problem("{{a]}}").find("bad index") != std::string::npos);
  CHECK(emulator::template_problem("{{{a}}}").find("bad parameter name") != std::string::npos);
  CHECK(emulator::template_problem("{{a{{b}}").find("bad parameter name") != std::string::npos);
  CHECK(emulator::template_problem("{{hash:}}").find("bad parameter name") != std::string::npos);
  CHECK(emulator::template_problem("{{[0]}}").find("bad parameter name") != std::string::npos);
}

TEST_CASE("script::fill_templates fills strings from the inputs") {
  const std::string params = R"({"email": ["a@x.com", "b@x.com"], "n": ["2"],
                                 "endpoint": ["param-endpoint"]})";
  SUBCASE("first value, value i, and text around") {
    CHECK(fill(R"("{{email}}")", params).value == "a@x.com");
    CHECK(fill(R"("{{email[1]}}")", params).value == "b@x.com");
    CHECK(fill(R"("<{{ email }}|{{email[0]}}>")", params).value == "<a@x.com|a@x.com>");
  }
  SUBCASE("always a string; other scalars as written") {
    CHECK(fill(R"("{{n}}")", params).value == Json("2"));
    CHECK(fill(R"([1, true, null, 2.5])", params).value.dump() == "[1,true,null,2.5]");
  }
  SUBCASE("hash: stable 8 hex digits, the built-in account's") {
    CHECK(emulator::stable_hash8("") == "84222325"); // FNV-1a 64 of "" is cbf29ce484222325
    std::string h = fill(R"("{{hash:email}}")", params).value.get<std::string>();
    CHECK(h.size() == 8);
    CHECK(h == emulator::stable_hash8("a@x.com"));
    CHECK(fill(R"("{{hash:email[1]}}")", params).value == emulator::stable_hash8("b@x.com"));
    CHECK(h != emulator::stable_hash8("b@x.com"));
  }
  SUBCASE("built-ins win; an index reaches a parameter of the same name") {
    CHECK(fill(R"("{{endpoint}}/{{task_id}}")", params).value == "orders/t-1");
    CHECK(fill(R"("{{endpoint[0]}}")", params).value == "param-endpoint");
  }
  SUBCASE("nested arrays and objects keep their shape and key order") {
    auto f = fill(R"([{"z": "{{email}}", "a": ["{{n}}-A", "{{n}}-B"], "k": {"q": 1}}])", params);
    CHECK(f.error.empty());
    CHECK(f.value.dump() == R"([{"z":"a@x.com","a":["2-A","2-B"],"k":{"q":1}}])");
  }
  SUBCASE("non-string values of a parameter as their JSON text") {
    CHECK(fill(R"("{{v}}")", R"({"v": [3, true]})").value == "3");
    CHECK(fill(R"("{{v[1]}}")", R"({"v": [3, true]})").value == "true");
  }
}

TEST_CASE("script::fill_templates names what is missing and where") {
  SUBCASE("a missing parameter") {
    auto f = fill(R"([{"json_data": {"account": "{{account}}"}}])", R"({"email": ["a@x.com"]})");
    CHECK(f.error == R"(input parameter "account" is missing (needed by "{{account}}" at )"
                     R"(/output_data/0/json_data/account))");
  }
  SUBCASE("a missing value") {
    auto f = fill(R"(["{{email[2]}}"])", R"({"email": ["a", "b"]})");
    CHECK(f.error.find(R"(input parameter "email" has no value [2] (it has 2))") == 0);
    CHECK(f.error.find("/output_data/0") != std::string::npos);
  }
  SUBCASE("hash of a missing parameter") {
    CHECK(fill(R"("{{hash:x}}")", "{}").error.find(R"(input parameter "x" is missing)") == 0);
  }
  SUBCASE("an empty list has no first value") {
    CHECK(fill(R"("{{x}}")", R"({"x": []})").error.find(R"("x" has no value [0] (it has 0))") !=
          std::string::npos);
  }
}

TEST_CASE("script::template messages keep the script's wording") {
  CHECK(emulator::template_problem("ab {{x") == R"(unclosed "{{" in "ab {{x")");
  CHECK(emulator::template_problem("{{a}} b}} {{c}}") ==
        R"("}}" without "{{" in "{{a}} b}} {{c}}")");
  CHECK(emulator::template_problem("{{a}} {{ }}") == R"(empty template "{{ }}")");
  CHECK(emulator::template_problem("{{ md5 : a }}") ==
        R"(unknown function "md5" in "{{ md5 : a }}" (the only one is hash:))");
  // fill_templates on a value parse_script did not check: the problem, then its place; a bad
  // expression after a missing parameter is found first.
  CHECK(fill(R"({"a": ["x", "{{y"]})", "{}").error ==
        R"(unclosed "{{" in "{{y" at /output_data/a/1)");
  CHECK(fill(R"(["{{nope}} {{}}"])", "{}").error == R"(empty template "{{}}" at /output_data/0)");
  CHECK(fill(R"(["x {{ nope }}"])", "{}").error ==
        R"(input parameter "nope" is missing (needed by "{{ nope }}" at /output_data/0))");
}

TEST_CASE("script::load_script reads a file and names it") {
  TempDir dir;
  std::string path = (dir.path / "ok.json").string();
  std::ofstream(path) << R"({"endpoints": {"login": {"delay_ms": 5}}})";
  CHECK(emulator::load_script(path).endpoints.at("login").delay_ms == 5);

  std::string bad = (dir.path / "bad.json").string();
  std::ofstream(bad) << R"({"endpoints": {"login": {"output_data": ["{{x"]}}})";
  std::string expected = bad + ": /endpoints/login/output_data/0: unclosed";
  CHECK_THROWS_WITH_AS(
      emulator::load_script(bad), doctest::Contains(expected.c_str()), core::Error);
  CHECK_THROWS_WITH_AS(emulator::load_script((dir.path / "none.json").string()),
                       doctest::Contains("cannot open"),
                       core::Error);
  CHECK_THROWS_WITH_AS(
      emulator::load_script(dir.path.string()), doctest::Contains("is a directory"), core::Error);
}

TEST_SUITE_END();

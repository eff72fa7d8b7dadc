#include "core/json_places.h"

#include <doctest/doctest.h>

#include <string>

TEST_SUITE_BEGIN("json_places");

using core::TextPlace;

namespace {
// Lines:                 1    2            3            4          5           6
const char* k_doc = "{\n"
                    "  \"a\": {\n"
                    "    \"b\": [\n"
                    "      1,\n"
                    "      \"x\",\n"
                    "      {\"c\": null}\n"
                    "    ]\n"
                    "  },\n"
                    "  \"d/e~f\": true,\n"
                    "  \"g\": [[true, false]]\n"
                    "}\n";

size_t line_of(const std::unordered_map<std::string, TextPlace>& places, const std::string& p) {
  auto it = places.find(p);
  REQUIRE_MESSAGE(it != places.end(), "no place for pointer \"" << p << "\"");
  return it->second.line;
}
} // namespace

TEST_CASE("json_places::root and nested object members are at their key's line") {
  auto places = core::json_places(k_doc);
  CHECK(line_of(places, "") == 1);
  CHECK(places.at("").column == 1); // the '{'
  CHECK(line_of(places, "/a") == 2);
  CHECK(line_of(places, "/a/b") == 3);
  CHECK(line_of(places, "/a/b/2/c") == 6);
  // A member's place is its key's: the column is the key's closing quote.
  CHECK(places.at("/a").column == 5);        //   "a"  -> quotes at 3 and 5
  CHECK(places.at("/a/b/2/c").column == 10); // {"c": -> quotes at 8 and 10
}

TEST_CASE("json_places::array elements get their own place") {
  auto places = core::json_places(k_doc);
  CHECK(line_of(places, "/a/b/0") == 4);
  CHECK(line_of(places, "/a/b/1") == 5);
  CHECK(line_of(places, "/a/b/2") == 6);
  CHECK(places.at("/a/b/1").column == 9); // "x" ends at column 9
  CHECK(places.at("/a/b/2").column == 7); // the '{' of the third element
  // Nested arrays count their own indices.
  CHECK(line_of(places, "/g") == 10);
  CHECK(line_of(places, "/g/0") == 10);
  CHECK(line_of(places, "/g/0/0") == 10);
  CHECK(line_of(places, "/g/0/1") == 10);
  CHECK(places.count("/g/0/2") == 0);
  CHECK(places.count("/g/1") == 0);
}

TEST_CASE("json_places::keys are escaped in pointers") {
  auto places = core::json_places(k_doc);
  CHECK(line_of(places, "/d~1e~0f") == 9);
  CHECK(places.count("/d/e~f") == 0);
}

TEST_CASE("json_places::every value has a place and nothing else does") {
  auto places = core::json_places(k_doc);
  CHECK(places.size() == 12); // "", /a, /a/b, its 3 elements, /a/b/2/c, /d~1e~0f, /g, /g/0, 2 more
}

TEST_CASE("json_places::a scalar document and an empty text") {
  auto places = core::json_places("\n\n  \"just a string\"");
  CHECK(line_of(places, "") == 3);
  CHECK(places.size() == 1);
  CHECK(core::json_places("").empty());
}

TEST_CASE("json_places::a number's column is its last character") {
  // BUG: nlohmann's lexer reads one character past a number before it reports it, so a number's
  // column is one past its last character (the line is still right). Only the column is wrong.
  auto places = core::json_places("[\n 12\n]");
  CHECK(line_of(places, "/0") == 2);
  CHECK(places.at("/0").column == 3);
}

TEST_CASE("json_places::a text that is not JSON gives the places read before the error") {
  auto places = core::json_places("{\n  \"a\": [1,\n  \"b\": }");
  CHECK(line_of(places, "") == 1);
  CHECK(line_of(places, "/a") == 2);
  CHECK(line_of(places, "/a/0") == 2);
  CHECK(line_of(places, "/a/1") == 3); // the string "b" was read as the second element
}

TEST_CASE("json_places::CRLF line ends count as one line each") {
  auto places = core::json_places("{\r\n\"a\":\r\n [\r\n1]}");
  CHECK(line_of(places, "/a") == 2);
  CHECK(line_of(places, "/a/0") == 4);
}

TEST_CASE("json_places::place_of falls back to the nearest enclosing pointer") {
  auto places = core::json_places(k_doc);
  CHECK(core::place_of(places, "/a/b/1").line == 5);            // exact
  CHECK(core::place_of(places, "/a/b/2/c/zz").line == 6);       // parent: /a/b/2/c
  CHECK(core::place_of(places, "/a/b/7").line == 3);            // no element 7: /a/b
  CHECK(core::place_of(places, "/a/nothing/deeper").line == 2); // /a
  CHECK(core::place_of(places, "/zz").line == 1);               // the root
  CHECK(core::place_of(places, "").line == 1);
  // No places at all: the empty place (line 0).
  std::unordered_map<std::string, TextPlace> none;
  CHECK(core::place_of(none, "/a/b").line == 0);
  CHECK(core::place_of(none, "").line == 0);
}

TEST_CASE("json_places::pointer_token escapes ~ and /") {
  CHECK(core::pointer_token("plain") == "plain");
  CHECK(core::pointer_token("a/b") == "a~1b");
  CHECK(core::pointer_token("m~n") == "m~0n");
  CHECK(core::pointer_token("~/") == "~0~1");
  CHECK(core::pointer_token("/~1") == "~1~01"); // '~' before '1' is escaped, not read as ~1
  CHECK(core::pointer_token("").empty());
}

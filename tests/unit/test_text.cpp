#include "core/text.h"

#include <doctest/doctest.h>

#include <string>

TEST_SUITE_BEGIN("text");

TEST_CASE("text::trim drops white space at both ends only") {
  CHECK(core::trim("  a b \t\r\n") == "a b");
  CHECK(core::trim("\f\va\v") == "a");
  CHECK(core::trim("a") == "a");
  CHECK(core::trim("").empty());
  CHECK(core::trim(" \t\n ").empty());
  CHECK(core::trim("\xc2\xa0x") == "\xc2\xa0x"); // bytes of non-ASCII space are kept
  std::string text = "  key  ";
  std::string_view view = core::trim(text);
  CHECK(view.data() == text.data() + 2); // a view of the argument, no copy
}

TEST_CASE("text::trim with its own characters") {
  CHECK(core::trim(" \tx y\t ", " \t") == "x y");
  CHECK(core::trim("\n x \n", " \t") == "\n x \n");
  CHECK(core::trim("--a--", "-") == "a");
}

TEST_CASE("text::quote escapes what would garble a terminal") {
  CHECK(core::quote("bob") == "\"bob\"");
  CHECK(core::quote("") == "\"\"");
  CHECK(core::quote("a\"b") == "\"a\\\"b\"");
  CHECK(core::quote("a\\b") == "\"a\\\\b\"");
  CHECK(core::quote("a\nb\tc") == "\"a\\x0ab\\x09c\"");
  CHECK(core::quote(std::string("\x1b[31m\x7f", 6)) == "\"\\x1b[31m\\x7f\"");
  CHECK(core::quote(std::string_view("a\0b", 3)) == "\"a\\x00b\"");
  CHECK(core::quote("caf\xc3\xa9") == "\"caf\xc3\xa9\""); // UTF-8 kept
}

TEST_CASE("text::lower and join") {
  CHECK(core::lower("CSV") == "csv");
  CHECK(core::lower("NdJson-1") == "ndjson-1");
  CHECK(core::join({}, ", ") == "");
  CHECK(core::join({"a"}, ", ", " or ") == "a");
  CHECK(core::join({"a", "b"}, ", ", " or ") == "a or b");
  CHECK(core::join({"a", "b", "c"}, ", ", " or ") == "a, b or c");
  CHECK(core::join({"a", "b", "c"}, "; ") == "a; b; c");
}

TEST_SUITE_END();

#include "core/names.h"

#include <doctest/doctest.h>

TEST_SUITE_BEGIN("names");

TEST_CASE("names::edit_distance") {
  CHECK(core::edit_distance("", "") == 0);
  CHECK(core::edit_distance("abc", "abc") == 0);
  CHECK(core::edit_distance("emial", "email") == 2);
  CHECK(core::edit_distance("kitten", "sitting") == 3);
  CHECK(core::edit_distance("", "abc") == 3);
}

TEST_CASE("names::closest_name suggests only plausible typos") {
  std::vector<std::string> names = {"--emails", "--emulate", "--endpoint"};
  CHECK(core::closest_name("--emial", names) == "--emails");
  CHECK(core::closest_name("--endpont", names) == "--endpoint");
  CHECK(core::closest_name("--zzzzzzzz", names).empty());
  CHECK(core::closest_name("x", {"y"}).empty()); // one edit, but nothing is left of the word
}

TEST_SUITE_END();

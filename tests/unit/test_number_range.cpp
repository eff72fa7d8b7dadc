#include "core/number_range.h"

#include <doctest/doctest.h>

using core::check_number;
using core::NumberRange;

TEST_SUITE_BEGIN("number_range");

TEST_CASE("number_range::check_number accepts values in range") {
  CHECK(check_number("5", NumberRange::positive()).empty());
  CHECK(check_number("0.25", NumberRange::positive()).empty());
  CHECK(check_number("+3", NumberRange::positive()).empty());
  CHECK(check_number("1e9", NumberRange::positive()).empty());
  CHECK(check_number("0", NumberRange::non_negative()).empty());
  CHECK(check_number("1", NumberRange::share()).empty());
  CHECK(check_number("1", NumberRange::whole(1, 100000)).empty());
  CHECK(check_number("100000", NumberRange::whole(1, 100000)).empty());
}

TEST_CASE("number_range::check_number says which bound, in a short phrase") {
  SUBCASE("greater than 0") {
    CHECK(check_number("-5", NumberRange::positive()) == "must be greater than 0 (got -5)");
    CHECK(check_number("0", NumberRange::positive()) == "must be greater than 0 (got 0)");
  }
  SUBCASE("at least") {
    CHECK(check_number("-1", NumberRange::non_negative()) == "must be at least 0 (got -1)");
    CHECK(check_number("0", NumberRange::whole(1, 100)) == "must be at least 1 (got 0)");
  }
  SUBCASE("at most, without CLI11's 300 digits") {
    CHECK(check_number("2e9", NumberRange::positive()) == "must be at most 1000000000 (got 2e9)");
    CHECK(check_number("500", NumberRange::whole(0, 100)) == "must be at most 100 (got 500)");
    CHECK(check_number("99999999999999999999", NumberRange::whole(1, 100000)) ==
          "must be at most 100000 (got 99999999999999999999)");
    CHECK(check_number("-99999999999999999999", NumberRange::whole(1, 100000)) ==
          "must be at least 1 (got -99999999999999999999)");
  }
  SUBCASE("a share: both bounds") {
    CHECK(check_number("2", NumberRange::share()) == "must be between 0 and 1 (got 2)");
    CHECK(check_number("-0.5", NumberRange::share()) == "must be between 0 and 1 (got -0.5)");
  }
}

TEST_CASE("number_range::check_number refuses what is not a number") {
  CHECK(check_number("many", NumberRange::whole(1, 10)) == "expected a number, got \"many\"");
  CHECK(check_number("2.5", NumberRange::whole(1, 10)) == "expected a whole number, got \"2.5\"");
  CHECK(check_number("1e3", NumberRange::whole(1, 10000)) ==
        "expected a whole number, got \"1e3\"");
  CHECK(check_number("", NumberRange::positive()) == "expected a number, got \"\"");
  CHECK(check_number("5s", NumberRange::positive()) == "expected a number, got \"5s\"");
  CHECK(check_number("nan", NumberRange::positive()) == "expected a number, got \"nan\"");
  CHECK(check_number("inf", NumberRange::positive()) == "expected a number, got \"inf\"");
}

TEST_SUITE_END();

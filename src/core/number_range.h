#pragma once

#include <string>
#include <string_view>

namespace core {

// The values a numeric command-line option accepts.
struct NumberRange {
  double min = 0;
  bool min_inclusive = true; // false: the value must be greater than `min`
  double max = 1e9;          // inclusive; the default keeps seconds as milliseconds in a long long
  bool integer = false;      // a whole number (no fraction, no exponent)
  bool between = false;      // say "between MIN and MAX" (a share 0..1) rather than one bound

  // More than 0 (durations in seconds), at most 1e9.
  static NumberRange positive(double max = 1e9);
  // 0 or more, at most `max`.
  static NumberRange non_negative(double max = 1e9);
  // A share from 0 to 1.
  static NumberRange share();
  // A whole number from `min` to `max`.
  static NumberRange whole(long long min, long long max);
};

// Checks an option's text against `range`: "" when it is acceptable, else one short phrase for
// "--NAME: <phrase>", e.g. "must be greater than 0 (got -5)", "must be at most 100 (got 500)",
// "expected a whole number, got \"2.5\"". Never throws.
std::string check_number(std::string_view text, const NumberRange& range);

} // namespace core

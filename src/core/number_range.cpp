#include "core/number_range.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>

namespace core {

namespace {

// fmt's shortest form: 0, 1, 0.5, 100000, 1e-06 (never CLI11's 300 digits of DBL_MAX).
std::string show(double value) {
  return fmt::format("{}", value);
}

// `text` parsed whole, a leading '+' allowed; false when it is not one number (nan and inf
// included: no option means them).
bool parse_double(std::string_view text, double& value) {
  if (!text.empty() && text.front() == '+') {
    text.remove_prefix(1);
  }
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size() && std::isfinite(value);
}

// A whole number; `out_of_range` when it is one too long for a long long.
bool parse_whole(std::string_view text, long long& value, bool& out_of_range) {
  if (!text.empty() && text.front() == '+') {
    text.remove_prefix(1);
  }
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  out_of_range = ec == std::errc::result_out_of_range && end == text.data() + text.size();
  return ec == std::errc() && end == text.data() + text.size();
}

} // namespace

NumberRange NumberRange::positive(double max) {
  return NumberRange{.min = 0, .min_inclusive = false, .max = max};
}

NumberRange NumberRange::non_negative(double max) {
  return NumberRange{.min = 0, .min_inclusive = true, .max = max};
}

NumberRange NumberRange::share() {
  return NumberRange{.min = 0, .min_inclusive = true, .max = 1, .between = true};
}

NumberRange NumberRange::whole(long long min, long long max) {
  return NumberRange{.min = static_cast<double>(min),
                     .min_inclusive = true,
                     .max = static_cast<double>(max),
                     .integer = true};
}

std::string check_number(std::string_view text, const NumberRange& range) {
  double value = 0;
  bool too_long = false;
  if (range.integer) {
    long long whole = 0;
    if (parse_whole(text, whole, too_long)) {
      value = static_cast<double>(whole);
    } else if (too_long) {
      // A number all the same: say which bound it is past.
      value = text.front() == '-' ? -HUGE_VAL : HUGE_VAL;
    } else {
      return parse_double(text, value) ? fmt::format("expected a whole number, got \"{}\"", text)
                                       : fmt::format("expected a number, got \"{}\"", text);
    }
  } else if (!parse_double(text, value)) {
    return fmt::format("expected a number, got \"{}\"", text);
  }
  const bool low = range.min_inclusive ? value < range.min : !(value > range.min);
  const bool high = value > range.max;
  if (!low && !high) {
    return {};
  }
  if (range.between) {
    return fmt::format(
        "must be between {} and {} (got {})", show(range.min), show(range.max), text);
  }
  if (low) {
    return fmt::format("must be {} {} (got {})",
                       range.min_inclusive ? "at least" : "greater than",
                       show(range.min),
                       text);
  }
  return fmt::format("must be at most {} (got {})", show(range.max), text);
}

} // namespace core

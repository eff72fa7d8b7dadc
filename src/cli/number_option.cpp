#include "cli/number_option.h"

#include <fmt/format.h>

namespace cli {

namespace {

// What --help shows after the option's value name, in CLI11's words for its own validators.
std::string describe(const core::NumberRange& range) {
  if (range.integer) {
    return fmt::format("INT in [{} - {}]", range.min, range.max);
  }
  if (range.between) {
    return fmt::format("FLOAT in [{} - {}]", range.min, range.max);
  }
  if (range.min == 0) {
    return range.min_inclusive ? "NONNEGATIVE" : "POSITIVE";
  }
  return fmt::format("FLOAT in [{} - {}]", range.min, range.max);
}

} // namespace

CLI::Validator number_check(const core::NumberRange& range) {
  return CLI::Validator([range](std::string& text) { return core::check_number(text, range); },
                        describe(range));
}

} // namespace cli

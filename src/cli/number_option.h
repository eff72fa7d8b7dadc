#pragma once

#include "core/number_range.h"

#include <CLI/CLI.hpp>

namespace cli {

// A validator for a numeric option: CLI11 reports a refusal as "--NAME: must be greater than 0
// (got -5)" (core::check_number), never CLI11's own "Value -5 not in range 0.000000 to 1797...".
CLI::Validator number_check(const core::NumberRange& range);

} // namespace cli

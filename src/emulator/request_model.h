#pragma once

// What the service's request model (pydantic, schema/automation.py) refuses beyond the shared
// validator: secure parameters with no kind or several, and `digits` on a 1Password or AWS
// entry that is not a TOTP secret (or a TOTP secret without `digits`). Network-free.

#include "core/json.h"

namespace emulator {

// FastAPI `detail` items (type value_error, loc ["body","secure_parameters",NAME,I],
// msg "Value error, ...") for each problem of `request`'s secure_parameters; empty when none.
core::Json secure_parameter_problems(const core::Json& request);

} // namespace emulator

#pragma once

#include "runner/run_options.h"

namespace runner {

// Runs the main job: submits every input, waits for each callback, prints one JSON line per
// input on stdout. Returns the exit code; throws core::Error for run-level failures.
int run(const RunOptions& options);

} // namespace runner

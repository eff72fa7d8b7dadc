#pragma once

#include "runner/run.h"

#include <string>

namespace runner {

// Everything `optexity-chain flow` needs, filled by cli/flow_command.
struct FlowOptions {
  std::string flow_path;
  bool plan = false; // print the first item's steps and requests; submit nothing
  RunOptions run;    // items, service, listener, journal: as for `run` (no endpoint)
};

// Runs the flow for every item, one JSON line per item on stdout. Returns the exit code; throws
// core::Error for a bad flow file (every problem listed) and other run-level failures.
int run_flow(const FlowOptions& options);

} // namespace runner

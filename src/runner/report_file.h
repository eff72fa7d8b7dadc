#pragma once

#include "core/report.h"
#include "runner/run_options.h"

#include <memory>
#include <string>
#include <vector>

namespace runner {

// `optexity-chain report`: the NDJSON a run or flow printed in, one HTML file out.
struct ReportCommandOptions {
  std::vector<std::string> inputs;    // files, or "-" for stdin (the default)
  std::string output = "report.html"; // "-": stdout
  std::string state_path;             // --state: the run's journal, for timings
  core::ReportOptions report;
};

// Reads the inputs line by line (a screenshot of a success is not kept), writes the report
// atomically; returns the exit code (0; 2 when an input or the journal cannot be read or the
// report cannot be written).
int write_report(const ReportCommandOptions& options);

// `run --report FILE`, `flow --report FILE`: the report the engine fills as it prints (null
// without --report), then written at the end. A report that cannot be written makes the exit
// code 74 (the run's own code otherwise).
std::unique_ptr<core::Report> report_for_run(const RunOptions& opts, const std::string& title);
int finish_report(const RunOptions& opts, const core::Report* report, int code);

} // namespace runner

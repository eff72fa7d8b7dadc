#pragma once

#include "runner/report_file.h"

#include <CLI/CLI.hpp>

namespace cli {

struct ReportCommandOptions {
  runner::ReportCommandOptions report;
  bool quiet = false;
};

// `optexity-chain report [FILE|-]... -o FILE`: the HTML report of what a run or flow printed.
CLI::App* register_report_command(CLI::App& app, ReportCommandOptions& opts);
int run_report_command(const ReportCommandOptions& opts);

} // namespace cli

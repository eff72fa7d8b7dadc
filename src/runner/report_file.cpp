#include "runner/report_file.h"

#include "core/error.h"
#include "core/exit_code.h"
#include "core/files.h"
#include "core/log.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <unistd.h>

namespace runner {

namespace {

// Adds every line of `in`, named "NAME:N".
void add_lines(core::Report& report, std::istream& in, const std::string& name) {
  size_t n = 0;
  for (std::string line; std::getline(in, line);) {
    ++n;
    report.add_line(line, fmt::format("{}:{}", name, n));
  }
}

std::string summary_of(const core::Report& report, const std::string& where) {
  std::string text = fmt::format("report written to {}: {} line{}, {} not successful",
                                 where,
                                 report.lines(),
                                 report.lines() == 1 ? "" : "s",
                                 report.not_successful());
  if (report.unreadable() > 0) {
    text += fmt::format(" ({} line{} not JSON, left out)",
                        report.unreadable(),
                        report.unreadable() == 1 ? "" : "s");
  }
  return text;
}

} // namespace

int write_report(const ReportCommandOptions& options) {
  std::vector<std::string> inputs = options.inputs;
  if (inputs.empty()) {
    if (::isatty(0) == 1) {
      throw core::Error("report: give the lines a run printed: report FILE... (or pipe them: run "
                        "... | optexity-chain report -o report.html)");
    }
    inputs.push_back("-");
  }
  core::Report report(options.report);
  for (const std::string& path : inputs) {
    if (path == "-") {
      report.add_source_name("<stdin>");
      add_lines(report, std::cin, "<stdin>");
      continue;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      throw core::Error(fmt::format("report: {}: {}", path, std::strerror(errno)));
    }
    report.add_source_name(path);
    add_lines(report, in, path);
  }
  if (!options.state_path.empty()) {
    std::string why;
    auto text = core::try_read_file(options.state_path, &why);
    if (!text) {
      throw core::Error(fmt::format("report: --state {}: {}", options.state_path, why));
    }
    report.add_journal(*text);
  }
  if (report.unreadable() > 0) {
    core::log_warning(fmt::format("report: {} line{} not JSON: left out (the report's header "
                                  "names the first)",
                                  report.unreadable(),
                                  report.unreadable() == 1 ? " is" : "s are"));
  }
  const std::string html = report.html();
  if (options.output == "-") {
    if (int err = core::write_all(1, html); err != 0) {
      if (err == EPIPE) {
        return core::to_int(core::ExitCode::stdout_closed); // `| head`: quietly, as run does
      }
      throw core::Error(fmt::format("report: stdout: {}", std::strerror(err)),
                        core::ExitCode::write_failed);
    }
  } else {
    try {
      core::write_file_atomic(options.output, html);
    } catch (const core::Error& e) {
      throw core::Error(fmt::format("report: {}", e.what()), core::ExitCode::write_failed);
    }
  }
  core::log_info(summary_of(report, options.output == "-" ? "stdout" : options.output));
  return 0;
}

std::unique_ptr<core::Report> report_for_run(const RunOptions& opts, const std::string& title) {
  if (opts.report_path.empty()) {
    return nullptr;
  }
  core::ReportOptions o;
  o.title = title;
  o.screenshots_dir = opts.results.screenshots_dir;
  o.all_screenshots = opts.report_all_screenshots;
  return std::make_unique<core::Report>(o);
}

int finish_report(const RunOptions& opts, const core::Report* report, int code) {
  if (!report) {
    return code;
  }
  try {
    core::write_file_atomic(opts.report_path, report->html());
    core::log_info(summary_of(*report, opts.report_path));
  } catch (const core::Error& e) {
    core::log_error(fmt::format("--report: {}", e.what()));
    return code == 0 || code == core::to_int(core::ExitCode::task_failed)
               ? core::to_int(core::ExitCode::write_failed)
               : code;
  }
  return code;
}

} // namespace runner

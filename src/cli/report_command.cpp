#include "cli/report_command.h"

#include "core/log.h"

namespace cli {

CLI::App* register_report_command(CLI::App& app, ReportCommandOptions& opts) {
  CLI::App* cmd = app.add_subcommand(
      "report",
      "Write one self-contained HTML file showing a run's lines: counts, durations, tasks in "
      "flight, and every failure with its inputs, error and final screenshot");
  auto& r = opts.report;
  cmd->add_option("FILE", r.inputs, "Lines a run or flow printed (NDJSON); - or none: stdin")
      ->type_name("FILE|-");
  cmd->add_option("-o,--output", r.output, "The HTML file to write (- for stdout)")
      ->capture_default_str()
      ->type_name("FILE");
  cmd->add_option("--state", r.state_path, "The run's journal: task durations and the timeline")
      ->check(CLI::ExistingFile)
      ->type_name("FILE");
  cmd->add_option("--screenshots",
                  r.report.screenshots_dir,
                  "Where the run wrote screenshots (run --screenshots DIR): DIR/<task_id>.png")
      ->check(CLI::ExistingDirectory)
      ->type_name("DIR");
  cmd->add_flag("--all-screenshots",
                r.report.all_screenshots,
                "Keep the screenshots of successes too (left out by default)");
  cmd->add_option("--title", r.report.title, "The report's title")->capture_default_str();
  cmd->add_flag("-q,--quiet", opts.quiet, "Only errors on stderr");
  return cmd;
}

int run_report_command(const ReportCommandOptions& opts) {
  if (opts.quiet) {
    core::set_verbosity(core::Verbosity::quiet);
  }
  return runner::write_report(opts.report);
}

} // namespace cli

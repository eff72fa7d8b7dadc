#include "runner/progress_view.h"

#include "core/clock.h"
#include "core/log.h"
#include "core/tracker.h"

namespace runner {

void show_progress(EngineConfig::ProgressMode mode,
                   core::Progress& progress,
                   std::mutex& mutex,
                   const std::function<void(core::Progress&)>& update,
                   std::stop_token stop) {
  const bool live = mode == EngineConfig::ProgressMode::live && core::stderr_is_tty() &&
                    core::verbosity() != core::Verbosity::quiet;
  const bool json = mode == EngineConfig::ProgressMode::json;
  if (!live && !json) {
    return;
  }
  const auto period = live ? std::chrono::milliseconds(200) : std::chrono::milliseconds(2000);
  auto json_line = [&](bool final) {
    core::Json j = {{"event", "progress"}};
    j.update(progress.status_json(core::Clock::now()));
    j["final"] = final;
    core::log_json_line(core::dump_line(j));
  };
  while (core::sleep_for(period, stop)) {
    std::lock_guard lock(mutex);
    update(progress);
    if (live) {
      // The terminal's width is read at each redraw: a resize counts within 0.2 s.
      core::set_live_status(progress.status_line(core::Clock::now(), core::terminal_columns()));
    } else {
      json_line(false);
    }
  }
  if (live) {
    core::set_live_status("");
  } else {
    // The last counts, so a run shorter than the period says something too.
    std::lock_guard lock(mutex);
    update(progress);
    json_line(true);
  }
}

void print_summary(core::Progress& progress, std::mutex& mutex) {
  if (core::verbosity() == core::Verbosity::quiet) {
    return;
  }
  std::lock_guard lock(mutex);
  for (const std::string& line : progress.summary_lines(core::Clock::now())) {
    core::log_info(line);
  }
}

} // namespace runner

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
  while (core::sleep_for(period, stop)) {
    std::lock_guard lock(mutex);
    update(progress);
    if (live) {
      core::set_live_status(progress.status_line(core::Clock::now()));
    } else {
      core::log_always("progress: " + core::dump_line(progress.status_json(core::Clock::now())));
    }
  }
  if (live) {
    core::set_live_status("");
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

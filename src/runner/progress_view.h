#pragma once

#include "core/progress.h"
#include "runner/engine_config.h"

#include <functional>
#include <mutex>
#include <stop_token>

namespace runner {

// Shows a run's progress on stderr until `stop`: a live status line every 200 ms when stderr is
// a terminal (not with -q), or with ProgressMode::json a status object every 2 s. `update`
// refreshes the totals (called with `mutex` held) before each showing.
void show_progress(EngineConfig::ProgressMode mode,
                   core::Progress& progress,
                   std::mutex& mutex,
                   const std::function<void(core::Progress&)>& update,
                   std::stop_token stop);

// The end-of-run summary on stderr (counts by status, wall time, slowest, first failures).
void print_summary(core::Progress& progress, std::mutex& mutex);

} // namespace runner

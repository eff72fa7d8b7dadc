#pragma once

#include "core/json.h"

#include <chrono>
#include <stop_token>
#include <string>

namespace runner {

// What happens to a result line's screenshot and downloads before it is printed.
struct ResultOptions {
  // --screenshots DIR: final_screenshot -> DIR/<task_id>.png, from the inline field or else the
  // final_screenshot.png entry of downloads (as the cloud sends it)
  std::string screenshots_dir;
  // --no-screenshots: drop final_screenshot and the final_screenshot.png downloads
  bool no_screenshots = false;
  std::string downloads_dir; // --downloads DIR: fetch each download into DIR/<task_id>/
  std::chrono::milliseconds download_timeout{std::chrono::seconds(300)}; // each, in total
  // The listener took only callbacks that carried the run's token, callback key or credentials
  // (or the embedded emulator's): their download URLs may be http and name any host. Otherwise
  // only https URLs to public addresses are fetched (core/address_policy.h).
  bool authenticated_callbacks = false;
};

// True when `opts` changes anything (so the hook can be skipped otherwise).
bool changes_results(const ResultOptions& opts);

// Applies `opts` to one line. Never throws for a problem of one line: a screenshot that is not
// base64 stays inline (with a warning); a failed download is reported in its entry
// (download_error). Once `stop` is requested the download in progress ends and the line's
// other downloads are not started: their entries say "interrupted".
void finish_result_line(core::Json& line, const ResultOptions& opts, std::stop_token stop = {});

} // namespace runner

#include "runner/results.h"

#include "core/error.h"
#include "core/files.h"
#include "core/log.h"
#include "net/downloader.h"

#include <fmt/format.h>

namespace runner {

using core::Json;

bool changes_results(const ResultOptions& opts) {
  return opts.no_screenshots || !opts.screenshots_dir.empty() || !opts.downloads_dir.empty();
}

namespace {

// The task id as a file name; network text never becomes a path unsanitised.
std::string task_file_name(const Json& line) {
  auto it = line.find("task_id");
  std::string id = it != line.end() && it->is_string() ? it->get<std::string>() : "unknown-task";
  return core::sanitize_file_name(id);
}

void save_screenshot(Json& line, const ResultOptions& opts) {
  auto it = line.find("final_screenshot");
  if (it == line.end() || !it->is_string()) {
    return; // null or absent stays as it was
  }
  auto png = core::base64_decode(it->get_ref<const std::string&>());
  if (!png) {
    core::log_warning(
        fmt::format("task {}: final_screenshot is not base64: kept inline", task_file_name(line)));
    return;
  }
  std::string path = fmt::format("{}/{}.png", opts.screenshots_dir, task_file_name(line));
  try {
    core::write_file_atomic(path, *png);
    *it = path;
  } catch (const core::Error& e) {
    core::log_warning(fmt::format("{}: screenshot kept inline", e.what()));
  }
}

// The service's worker uploads the final screenshot through the downloads pipeline.
bool is_screenshot_entry(const Json& entry) {
  auto it = entry.is_object() ? entry.find("filename") : entry.end();
  return entry.is_object() && it != entry.end() && it->is_string() &&
         it->get_ref<const std::string&>() == "final_screenshot.png";
}

void drop_screenshot_entries(Json& line) {
  for (const char* list : {"downloads", "downloads_with_metadata"}) {
    auto it = line.find(list);
    if (it != line.end() && it->is_array()) {
      Json kept = Json::array();
      for (auto& entry : *it) {
        if (!is_screenshot_entry(entry)) {
          kept.push_back(std::move(entry));
        }
      }
      *it = std::move(kept);
    }
  }
}

// No inline screenshot: the final_screenshot.png download, fetched to DIR/<task_id>.png.
void fetch_screenshot(Json& line, const ResultOptions& opts, std::stop_token stop) {
  auto list = line.find("downloads");
  if (list == line.end() || !list->is_array()) {
    return;
  }
  for (const Json& entry : *list) {
    if (!is_screenshot_entry(entry) || !entry.contains("url") || !entry["url"].is_string()) {
      continue;
    }
    std::string path = fmt::format("{}/{}.png", opts.screenshots_dir, task_file_name(line));
    std::string error = net::download_file(entry["url"].get<std::string>(),
                                           path,
                                           opts.download_timeout,
                                           core::DownloadPolicy{opts.authenticated_callbacks},
                                           stop);
    if (error.empty()) {
      line["final_screenshot"] = path;
    } else {
      core::log_warning(
          fmt::format("task {}: final_screenshot.png: {}", task_file_name(line), error));
    }
    return;
  }
}

void fetch_downloads(Json& line, const ResultOptions& opts, std::stop_token stop) {
  auto it = line.find("downloads");
  if (it == line.end() || !it->is_array() || it->empty()) {
    return;
  }
  std::string dir = fmt::format("{}/{}", opts.downloads_dir, task_file_name(line));
  int not_started = 0;
  for (auto& entry : *it) {
    if (!entry.is_object() || !entry.contains("url") || !entry["url"].is_string()) {
      continue;
    }
    if (stop.stop_requested()) {
      entry["download_error"] = "interrupted";
      ++not_started;
      continue;
    }
    std::string name = entry.contains("filename") && entry["filename"].is_string()
                           ? entry["filename"].get<std::string>()
                           : "download";
    std::string path = fmt::format("{}/{}", dir, core::sanitize_file_name(name));
    std::string error;
    try {
      core::make_directories(dir);
      error = net::download_file(entry["url"].get<std::string>(),
                                 path,
                                 opts.download_timeout,
                                 core::DownloadPolicy{opts.authenticated_callbacks},
                                 stop);
    } catch (const core::Error& e) {
      error = e.what();
    }
    if (error.empty()) {
      entry["path"] = path;
    } else {
      entry["download_error"] = error;
      core::log_warning(fmt::format("task {}: {}: {}", task_file_name(line), name, error));
    }
  }
  if (not_started > 0) {
    core::log_warning(fmt::format("task {}: {} download{} not started (interrupted)",
                                  task_file_name(line),
                                  not_started,
                                  not_started == 1 ? "" : "s"));
  }
}

} // namespace

void finish_result_line(Json& line, const ResultOptions& opts, std::stop_token stop) {
  if (opts.no_screenshots) {
    line.erase("final_screenshot");
    drop_screenshot_entries(line);
  } else if (!opts.screenshots_dir.empty()) {
    auto inline_shot = line.find("final_screenshot");
    if (inline_shot != line.end() && inline_shot->is_string()) {
      save_screenshot(line, opts);
    } else {
      fetch_screenshot(line, opts, stop);
    }
  }
  if (!opts.downloads_dir.empty()) {
    fetch_downloads(line, opts, stop);
  }
}

} // namespace runner

#pragma once

// The emulator's callback payloads, screenshots and download files: pure data, no sockets.

#include "core/json.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace emulator {

// How an emulated task ends.
enum class TaskOutcome { success, failed, killed };

// The payload's `status` value for an outcome.
const char* outcome_status(TaskOutcome outcome);

// A serialized callback payload, kept in three parts so that every task shares one (possibly
// megabytes large) screenshot string: the bytes are head + *screenshot + tail.
struct CallbackBody {
  std::string head;
  std::shared_ptr<const std::string> screenshot; // never null
  std::string tail;

  size_t size() const { return head.size() + screenshot->size() + tail.size(); }
  // The whole payload as one string (a copy: use for rare answers, not per delivery).
  std::string text() const;
};

// The payload's `error` for an outcome of `request`: empty for success.
std::string outcome_error(const core::Json& request, TaskOutcome outcome);

// What every payload of one emulator shares.
struct PayloadContext {
  std::shared_ptr<const std::string> screenshot; // base64 PNG for final_screenshot
  std::shared_ptr<const std::string> png;        // the same PNG, served as final_screenshot.png
  int downloads = 0;                             // files listed in each success payload
  std::string files_base;                        // "http://HOST:PORT", for download URLs
  bool inline_screenshot = false;                // the final_screenshot field
  bool screenshot_download = true;               // a final_screenshot.png entry of downloads
};

// The name under which the screenshot is a download.
inline constexpr const char* k_screenshot_file = "final_screenshot.png";

// What a script made of one task, in place of the built-in output and error.
struct ScriptedResult {
  std::optional<core::Json> output_data; // a success's output_data
  std::optional<std::string> error;      // a failure's error (not a kill's)
};

// The payload's `error` for an outcome: the scripted one for a failure when there is one.
std::string
outcome_error(const core::Json& request, TaskOutcome outcome, const ScriptedResult& scripted);

// The payload the real service would send for `request` (an already validated inference
// request body), with every field in the service's order. Success lists `downloads` files;
// failed and killed carry an error, and a failure the partial output of its last attempt. Each
// lists the screenshot as a download and/or carries it inline, as `context` says.
CallbackBody make_callback_body(const core::Json& request,
                                const std::string& task_id,
                                TaskOutcome outcome,
                                const PayloadContext& context,
                                const ScriptedResult& scripted = {});

// The base64 text of a valid PNG whose decoded size is exactly `bytes` (padding in a tEXt
// chunk; it renders as 1x1), or of the built-in 70-byte PNG when `bytes` is 0 or too small
// to hold the padding chunk (below 90). Costly for large sizes: build it once.
std::string screenshot_base64(size_t bytes);

// The name of download `index` (1-based): "report-<index>.csv".
std::string download_name(int index);
// The download index named by `filename` when it is "report-<i>.csv" with 1 <= i <= count
// (no leading zeros), else 0.
int download_index(std::string_view filename, int count);
// The small CSV served for download `index` of `task_id`; the same inputs give the same bytes.
std::string download_csv(const std::string& task_id, int index);

} // namespace emulator

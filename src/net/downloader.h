#pragma once

#include "core/address_policy.h"

#include <chrono>
#include <stop_token>
#include <string>

namespace net {

// Fetches `url` (http or https, following up to 10 redirects) into `path`, streaming the body
// through a temporary file next to it (memory stays flat whatever the size; the temporary file
// is removed on any failure). `policy` says which URLs and redirects may be fetched
// (core/address_policy.h): a redirect to this machine or the local network is never followed,
// and the address checked is the one connected to. `timeout` bounds the whole download, from
// connecting to the last byte; `stop` ends it at once. Returns "" on success, else one line:
// "download refused: redirect to 127.0.0.1 (loopback address)", "download timed out after N s
// (X bytes received)", "download interrupted", "download failed: HTTP 404", "cannot write FILE:
// why", ... Never throws.
std::string download_file(const std::string& url,
                          const std::string& path,
                          std::chrono::milliseconds timeout,
                          const core::DownloadPolicy& policy,
                          std::stop_token stop = {});

} // namespace net

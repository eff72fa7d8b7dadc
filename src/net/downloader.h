#pragma once

#include <chrono>
#include <string>

namespace net {

// Fetches `url` (http or https, following redirects) into `path` through a temporary file.
// Returns "" on success, else what went wrong. Never throws.
std::string
download_file(const std::string& url, const std::string& path, std::chrono::milliseconds timeout);

} // namespace net

#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace net {

// POSTs a JSON body to `url` with extra headers; returns "" on a 2xx answer, else what went
// wrong (the connection error or the HTTP status). Never throws.
std::string post_json(const std::string& url,
                      const std::string& body,
                      const std::vector<std::pair<std::string, std::string>>& headers,
                      std::chrono::milliseconds timeout);

} // namespace net

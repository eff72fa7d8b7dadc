#pragma once

#include <string>

namespace net {

// "cpp-httplib X, OpenSSL Y": the network libraries this binary was built with and runs on.
std::string network_library_versions();

} // namespace net

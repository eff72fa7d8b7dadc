#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace core {

// Objects keep their keys in the order they were written or received, so a callback payload is
// printed in the shape the service sent it.
using Json = nlohmann::ordered_json;

// One-line JSON text; invalid UTF-8 from the network is replaced, never a throw.
inline std::string dump_line(const Json& j) {
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

} // namespace core

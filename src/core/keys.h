#pragma once

#include "core/json.h"
#include "core/token.h" // random_token and constant_time_equal lived here; callers still find them

#include <string>
#include <string_view>
#include <unordered_map>

namespace core {

// The content hash of one input: SHA-256 over the canonical JSON (sorted keys) of the endpoint
// and the parameters, first 16 bytes as hex. The same input in any file order hashes the same.
std::string content_hash(const std::string& endpoint, const Json& params, const Json& secure);

// Gives each input its key: content hash + occurrence number among identical inputs, so the 2nd
// identical line is a different input and a rerun maps it to the same key. Not thread-safe.
class InputKeys {
public:
  std::string next(const std::string& hash);

private:
  std::unordered_map<std::string, size_t> m_seen;
};

} // namespace core

#pragma once

#include "core/json.h"

#include <string>
#include <string_view>
#include <unordered_map>

namespace core {

// A per-run secret for callback URLs: 128 random bits from OpenSSL, as 32 hex digits.
// Throws core::Error if the system cannot supply randomness.
std::string random_token();

// Compares two secrets in time that depends only on their lengths (CRYPTO_memcmp).
bool constant_time_equal(std::string_view a, std::string_view b);

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

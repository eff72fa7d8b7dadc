#pragma once

// Per-run secrets: random tokens and their comparison. Depends on nothing of ours, so both
// json (its lift marker) and keys can use it.

#include <string>
#include <string_view>

namespace core {

// A per-run secret for callback URLs: 128 random bits from OpenSSL, as 32 hex digits.
// Throws core::Error if the system cannot supply randomness.
std::string random_token();

// Compares two secrets in time that depends only on their lengths (CRYPTO_memcmp).
bool constant_time_equal(std::string_view a, std::string_view b);

// `size` bytes as lowercase hex.
std::string to_hex(const unsigned char* data, size_t size);

} // namespace core

#pragma once

#include <string>

namespace cli {

// The API key from, in order: `key` (--api-key), `key_file` (--api-key-file), OPTEXITY_API_KEY.
// Empty when none is given. A key file that is unreadable, empty or multi-line is a core::Error.
std::string resolve_api_key(const std::string& key, const std::string& key_file);

// A secret from, in order: `value` (a flag), `file` (its first and only line), the environment
// variable `env` (may be null). `file_flag` names the flag in errors.
std::string resolve_secret(const std::string& value,
                           const std::string& file,
                           const char* env,
                           const char* file_flag);

} // namespace cli

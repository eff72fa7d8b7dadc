#pragma once

#include <string>

namespace cli {

// The API key from, in order: `key` (--api-key), `key_file` (--api-key-file), OPTEXITY_API_KEY,
// then the credentials of `optexity-chain login`: profile `profile` (--profile), else
// $OPTEXITY_PROFILE, else "default". Empty when none is given. A key file that is unreadable,
// empty or multi-line, and a profile named but not stored, are a core::Error.
std::string resolve_api_key(const std::string& key,
                            const std::string& key_file,
                            const std::string& profile = "");

// The key stored for a profile (`profile`, else $OPTEXITY_PROFILE, else "default"); "" when the
// default profile is not stored.
std::string profile_key(const std::string& profile);

// A secret from, in order: `value` (a flag), `file` (its first and only line), the environment
// variable `env` (may be null). `file_flag` names the flag in errors.
std::string resolve_secret(const std::string& value,
                           const std::string& file,
                           const char* env,
                           const char* file_flag);

} // namespace cli

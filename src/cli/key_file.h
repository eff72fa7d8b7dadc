#pragma once

#include <string>

namespace cli {

// The API key from, in order: `key` (--api-key), `key_file` (--api-key-file), OPTEXITY_API_KEY.
// Empty when none is given. A key file that is unreadable, empty or multi-line is a core::Error.
std::string resolve_api_key(const std::string& key, const std::string& key_file);

} // namespace cli

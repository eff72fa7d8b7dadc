#pragma once

// The credentials file of `optexity-chain login` (network-free): named profiles, each an API key.
//
//   # optexity-chain credentials: written by `optexity-chain login`; keep it private (0600)
//   [default]
//   api_key = ...
//
// Parse and format only; where it lives and its mode are the caller's.

#include <map>
#include <string>
#include <string_view>

namespace core {

using Profiles = std::map<std::string, std::string>; // profile name -> API key

// Reads the file's text; a line that is neither a comment, a [profile] header nor
// `api_key = VALUE` inside a profile is a core::Error naming `name:line` (never the key).
Profiles parse_credentials(std::string_view text, const std::string& name);
std::string format_credentials(const Profiles& profiles);

// A profile name: letters, digits, '-', '_' and '.', at most 64; "" when acceptable, else why.
std::string check_profile_name(std::string_view name);

// $XDG_CONFIG_HOME/optexity-chain/credentials, else $HOME/.config/optexity-chain/credentials.
// Empty when neither variable is set.
std::string credentials_path();

} // namespace core

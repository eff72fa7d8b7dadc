#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace cli {

struct LoginCommandOptions {
  std::string profile = "default";
  std::string api_url = "https://api.optexity.com";
  bool no_verify = false;
  bool quiet = false;
};

// `optexity-chain login [--profile NAME]`: reads an API key (from the terminal without echo, or
// the first line of stdin), checks it with the service's validate_api_key where it answers, and
// stores it in the credentials file (core::credentials_path(), mode 0600, directory 0700).
CLI::App* register_login_command(CLI::App& app, LoginCommandOptions& opts);
int run_login_command(const LoginCommandOptions& opts);

// `optexity-chain logout [--profile NAME]`: removes the profile (exit 1 when it is not stored).
CLI::App* register_logout_command(CLI::App& app, LoginCommandOptions& opts);
int run_logout_command(const LoginCommandOptions& opts);

} // namespace cli

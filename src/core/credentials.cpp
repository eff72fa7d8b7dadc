#include "core/credentials.h"

#include "core/error.h"

#include <fmt/format.h>

#include <cstdlib>

namespace core {

namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

} // namespace

std::string check_profile_name(std::string_view name) {
  if (name.empty()) {
    return "a profile name cannot be empty";
  }
  if (name.size() > 64) {
    return "a profile name has at most 64 characters";
  }
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '_' || c == '.')) {
      return fmt::format("a profile name has letters, digits, '-', '_' and '.' only (got \"{}\")",
                         name);
    }
  }
  return "";
}

Profiles parse_credentials(std::string_view text, const std::string& name) {
  Profiles profiles;
  std::string current;
  size_t line_no = 0;
  while (!text.empty()) {
    auto end = text.find('\n');
    std::string_view line = trim(text.substr(0, end));
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    ++line_no;
    if (line.empty() || line.front() == '#' || line.front() == ';') {
      continue;
    }
    auto bad = [&](std::string_view why) {
      return Error(
          fmt::format("{}:{}: {} (`optexity-chain login` rewrites it)", name, line_no, why));
    };
    if (line.front() == '[') {
      if (line.back() != ']') {
        throw bad("a profile header is [NAME]");
      }
      current = std::string(trim(line.substr(1, line.size() - 2)));
      if (std::string why = check_profile_name(current); !why.empty()) {
        throw bad(why);
      }
      continue;
    }
    auto eq = line.find('=');
    if (eq == std::string_view::npos || trim(line.substr(0, eq)) != "api_key") {
      throw bad("expected `api_key = KEY` or a [profile] header");
    }
    if (current.empty()) {
      throw bad("api_key before any [profile] header");
    }
    std::string_view key = trim(line.substr(eq + 1));
    if (key.empty()) {
      throw bad(fmt::format("profile \"{}\" has an empty api_key", current));
    }
    profiles[current] = std::string(key);
  }
  return profiles;
}

std::string format_credentials(const Profiles& profiles) {
  std::string text =
      "# optexity-chain credentials: written by `optexity-chain login`; keep it private (0600)\n";
  for (const auto& [profile, key] : profiles) {
    text += fmt::format("[{}]\napi_key = {}\n", profile, key);
  }
  return text;
}

std::string credentials_path() {
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  if (xdg != nullptr && xdg[0] == '/') {
    return std::string(xdg) + "/optexity-chain/credentials";
  }
  const char* home = std::getenv("HOME");
  if (home != nullptr && home[0] != '\0') {
    return std::string(home) + "/.config/optexity-chain/credentials";
  }
  return "";
}

} // namespace core

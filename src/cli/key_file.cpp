#include "cli/key_file.h"

#include "core/credentials.h"
#include "core/error.h"
#include "core/files.h"
#include "core/log.h"
#include "core/redact.h"
#include "core/text.h"

#include <fmt/format.h>

#include <cstdlib>
#include <optional>
#include <sys/stat.h>

namespace cli {

namespace {

std::string read_key_file(const std::string& path, const char* flag) {
  std::string why;
  auto text = core::try_read_file(path, &why);
  if (!text) {
    throw core::Error(fmt::format("{}: cannot open {}: {}", flag, path, why));
  }
  std::string key(core::trim(*text));
  if (key.empty()) {
    throw core::Error(fmt::format("{}: {} is empty", flag, path));
  }
  if (key.find_first_of("\r\n") != std::string::npos) {
    throw core::Error(fmt::format("{}: {} holds more than one line", flag, path));
  }
  return key;
}

} // namespace

namespace {

std::string
resolve(const std::string& value, const std::string& file, const char* env, const char* file_flag) {
  if (!value.empty()) {
    return value;
  }
  if (!file.empty()) {
    return read_key_file(file, file_flag);
  }
  if (env) {
    if (const char* text = std::getenv(env); text && *text) {
      return text;
    }
  }
  return {};
}

} // namespace

std::string resolve_secret(const std::string& value,
                           const std::string& file,
                           const char* env,
                           const char* file_flag) {
  std::string secret = resolve(value, file, env, file_flag);
  // Registered as soon as it is known: from here on it is never shown or stored.
  core::add_secret(secret);
  if (auto colon = secret.find(':'); colon != std::string::npos) {
    // user:password (--callback-basic-file): also its password and its Basic form.
    core::add_secret(secret.substr(colon + 1));
    core::add_secret(core::base64_encode(secret));
  }
  return secret;
}

std::string profile_key(const std::string& profile) {
  const char* env = std::getenv("OPTEXITY_PROFILE");
  const bool named = !profile.empty() || (env != nullptr && *env != '\0');
  const std::string name = !profile.empty() ? profile : named ? std::string(env) : "default";
  const std::string path = core::credentials_path();
  std::string why;
  auto text = path.empty() ? std::nullopt : core::try_read_file(path, &why);
  if (!text) {
    if (named) {
      throw core::Error(
          fmt::format("profile \"{}\": no credentials file{}{}: `optexity-chain login "
                      "--profile {}` stores one",
                      name,
                      path.empty() ? "" : " at ",
                      path,
                      name));
    }
    return "";
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    core::log_warning(fmt::format(
        "{} can be read by other users (mode {:o}): chmod 600 {}", path, st.st_mode & 0777, path));
  }
  core::Profiles profiles = core::parse_credentials(*text, path);
  auto it = profiles.find(name);
  if (it == profiles.end()) {
    if (named) {
      throw core::Error(fmt::format("profile \"{}\" is not in {}: `optexity-chain login --profile "
                                    "{}` adds it",
                                    name,
                                    path,
                                    name));
    }
    return "";
  }
  return it->second;
}

std::string
resolve_api_key(const std::string& key, const std::string& key_file, const std::string& profile) {
  if (!profile.empty()) {
    if (std::string why = core::check_profile_name(profile); !why.empty()) {
      throw core::Error("--profile: " + why);
    }
  }
  std::string found = resolve_secret(key, key_file, "OPTEXITY_API_KEY", "--api-key-file");
  if (found.empty()) {
    found = profile_key(profile);
    core::add_secret(found);
  }
  return found;
}

} // namespace cli

#include "cli/key_file.h"

#include "core/error.h"
#include "core/files.h"
#include "core/redact.h"
#include "core/text.h"

#include <fmt/format.h>

#include <cstdlib>

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

std::string resolve_api_key(const std::string& key, const std::string& key_file) {
  return resolve_secret(key, key_file, "OPTEXITY_API_KEY", "--api-key-file");
}

} // namespace cli

#include "cli/key_file.h"

#include "core/error.h"

#include <fmt/format.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace cli {

namespace {

std::string read_key_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw core::Error(
        fmt::format("--api-key-file: cannot open {}: {}", path, std::strerror(errno)));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  std::string key = ss.str();
  auto is_space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  while (!key.empty() && is_space(key.back())) {
    key.pop_back();
  }
  size_t start = 0;
  while (start < key.size() && is_space(key[start])) {
    ++start;
  }
  key.erase(0, start);
  if (key.empty()) {
    throw core::Error(fmt::format("--api-key-file: {} is empty", path));
  }
  if (key.find_first_of("\r\n") != std::string::npos) {
    throw core::Error(fmt::format("--api-key-file: {} holds more than one line", path));
  }
  return key;
}

} // namespace

std::string resolve_api_key(const std::string& key, const std::string& key_file) {
  if (!key.empty()) {
    return key;
  }
  if (!key_file.empty()) {
    return read_key_file(key_file);
  }
  if (const char* env = std::getenv("OPTEXITY_API_KEY"); env && *env) {
    return env;
  }
  return {};
}

} // namespace cli

#include "core/keys.h"

#include "core/error.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>

namespace core {

std::string content_hash(const std::string& endpoint, const Json& params, const Json& secure) {
  // nlohmann::json (not ordered) sorts keys: a canonical form, whatever order the input had.
  nlohmann::json canonical = {{"endpoint_name", endpoint},
                              {"input_parameters", nlohmann::json::parse(dump_line(params))}};
  if (!secure.is_null()) {
    canonical["secure_parameters"] = nlohmann::json::parse(dump_line(secure));
  }
  std::string text = canonical.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha256(), nullptr) != 1) {
    throw Error("SHA-256 failed (OpenSSL EVP_Digest)");
  }
  return to_hex(digest, 16);
}

std::string InputKeys::next(const std::string& hash) {
  size_t occurrence = ++m_seen[hash];
  return fmt::format("{}-{}", hash, occurrence);
}

} // namespace core

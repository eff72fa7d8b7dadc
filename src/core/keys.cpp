#include "core/keys.h"

#include "core/error.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

namespace core {

namespace {

std::string to_hex(const unsigned char* data, size_t size) {
  std::string out;
  out.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    out += fmt::format("{:02x}", data[i]);
  }
  return out;
}

} // namespace

std::string random_token() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    throw Error("cannot get random bytes for the callback token (OpenSSL RAND_bytes failed)");
  }
  return to_hex(bytes, sizeof bytes);
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

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

#include "core/token.h"

#include "core/error.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

namespace core {

std::string to_hex(const unsigned char* data, size_t size) {
  std::string out;
  out.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    out += fmt::format("{:02x}", data[i]);
  }
  return out;
}

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

} // namespace core

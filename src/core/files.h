#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace core {

// A name from the network made safe as one path component: letters, digits, '.', '-', '_'
// kept, anything else '_'; never empty, never "." or "..", at most 200 bytes.
std::string sanitize_file_name(std::string_view name);

// Decodes standard base64 (OpenSSL's decoder; white space and missing padding tolerated).
// Nothing when the text is not base64.
std::optional<std::string> base64_decode(std::string_view text);

// Encodes standard base64 with padding (OpenSSL's encoder).
std::string base64_encode(std::string_view data);

// Creates a directory and its parents (mode 0755 for new ones). Throws core::Error naming it.
void make_directories(const std::string& path);

// Writes `data` to `path` through a temporary file in the same directory and a rename, so a
// reader never sees half a file. Throws core::Error naming the path.
void write_file_atomic(const std::string& path, std::string_view data);

} // namespace core

#pragma once

#include "core/json.h"

#include <string>
#include <string_view>

namespace core {

// The one redaction of the program. Secrets (API key, callback key, Basic credentials, the
// run's callback token, every string under a request's secure_parameters) are registered once,
// where the run is configured, and every place that shows or stores text (stderr lines, stdout
// lines, the journal, a recording, --dry-run, service errors) passes it through redact(), which
// writes each occurrence as `***`. Thread-safe; with nothing registered, redact() copies.

inline constexpr std::string_view k_redacted = "***";
// Shorter values are not searched for in free text (masking a short common word everywhere
// would garble every line); they are still masked where their place is known.
inline constexpr size_t k_min_secret_size = 6;

// Registers `secret` (and its JSON-escaped form when different). Empty and short values are
// ignored. Registering a value twice is harmless.
void add_secret(std::string_view secret);

// Registers the secret material of `secure` (a request's secure_parameters): every string leaf
// but those naming where a secret is kept (vault_name, item_name, field_name, secret_name,
// region_name, key, type), which are masked only where a request is shown (redact(Json)).
void add_secure_secrets(const Json& secure);

// Whether any secret is registered (a caller may skip a copy of a large text when none is).
bool has_secrets();

// Forgets every secret (for tests).
void clear_secrets();

// `text` with every occurrence of every registered secret replaced by `***` (the longest secret
// wins where two start at the same place).
std::string redact(std::string_view text);
inline std::string redact(const std::string& text) {
  return redact(std::string_view(text));
}
inline std::string redact(const char* text) {
  return redact(std::string_view(text));
}

// `value` with every registered secret replaced in its strings and keys, and masked by place:
// every string under a "secure_parameters" key and the values of "task_callback_api_key",
// "x-api-key" and "authorization" become `***`, whatever their length.
Json redact(const Json& value);

// `value` with every string leaf (at any depth) replaced by `***`: secure parameters stored
// where their place is not a "secure_parameters" key.
Json masked(const Json& value);

// A service answer's body for a message or a record: as JSON when it parses (redacted by place
// and by value, then dumped), else as text.
std::string redact_body(std::string_view body);

} // namespace core

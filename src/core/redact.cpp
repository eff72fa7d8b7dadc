#include "core/redact.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace core {

namespace {

// Secrets indexed by their first four bytes: one scan of the text looks each position up once,
// so the cost does not grow with the number of secrets (a run with a TOTP seed per input
// registers thousands).
struct Registry {
  std::shared_mutex mutex;
  std::unordered_set<std::string> all;
  std::unordered_map<uint32_t, std::vector<std::string>> by_prefix; // longest first
  std::atomic<bool> any{false};
};

Registry& registry() {
  static Registry r;
  return r;
}

uint32_t prefix_of(const char* p) {
  uint32_t v = 0;
  std::memcpy(&v, p, sizeof v);
  return v;
}

void add_one(Registry& r, std::string secret) {
  if (secret.size() < k_min_secret_size || !r.all.insert(secret).second) {
    return;
  }
  auto& bucket = r.by_prefix[prefix_of(secret.data())];
  bucket.push_back(std::move(secret));
  std::stable_sort(bucket.begin(), bucket.end(), [](const auto& a, const auto& b) {
    return a.size() > b.size();
  });
  r.any.store(true);
}

bool is_masked_key(const std::string& key) {
  return key == "task_callback_api_key" || key == "x-api-key" || key == "authorization" ||
         key == "Authorization" || key == "X-Api-Key";
}

Json mask_all(const Json& value) {
  if (value.is_string()) {
    return std::string(k_redacted);
  }
  if (value.is_object()) {
    Json out = Json::object();
    for (const auto& [key, item] : value.items()) {
      out[redact(key)] = mask_all(item);
    }
    return out;
  }
  if (value.is_array()) {
    Json out = Json::array();
    for (const auto& item : value) {
      out.push_back(mask_all(item));
    }
    return out;
  }
  return value;
}

} // namespace

void add_secret(std::string_view secret) {
  if (secret.size() < k_min_secret_size) {
    return;
  }
  std::string escaped = Json(std::string(secret)).dump();
  escaped = escaped.substr(1, escaped.size() - 2);
  Registry& r = registry();
  std::unique_lock lock(r.mutex);
  add_one(r, std::string(secret));
  if (escaped != secret) {
    add_one(r, std::move(escaped));
  }
}

namespace {

// The fields of a secure parameter that name where a secret is kept (a 1Password vault, an AWS
// secret's name and region), not the secret: masked where a request is shown, but not searched
// for in every line (a vault named "vendors" would mask a file vendors.ndjson everywhere).
bool names_a_place(const std::string& key) {
  static const char* const places[] = {
      "vault_name", "item_name", "field_name", "secret_name", "region_name", "key", "type"};
  return std::find(std::begin(places), std::end(places), key) != std::end(places);
}

void collect_secret_material(const Json& value,
                             const std::string& key,
                             std::vector<std::string>& out) {
  if (value.is_string()) {
    if (!names_a_place(key)) {
      out.push_back(value.get<std::string>());
    }
  } else if (value.is_object()) {
    for (const auto& [k, item] : value.items()) {
      collect_secret_material(item, k, out);
    }
  } else if (value.is_array()) {
    for (const auto& item : value) {
      collect_secret_material(item, key, out);
    }
  }
}

} // namespace

void add_secure_secrets(const Json& secure) {
  std::vector<std::string> leaves;
  collect_secret_material(secure, {}, leaves);
  for (const auto& leaf : leaves) {
    add_secret(leaf);
  }
}

bool has_secrets() {
  return registry().any.load(std::memory_order_relaxed);
}

void clear_secrets() {
  Registry& r = registry();
  std::unique_lock lock(r.mutex);
  r.all.clear();
  r.by_prefix.clear();
  r.any.store(false);
}

std::string redact(std::string_view text) {
  Registry& r = registry();
  if (!r.any.load(std::memory_order_relaxed) || text.size() < k_min_secret_size) {
    return std::string(text);
  }
  std::shared_lock lock(r.mutex);
  std::string out;
  size_t copied = 0; // text[copied, i) is still to be copied
  size_t i = 0;
  while (i + k_min_secret_size <= text.size()) {
    auto it = r.by_prefix.find(prefix_of(text.data() + i));
    const std::string* hit = nullptr;
    if (it != r.by_prefix.end()) {
      for (const auto& secret : it->second) {
        if (text.substr(i, secret.size()) == secret) {
          hit = &secret;
          break;
        }
      }
    }
    if (!hit) {
      ++i;
      continue;
    }
    if (out.empty()) {
      out.reserve(text.size());
    }
    out.append(text.substr(copied, i - copied));
    out.append(k_redacted);
    i += hit->size();
    copied = i;
  }
  if (copied == 0) {
    return std::string(text);
  }
  out.append(text.substr(copied));
  return out;
}

Json masked(const Json& value) {
  return mask_all(value);
}

Json redact(const Json& value) {
  if (value.is_string()) {
    return redact(value.get_ref<const std::string&>());
  }
  if (value.is_object()) {
    Json out = Json::object();
    for (const auto& [key, item] : value.items()) {
      if (key == "secure_parameters") {
        out[key] = mask_all(item);
      } else if (is_masked_key(key) && item.is_string() &&
                 !item.get_ref<const std::string&>().empty()) {
        out[key] = std::string(k_redacted);
      } else {
        out[redact(key)] = redact(item);
      }
    }
    return out;
  }
  if (value.is_array()) {
    Json out = Json::array();
    for (const auto& item : value) {
      out.push_back(redact(item));
    }
    return out;
  }
  return value;
}

std::string redact_body(std::string_view body) {
  Json doc = parse_json(body);
  if (doc.is_discarded() || !doc.is_structured()) {
    return redact(body);
  }
  return dump_line(redact(doc));
}

} // namespace core

#include "emulator/request_model.h"

#include <array>
#include <string>

namespace emulator {

namespace {

core::Json problem(const std::string& name, size_t index, const std::string& msg) {
  return core::Json{{"type", "value_error"},
                    {"loc", core::Json::array({"body", "secure_parameters", name, index})},
                    {"msg", "Value error, " + msg}};
}

bool set(const core::Json& entry, const char* key) {
  auto it = entry.find(key);
  return it != entry.end() && !it->is_null();
}

} // namespace

core::Json secure_parameter_problems(const core::Json& request) {
  core::Json problems = core::Json::array();
  auto secure = request.is_object() ? request.find("secure_parameters") : request.end();
  if (!request.is_object() || secure == request.end() || !secure->is_object()) {
    return problems;
  }
  static constexpr std::array<const char*, 3> k_kinds = {
      "onepassword", "amazon_secrets_manager", "totp"};
  for (const auto& [name, list] : secure->items()) {
    if (!list.is_array()) {
      continue;
    }
    for (size_t i = 0; i < list.size(); ++i) {
      const core::Json& entry = list[i];
      if (!entry.is_object()) {
        continue;
      }
      int kinds = 0;
      for (const char* kind : k_kinds) {
        kinds += set(entry, kind) ? 1 : 0;
      }
      if (kinds != 1) {
        problems.push_back(problem(
            name, i, "exactly one of onepassword, amazon_secrets_manager or totp must be set"));
        continue;
      }
      for (const char* kind : {"onepassword", "amazon_secrets_manager"}) {
        if (!set(entry, kind) || !entry[kind].is_object()) {
          continue;
        }
        const core::Json& ref = entry[kind];
        const bool totp = ref.contains("type") && ref["type"] == "totp_secret";
        if (set(ref, "digits") && !totp) {
          problems.push_back(problem(name, i, "digits is allowed only when type is totp_secret"));
        } else if (totp && !set(ref, "digits")) {
          problems.push_back(problem(name, i, "digits is required when type is totp_secret"));
        }
      }
    }
  }
  return problems;
}

} // namespace emulator

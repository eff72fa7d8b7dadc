// libFuzzer harness, differential: core::parse_json and core::dump_line take shortcuts for long
// plain strings (a base64 screenshot lifted out before nlohmann parses the rest, copied as is
// when printed). For any text, they must agree with nlohmann: the same value, or "not JSON"
// for the same texts (deeper than the depth limit aside), and the same printed bytes.
#include "core/json.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  core::Json fast = core::parse_json(text);
  core::Json slow = core::Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (fast.is_discarded()) {
    // Refused: not JSON for nlohmann either, or nested deeper than the limit.
    FUZZ_CHECK(slow.is_discarded() || text.find('[') != std::string_view::npos ||
                   text.find('{') != std::string_view::npos,
               "parse_json refused what nlohmann accepts");
    return 0;
  }
  FUZZ_CHECK(!slow.is_discarded(), "parse_json accepted what nlohmann refuses");
  FUZZ_CHECK(fast == slow, "parse_json and nlohmann disagree on the value");
  FUZZ_CHECK(core::dump_line(fast) ==
                 slow.dump(-1, ' ', false, core::Json::error_handler_t::replace),
             "dump_line and nlohmann's dump differ");
  return 0;
}

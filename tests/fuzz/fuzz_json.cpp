// libFuzzer harness, differential: core::parse_json and core::dump_line take shortcuts for long
// plain strings (a base64 screenshot lifted out before nlohmann parses the rest, copied as is
// when printed). For any text, they must agree with nlohmann: the same value, or "not JSON"
// for the same texts (deeper than the depth limit aside), and the same printed bytes.
#include "core/json.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  // "@M@" stands for the process's lift marker, so the fuzzer can try payloads that hold it
  // (a network peer cannot know it): they must still parse without a throw or a crash.
  if (text.find("@M@") != std::string_view::npos) {
    std::string with_marker(text);
    for (size_t at; (at = with_marker.find("@M@")) != std::string::npos;) {
      with_marker.replace(at, 3, core::json_lift_marker());
    }
    try {
      core::Json j = core::parse_json(with_marker);
      (void)core::dump_line(j);
    } catch (...) {
      FUZZ_CHECK(false, "parse_json threw on a payload holding the lift marker");
    }
    return 0;
  }
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

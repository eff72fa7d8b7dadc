// libFuzzer harness for the --state journal reader: a journal is whatever a crash, a full disk
// or a hand edit left on disk. core::Error (a corrupt journal, naming its line) is an expected
// outcome; any other exception, a crash or a broken invariant below is a bug.
#include "core/error.h"
#include "core/journal.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>

#include "fuzz_check.h"

namespace {

const std::string k_name = "state.jnl";

void check_state(const core::JournalState& state, std::string_view text) {
  size_t lines = static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) +
                 (text.empty() || text.back() == '\n' ? 0 : 1);
  FUZZ_CHECK(state.records <= lines, "at most one record a line");
  FUZZ_CHECK(state.entries.size() <= state.records, "every entry comes from a record");
  if (state.cut_short) {
    FUZZ_CHECK(!text.empty() && text.back() != '\n', "only a last line without newline is cut");
  }
  for (const auto& [key, entry] : state.entries) {
    // Every action is defined for every entry and flag.
    for (int flags = 0; flags < 4; ++flags) {
      auto action = core::resume_action(&entry, flags & 1, flags & 2);
      FUZZ_CHECK(action == core::ResumeAction::submit || action == core::ResumeAction::reprint ||
                     action == core::ResumeAction::await ||
                     action == core::ResumeAction::await_unknown,
                 "a known resume action");
      // An unknown outcome is submitted again only when the user asks.
      if (action == core::ResumeAction::await_unknown) {
        FUZZ_CHECK(!(flags & 2), "an unknown outcome waits unless --resubmit-unfinished");
      }
      // Nothing runs twice unless the user asks: a success is never submitted again.
      if (entry.status == "success") {
        FUZZ_CHECK(action == core::ResumeAction::reprint, "a success is reprinted");
      }
      if (action == core::ResumeAction::await) {
        FUZZ_CHECK(entry.task_id.has_value(), "only a known task is awaited");
      }
      if (action == core::ResumeAction::reprint) {
        // A reprinted entry has a journaled final status (its line may be missing).
        FUZZ_CHECK(entry.status.has_value(), "only a result is reprinted");
      }
    }
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::istringstream in(text);
  try {
    core::JournalState state = core::read_journal(in, k_name);
    check_state(state, text);
  } catch (const core::Error& e) {
    std::string_view what = e.what();
    FUZZ_CHECK(what.starts_with(k_name + ":"), "a corrupt journal names its line");
    FUZZ_CHECK_STRICT(what.find('\n') == std::string_view::npos, "a journal error is one line");
  }
  return 0;
}

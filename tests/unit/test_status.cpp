#include "core/api.h"
#include "core/status.h"

#include <doctest/doctest.h>

#include <set>
#include <string>

using core::Status;

TEST_SUITE_BEGIN("status");

TEST_CASE("status::to_text and status_from_text round-trip every status") {
  std::set<std::string> words;
  for (Status s : core::k_all_statuses) {
    std::string_view text = core::to_text(s);
    CAPTURE(text);
    CHECK(text != "?");
    CHECK(core::status_from_text(text) == s);
    words.emplace(text);
  }
  CHECK(words.size() == core::k_all_statuses.size()); // no two statuses share a word
  CHECK(core::to_text(Status::submit_failed) == "submit_failed");
  CHECK(core::status_from_text("killed") == Status::killed);
}

TEST_CASE("status::status_from_text knows only the exact words") {
  CHECK_FALSE(core::status_from_text(""));
  CHECK_FALSE(core::status_from_text("Success")); // the wire is case-sensitive
  CHECK_FALSE(core::status_from_text("success "));
  CHECK_FALSE(core::status_from_text("done"));
  CHECK_FALSE(core::status_from_text("any")); // a `when` word, not a status
}

TEST_CASE("status::is_terminal: the service's four ends") {
  std::set<Status> terminal;
  for (Status s : core::k_all_statuses) {
    if (core::is_terminal(s)) {
      terminal.insert(s);
    }
  }
  CHECK(terminal ==
        std::set<Status>{Status::success, Status::failed, Status::cancelled, Status::killed});
  // The string form agrees, and an unknown word is progress.
  for (Status s : core::k_all_statuses) {
    CHECK(core::is_terminal_status(core::to_text(s)) == core::is_terminal(s));
  }
  CHECK_FALSE(core::is_terminal_status("bogus"));
}

TEST_CASE("status::the service's statuses and the tool's") {
  for (Status s : {Status::queued,
                   Status::allocated,
                   Status::running,
                   Status::success,
                   Status::failed,
                   Status::cancelled,
                   Status::killed}) {
    CHECK_FALSE(core::is_tool_status(s));
  }
  for (Status s : {Status::submit_failed,
                   Status::timeout,
                   Status::invalid_input,
                   Status::interrupted,
                   Status::skipped,
                   Status::pending}) {
    CHECK(core::is_tool_status(s));
  }
}

TEST_CASE("status::the text constants are the enum's words") {
  CHECK(std::string(core::status::success) == "success");
  CHECK(std::string(core::status::failed) == core::to_text(Status::failed));
  CHECK(std::string(core::status::submit_failed) == "submit_failed");
  CHECK(std::string(core::status::timeout) == "timeout");
  CHECK(std::string(core::status::invalid_input) == "invalid_input");
  CHECK(std::string(core::status::interrupted) == "interrupted");
  CHECK(std::string(core::status::skipped) == "skipped");
  CHECK(std::string(core::status::pending) == "pending");
  static_assert(core::status_from_text("timeout") == Status::timeout); // usable at compile time
}

TEST_CASE("status::k_line_statuses: what a run's line can end with") {
  CHECK(core::k_line_statuses.size() == 8);
  for (Status s : core::k_line_statuses) {
    CHECK(s != Status::queued);
    CHECK(s != Status::allocated);
    CHECK(s != Status::running);
    CHECK(s != Status::skipped);
    CHECK(s != Status::pending);
  }
}

TEST_SUITE_END();

#include "core/error.h"
#include "core/journal.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

TEST_SUITE_BEGIN("journal");

using core::ResumeAction;

namespace {
core::JournalState read(const std::string& text) {
  std::istringstream in(text);
  return core::read_journal(in, "state.jnl");
}
const char* k_run = R"({"type":"run","token":"abc","listen":"127.0.0.1:4000"})"
                    "\n";
} // namespace

TEST_CASE("journal::read_journal folds records per input key") {
  auto state = read(
      std::string(k_run) +
      R"({"type":"submit","key":"k-1","task_id":"t1"})"
      "\n"
      R"({"type":"result","key":"k-1","status":"success","task_id":"t1","line":"{\"a\":1}"})"
      "\n"
      R"({"type":"submit","key":"k-2","task_id":"t2"})"
      "\n"
      R"({"type":"result","key":"k-3","status":"submit_failed","unknown_outcome":true,"line":"x"})"
      "\n");
  CHECK(state.token == "abc");
  CHECK(state.listen == "127.0.0.1:4000");
  CHECK(state.records == 5);
  CHECK_FALSE(state.cut_short);
  REQUIRE(state.entries.count("k-1"));
  CHECK(state.entries["k-1"].line == "{\"a\":1}");
  CHECK(state.entries["k-2"].task_id == "t2");
  CHECK_FALSE(state.entries["k-2"].status);
  CHECK(state.entries["k-3"].unknown_outcome);
}

TEST_CASE("journal::read_journal reads a journal cut mid-record up to its last whole record") {
  auto state = read(std::string(k_run) +
                    R"({"type":"submit","key":"k-1","task_id":"t1"})"
                    "\n" +
                    R"({"type":"result","key":"k-1","sta)");
  CHECK(state.cut_short);
  CHECK(state.records == 2);
  CHECK_FALSE(state.entries["k-1"].status);
}

TEST_CASE("journal::read_journal names the line of a corrupt journal") {
  CHECK_THROWS_WITH_AS(read(std::string(k_run) + "garbage\n" + k_run),
                       doctest::Contains("state.jnl:2: not a journal record"),
                       core::Error);
  CHECK_THROWS_WITH_AS(read(R"({"type":"submit","task_id":"t"})"
                            "\n"),
                       doctest::Contains("state.jnl:1: journal record without a key"),
                       core::Error);
  CHECK_THROWS_WITH_AS(read(R"({"type":"what","key":"k"})"
                            "\n"),
                       doctest::Contains("unknown journal record type"),
                       core::Error);
  // A whole last line that is garbage is corruption, not a cut.
  CHECK_THROWS_AS(read(std::string(k_run) + "{oops}\n"), core::Error);
}

TEST_CASE("journal::resume_action follows the resume table") {
  auto entry = [](std::optional<std::string> status,
                  std::optional<std::string> task_id,
                  bool unknown = false) {
    core::JournalEntry e;
    e.status = std::move(status);
    e.task_id = std::move(task_id);
    e.line = "line";
    e.unknown_outcome = unknown;
    return e;
  };
  CHECK(core::resume_action(nullptr, false, false) == ResumeAction::submit);
  auto success = entry("success", "t");
  CHECK(core::resume_action(&success, true, true) == ResumeAction::reprint);
  for (const char* s : {"failed", "killed", "cancelled", "invalid_input"}) {
    auto e = entry(s, "t");
    CAPTURE(s);
    CHECK(core::resume_action(&e, false, false) == ResumeAction::reprint);
    CHECK(core::resume_action(&e, true, false) == ResumeAction::submit);
  }
  auto submitted = entry(std::nullopt, "t");
  CHECK(core::resume_action(&submitted, false, false) == ResumeAction::await);
  CHECK(core::resume_action(&submitted, false, true) == ResumeAction::submit);
  for (const char* s : {"timeout", "interrupted"}) {
    auto with_id = entry(s, "t");
    auto without_id = entry(s, std::nullopt);
    CHECK(core::resume_action(&with_id, true, false) == ResumeAction::await);
    CHECK(core::resume_action(&without_id, false, false) == ResumeAction::submit);
  }
  auto unknown = entry("submit_failed", std::nullopt, true);
  CHECK(core::resume_action(&unknown, false, false) == ResumeAction::reprint);
  CHECK(core::resume_action(&unknown, false, true) == ResumeAction::submit);
  auto refused = entry("submit_failed", std::nullopt, false);
  CHECK(core::resume_action(&refused, false, false) == ResumeAction::submit);
}

TEST_CASE("journal::Journal appends records readable by read_journal, mode 0600") {
  auto path = (std::filesystem::temp_directory_path() / "optexity-journal-test.jnl").string();
  std::filesystem::remove(path);
  {
    core::Journal journal(path);
    journal.run_started("tok", "127.0.0.1:1", "e");
    journal.submitted("k-1", "t1");
    journal.finished("k-1", "success", R"({"status":"success","x":"é"})", "t1", false);
  }
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto state = core::load_journal(path);
  CHECK(state.token == "tok");
  CHECK(state.entries["k-1"].line == R"({"status":"success","x":"é"})");
  CHECK(state.entries["k-1"].task_id == "t1");
  std::filesystem::remove(path);
  CHECK(core::load_journal(path).records == 0); // a missing journal is an empty one
}

TEST_SUITE_END();

TEST_SUITE_BEGIN("journal");

TEST_CASE("journal::Journal drops a record cut by a crash before appending") {
  auto path = (std::filesystem::temp_directory_path() / "optexity-journal-cut.jnl").string();
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << R"({"type":"submit","key":"k-1","task_id":"t1"})"
           "\n"
        << R"({"type":"result","ke)";
  }
  {
    core::Journal journal(path);
    journal.submitted("k-2", "t2");
  }
  auto state = core::load_journal(path); // no error: the cut record is gone, not glued
  CHECK_FALSE(state.cut_short);
  CHECK(state.records == 2);
  CHECK(state.entries["k-2"].task_id == "t2");
  std::filesystem::remove(path);
}

TEST_SUITE_END();

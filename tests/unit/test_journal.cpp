#include "core/error.h"
#include "core/journal.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <sstream>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

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
  // An unknown outcome is never submitted again unless asked: the run waits for its callback.
  for (const char* s : {"submit_failed", "interrupted", "timeout"}) {
    CAPTURE(s);
    auto unknown = entry(s, std::nullopt, true);
    CHECK(core::resume_action(&unknown, false, false) == ResumeAction::await_unknown);
    CHECK(core::resume_action(&unknown, true, false) == ResumeAction::await_unknown);
    CHECK(core::resume_action(&unknown, false, true) == ResumeAction::submit);
  }
  auto refused = entry("submit_failed", std::nullopt, false);
  CHECK(core::resume_action(&refused, false, false) == ResumeAction::submit);
  // An attempt journaled with nothing after it (killed before the answer): unknown.
  core::JournalEntry attempted;
  attempted.attempted = true;
  CHECK(core::resume_action(&attempted, false, false) == ResumeAction::await_unknown);
  CHECK(core::resume_action(&attempted, false, true) == ResumeAction::submit);
  // Interrupted before the request left: surely nothing was created.
  auto not_sent = entry("interrupted", std::nullopt, false);
  not_sent.attempted = true;
  CHECK(core::resume_action(&not_sent, false, false) == ResumeAction::submit);
}

TEST_CASE("journal::read_journal: an attempt starts the entry afresh") {
  std::istringstream in(
      R"({"type":"attempt","key":"k"})"
      "\n"
      R"({"type":"result","key":"k","status":"submit_failed","unknown_outcome":true,"line":"{}"})"
      "\n"
      R"({"type":"attempt","key":"k"})"
      "\n"
      R"({"type":"submit","key":"k","task_id":"t2"})"
      "\n"
      R"({"type":"attempt","key":"other"})"
      "\n");
  auto state = core::read_journal(in, "j");
  const auto& k = state.entries.at("k");
  CHECK(k.attempted);
  CHECK_FALSE(k.unknown_outcome); // the second attempt was answered
  CHECK(k.task_id == std::optional<std::string>("t2"));
  CHECK(core::resume_action(&k, false, false) == ResumeAction::await);
  const auto& other = state.entries.at("other");
  CHECK(core::resume_action(&other, false, false) == ResumeAction::await_unknown);
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
  // The token is beside the journal, private, and not in it.
  REQUIRE(::stat(core::token_path(path).c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  std::ifstream in(path);
  CHECK(core::read_journal(in, path).token == "***");
  std::filesystem::remove(core::token_path(path));
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

TEST_SUITE_BEGIN("journal");

namespace {
std::string temp_journal(const char* name) {
  auto path = (std::filesystem::temp_directory_path() / name).string();
  std::filesystem::remove(path);
  return path;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

int real_sync(int fd) {
  return ::fdatasync(fd) == 0 ? 0 : errno;
}
} // namespace

TEST_CASE("journal::Journal keeps every record of many threads appending at once") {
  auto path = temp_journal("optexity-journal-threads.jnl");
  constexpr int k_threads = 8;
  constexpr int k_each = 50;
  uint64_t syncs = 0;
  {
    core::Journal journal(path);
    std::vector<std::thread> threads;
    for (int t = 0; t < k_threads; ++t) {
      threads.emplace_back([&journal, t] {
        for (int i = 0; i < k_each; ++i) {
          std::string key = "k-" + std::to_string(t) + "-" + std::to_string(i);
          journal.submitted(key, "t-" + key);
          journal.finished(
              key, "success", R"({"status":"success","x":"é\n"})" + key, "t-" + key, false);
        }
      });
    }
    for (auto& thread : threads) {
      thread.join();
    }
    syncs = journal.syncs();
  }
  auto state = core::load_journal(path); // throws on any malformed line
  CHECK_FALSE(state.cut_short);
  CHECK(state.records == k_threads * k_each * 2);
  REQUIRE(state.entries.size() == k_threads * k_each);
  for (int t = 0; t < k_threads; ++t) {
    for (int i = 0; i < k_each; ++i) {
      std::string key = "k-" + std::to_string(t) + "-" + std::to_string(i);
      CAPTURE(key);
      const auto& entry = state.entries[key];
      CHECK(entry.task_id == "t-" + key);
      CHECK(entry.status == "success");
      CHECK(entry.line == R"({"status":"success","x":"é\n"})" + key);
    }
  }
  CHECK(syncs >= 1);
  CHECK(syncs <= state.records);
  std::filesystem::remove(path);
}

TEST_CASE("journal::Journal syncs once per call when calls do not overlap; a submit rides along") {
  auto path = temp_journal("optexity-journal-serial.jnl");
  core::Journal journal(path);
  journal.run_started("tok", "127.0.0.1:1", "e");
  CHECK(journal.syncs() == 1);
  journal.attempted("k-1");
  CHECK(journal.syncs() == 2);
  journal.submitted("k-1", "t1"); // written, not waited for
  CHECK(journal.syncs() == 2);
  journal.finished("k-1", "success", "{}", "t1", false); // its sync covers the submit too
  CHECK(journal.syncs() == 3);
  auto state = core::load_journal(path);
  CHECK(state.records == 4);
  CHECK(state.entries.at("k-1").task_id == std::optional<std::string>("t1"));
  std::filesystem::remove(path);
}

TEST_CASE("journal::Journal shares one sync among records written while another sync runs") {
  // The first sync is held until every thread has written its record, so all of them are
  // written while it runs, whatever the scheduling: they wait for the one next sync, which
  // covers them all. Each sync notes the file's size when it starts, which a record must be
  // within for its call to have returned.
  auto path = temp_journal("optexity-journal-group.jnl");
  constexpr int k_threads = 8;
  std::mutex mutex;
  std::condition_variable all_written;
  int written = 0;
  int sync_calls = 0;
  off_t synced_size = 0; // the largest size a finished sync started with
  core::JournalHooks hooks;
  hooks.after_write = [&] {
    std::lock_guard lock(mutex);
    ++written;
    all_written.notify_all();
  };
  hooks.sync = [&](int fd) {
    struct stat st {};
    REQUIRE(::fstat(fd, &st) == 0);
    {
      std::unique_lock lock(mutex);
      if (++sync_calls == 1) {
        all_written.wait(lock, [&] { return written == k_threads; });
      }
    }
    int err = real_sync(fd);
    std::lock_guard lock(mutex);
    synced_size = std::max(synced_size, st.st_size);
    return err;
  };
  core::Journal journal(path, hooks);
  std::vector<std::thread> threads;
  std::vector<int> covered(k_threads, 0);
  for (int t = 0; t < k_threads; ++t) {
    threads.emplace_back([&, t] {
      std::string key = "k-" + std::to_string(t);
      journal.attempted(key);
      // Returned: the record must lie within what a finished sync covered.
      std::string text = slurp(path);
      size_t at = text.find("\"key\":\"" + key + "\"");
      size_t end = text.find('\n', at);
      std::lock_guard lock(mutex);
      covered[t] = at != std::string::npos && end != std::string::npos &&
                   static_cast<off_t>(end + 1) <= synced_size;
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  // One sync (everything was written before the first started) or two (the first, then one
  // for all the rest): never one per record.
  CHECK(journal.syncs() >= 1);
  CHECK(journal.syncs() <= 2);
  CHECK(journal.syncs() == static_cast<uint64_t>(sync_calls));
  CHECK(std::count(covered.begin(), covered.end(), 1) == k_threads);
  auto state = core::load_journal(path);
  CHECK(state.records == k_threads);
  CHECK(state.entries.size() == k_threads);
  std::filesystem::remove(path);
}

TEST_CASE("journal::Journal reports a failed sync, then refuses to go on") {
  auto path = temp_journal("optexity-journal-eio.jnl");
  core::JournalHooks hooks;
  hooks.sync = [](int) { return EIO; };
  core::Journal journal(path, hooks);
  const std::string expected = "--state: cannot sync " + path + ": " + std::strerror(EIO);
  CHECK_THROWS_WITH_AS(journal.attempted("k-1"), expected.c_str(), core::Error);
  // Once a sync failed, the file's state is unknown: every later record is refused.
  CHECK_THROWS_WITH_AS(
      journal.finished("k-1", "success", "{}", "t1", false), expected.c_str(), core::Error);

  // Threads waiting for a failed sync all see the error; none returns as if it were durable.
  core::Journal shared(temp_journal("optexity-journal-eio2.jnl"), hooks);
  std::vector<std::thread> threads;
  std::mutex mutex;
  int errors = 0;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      try {
        shared.attempted("k-" + std::to_string(t));
      } catch (const core::Error& e) {
        std::lock_guard lock(mutex);
        errors += std::string(e.what()).find("cannot sync") != std::string::npos;
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  CHECK(errors == 4);
  std::filesystem::remove(path);
  std::filesystem::remove(std::filesystem::temp_directory_path() / "optexity-journal-eio2.jnl");
}

TEST_CASE("journal::Journal ends a sync whose hook throws, so no caller waits forever") {
  auto path = temp_journal("optexity-journal-throw.jnl");
  core::JournalHooks hooks;
  hooks.sync = [](int) -> int { throw std::runtime_error("hook failed"); };
  core::Journal journal(path, hooks);
  CHECK_THROWS_WITH_AS(journal.attempted("k-1"), "hook failed", std::runtime_error);
  CHECK_THROWS_AS(journal.attempted("k-2"), core::Error);
  std::filesystem::remove(path);
}

TEST_SUITE_END();

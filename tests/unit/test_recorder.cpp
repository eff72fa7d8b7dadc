#include "core/error.h"
#include "core/recorder.h"
#include "core/redact.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/stat.h>

namespace fs = std::filesystem;
using core::Json;

namespace {

// An RAII temporary directory (removed with its files).
struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("optexity-recorder-test-" + std::to_string(std::rand()) +
                                        "-" + std::to_string(reinterpret_cast<uintptr_t>(this)));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::permissions(path, fs::perms::owner_all, ec);
    fs::remove_all(path, ec);
  }
};

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

void touch(const fs::path& p) {
  std::ofstream(p) << "x";
}

} // namespace

TEST_SUITE_BEGIN("recorder");

TEST_CASE("recorder::Recorder creates a new directory private") {
  TempDir tmp;
  fs::path dir = tmp.path / "a" / "rec";
  core::Recorder rec(dir.string());
  CHECK(mode_of(dir) == 0700);
  rec.record("run", Json{{"endpoint", "demo"}});
  CHECK(core::read_recording(dir.string()).size() == 1);
}

TEST_CASE("recorder::Recorder uses an existing empty directory as it is") {
  TempDir tmp;
  fs::path dir = tmp.path / "shared";
  fs::create_directory(dir);
  ::chmod(dir.c_str(), 01777);
  REQUIRE(mode_of(dir) == 01777);
  core::Recorder rec(dir.string());
  CHECK(mode_of(dir) == 01777);
  SUBCASE("0755 too") {
    ::chmod(dir.c_str(), 0755);
    core::Recorder again((tmp.path / "shared").string());
    CHECK(mode_of(dir) == 0755);
  }
}

TEST_CASE("recorder::Recorder refuses a non-empty directory, mode unchanged") {
  TempDir tmp;
  fs::path dir = tmp.path / "foreign";
  fs::create_directory(dir);
  touch(dir / "notes.txt");
  ::chmod(dir.c_str(), 01777);
  try {
    core::Recorder rec(dir.string());
    FAIL("no error");
  } catch (const core::Error& e) {
    CHECK(std::string(e.what()) ==
          "--record " + dir.string() +
              ": not empty and not a recording; give a new or empty directory");
    CHECK(e.code() == core::ExitCode::usage);
  }
  CHECK(mode_of(dir) == 01777);
}

TEST_CASE("recorder::Recorder refuses an existing recording") {
  TempDir tmp;
  fs::path dir = tmp.path / "rec";
  {
    core::Recorder first(dir.string());
    first.record("run", Json::object());
  }
  CHECK_THROWS_WITH_AS(
      core::Recorder(dir.string()), doctest::Contains("already holds a recording"), core::Error);
}

TEST_CASE("recorder::Recorder refuses a file") {
  TempDir tmp;
  touch(tmp.path / "file");
  CHECK_THROWS_AS(core::Recorder((tmp.path / "file").string()), core::Error);
}

TEST_CASE("recorder::is_event_file_name") {
  CHECK(core::is_event_file_name("00000001-run.json"));
  CHECK(core::is_event_file_name("00000012-callback.json"));
  CHECK_FALSE(core::is_event_file_name("notes.json"));
  CHECK_FALSE(core::is_event_file_name("1-run.json"));
  CHECK_FALSE(core::is_event_file_name("00000001-run.json.part.1.2"));
  CHECK_FALSE(core::is_event_file_name("00000001-.json"));
}

TEST_CASE("recorder::Recorder::record redacts and records refused callbacks without a body") {
  core::clear_secrets();
  core::add_secret("the-token-0123");
  TempDir tmp;
  fs::path dir = tmp.path / "rec";
  core::Recorder rec(dir.string());
  rec.record("submit",
             Json{{"request",
                   {{"task_callback_url", "https://h/receive_callback/the-token-0123/k-1"},
                    {"secure_parameters", {{"c", {{{"totp", {{"totp_secret", "S"}}}}}}}}}}});
  rec.record_refused("/receive_callback/the-token-0123/k-1", Json{{"content-type", "x"}}, 401, 42);
  core::clear_secrets();
  auto events = core::read_recording(dir.string());
  REQUIRE(events.size() == 2);
  CHECK(events[0]["request"]["task_callback_url"] == "https://h/receive_callback/***/k-1");
  CHECK(events[0]["request"]["secure_parameters"]["c"][0]["totp"]["totp_secret"] == "***");
  CHECK(core::is_refused_callback(events[1]));
  CHECK(events[1]["path"] == "/receive_callback/***/k-1");
  CHECK(events[1]["status"] == 401);
  CHECK(events[1]["bytes"] == 42);
  CHECK_FALSE(events[1].contains("body"));
  CHECK_FALSE(core::is_refused_callback(events[0]));
}

TEST_SUITE_END();

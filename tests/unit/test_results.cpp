// What happens to a result line before it is printed (runner/results), where no network is
// needed: screenshots, and downloads once a stop is requested.
#include "core/files.h"
#include "net/downloader.h"
#include "runner/results.h"

#include <doctest/doctest.h>

#include <filesystem>

TEST_SUITE_BEGIN("results");

using core::Json;
using namespace std::chrono_literals;

namespace {

// A fresh directory under the system's temporary one, removed at the end of the test.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& name) : path(std::filesystem::temp_directory_path() / name) {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

Json line_with_downloads() {
  return Json{{"task_id", "t1"},
              {"status", "success"},
              {"downloads",
               Json::array({Json{{"url", "http://127.0.0.1:9/a.csv"}, {"filename", "a.csv"}},
                            Json{{"url", "http://127.0.0.1:9/b.csv"}, {"filename", "b.csv"}},
                            "not an entry"})}};
}

} // namespace

TEST_CASE("results::finish_result_line starts no download once stopped") {
  TempDir dir("optexity-results-test");
  runner::ResultOptions opts;
  opts.downloads_dir = (dir.path / "dl").string();
  std::stop_source stop;
  stop.request_stop();
  Json line = line_with_downloads();
  runner::finish_result_line(line, opts, stop.get_token());
  CHECK(line["downloads"][0]["download_error"] == "interrupted");
  CHECK(line["downloads"][1]["download_error"] == "interrupted");
  CHECK_FALSE(line["downloads"][0].contains("path"));
  CHECK(line["downloads"][2] == "not an entry");
  CHECK(line["status"] == "success"); // a download does not change the task's status
  CHECK_FALSE(std::filesystem::exists(dir.path / "dl"));
}

TEST_CASE("results::finish_result_line leaves downloads alone without --downloads") {
  runner::ResultOptions opts;
  opts.no_screenshots = true;
  Json line = line_with_downloads();
  line["final_screenshot"] = "aGVsbG8=";
  const Json before = line;
  runner::finish_result_line(line, opts);
  CHECK_FALSE(line.contains("final_screenshot"));
  line["final_screenshot"] = before["final_screenshot"];
  CHECK(line == before);
}

TEST_CASE("download_file says what is wrong before any request") {
  TempDir dir("optexity-download-test");
  const std::string path = (dir.path / "f").string();
  SUBCASE("a stop already requested") {
    std::stop_source stop;
    stop.request_stop();
    CHECK(net::download_file("http://127.0.0.1:9/f", path, 5s, {true}, stop.get_token()) ==
          "download interrupted");
  }
  SUBCASE("not an http(s) URL") {
    CHECK(net::download_file("ftp://example.com/f", path, 5s, {true}) ==
          "not an http(s) URL: ftp://example.com/f");
  }
  SUBCASE("an http URL from an unauthenticated callback") {
    CHECK(net::download_file("http://127.0.0.1:9/f", path, 5s, {false}) ==
          "download refused: http URL from an unauthenticated callback (only https is fetched; "
          "use --public-url or --callback-key)");
  }
  SUBCASE("an https URL from an unauthenticated callback, to this machine") {
    CHECK(net::download_file("https://127.0.0.1:9/f", path, 5s, {false}) ==
          "download refused: 127.0.0.1 (loopback address) from an unauthenticated callback");
    // A name is resolved and its addresses checked ("download refused: localhost (...)"); where
    // nothing resolves "localhost" (a bare chroot has no /etc/hosts) the error says that instead.
    std::string by_name = net::download_file("https://localhost:9/f", path, 5s, {false});
    CAPTURE(by_name);
    CHECK(by_name.find("localhost") != std::string::npos);
    CHECK((by_name.rfind("download refused: localhost (", 0) == 0 ||
           by_name.find("resolve") != std::string::npos));
  }
  CHECK(std::filesystem::is_empty(dir.path));
}

TEST_SUITE_END();

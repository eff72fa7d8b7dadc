#include "core/error.h"
#include "core/files.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <pthread.h>
#include <sstream>
#include <sys/resource.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

std::atomic<int> g_signals{0};

extern "C" void count_signal(int) {
  g_signals.fetch_add(1);
}

// The bytes a pipe's read end holds until the write end is closed.
std::string drain(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) != 0) {
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
    } else if (errno != EINTR) {
      break;
    }
  }
  return out;
}

// The names in a directory, sorted.
std::vector<std::string> names_in(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string pattern(size_t size) {
  std::string data(size, '\0');
  for (size_t i = 0; i < size; ++i) {
    data[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  }
  return data;
}

} // namespace

TEST_SUITE_BEGIN("files");

TEST_CASE("files::sanitize_file_name keeps names inside one directory") {
  CHECK(core::sanitize_file_name("bf982ff9-f0af-4598") == "bf982ff9-f0af-4598");
  CHECK(core::sanitize_file_name("../../etc/passwd") == ".._.._etc_passwd");
  CHECK(core::sanitize_file_name("..") == "_..");
  CHECK(core::sanitize_file_name(".") == "_.");
  CHECK(core::sanitize_file_name("") == "_");
  CHECK(core::sanitize_file_name("a b/c\\d\n") == "a_b_c_d_");
  CHECK(core::sanitize_file_name(std::string(500, 'x')).size() == 200);
}

TEST_CASE("files::base64_decode") {
  CHECK(core::base64_decode("aGVsbG8=") == "hello");
  CHECK(core::base64_decode("aGVsbG8") == "hello"); // missing padding
  CHECK(core::base64_decode("aGVs\nbG8h") == "hello!");
  CHECK(core::base64_decode("aGk=") == "hi");
  CHECK(core::base64_decode("") == "");
  CHECK_FALSE(core::base64_decode("not base64!"));
  CHECK_FALSE(core::base64_decode("a==="));
}

TEST_CASE("files::write_file_atomic writes whole files") {
  auto dir = std::filesystem::temp_directory_path() / "optexity-files-test";
  std::filesystem::remove_all(dir);
  core::make_directories((dir / "a" / "b").string());
  std::string path = (dir / "a" / "b" / "f.bin").string();
  std::string data(100000, '\0');
  data[5] = 'x';
  core::write_file_atomic(path, data);
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  CHECK(ss.str() == data);
  CHECK_THROWS_AS(core::write_file_atomic((dir / "missing" / "f").string(), "x"), core::Error);
  std::filesystem::remove_all(dir);
}

TEST_CASE("files::read_file reads whole files and says why not") {
  auto dir = std::filesystem::temp_directory_path() / "optexity-read-file-test";
  std::filesystem::remove_all(dir);
  core::make_directories(dir.string());
  std::string path = (dir / "f.bin").string();
  std::string data = pattern(200000);
  data[7] = '\0';
  core::write_file_atomic(path, data);
  CHECK(core::read_file(path) == data);
  CHECK(core::try_read_file(path) == data);

  std::string empty = (dir / "empty").string();
  core::write_file_atomic(empty, "");
  CHECK(core::read_file(empty).empty());

  std::string why;
  std::string missing = (dir / "none").string();
  CHECK_FALSE(core::try_read_file(missing, &why));
  CHECK(why == "No such file or directory");
  CHECK_THROWS_WITH_AS(core::read_file(missing),
                       ("cannot open " + missing + ": No such file or directory").c_str(),
                       core::Error);
  CHECK_THROWS_WITH_AS(core::read_file(missing, "flow"),
                       ("cannot open flow " + missing + ": No such file or directory").c_str(),
                       core::Error);

  CHECK_FALSE(core::try_read_file(dir.string(), &why));
  CHECK(why == "is a directory");
  CHECK_THROWS_WITH_AS(
      core::read_file(dir.string()), doctest::Contains("is a directory"), core::Error);
  std::filesystem::remove_all(dir);
}

TEST_CASE("files::write_all writes everything, both parts, in order") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  CHECK(core::write_all(fds[1], "hello") == 0);
  CHECK(core::write_all(fds[1], "line", "\n") == 0);
  CHECK(core::write_all(fds[1], "", "x") == 0);
  CHECK(core::write_all(fds[1], "y", "") == 0);
  CHECK(core::write_all(fds[1], "", "") == 0);
  ::close(fds[1]);
  CHECK(drain(fds[0]) == "helloline\nxy");
  ::close(fds[0]);
}

TEST_CASE("files::write_all goes on after short writes and EINTR") {
  // A writer blocked on a full pipe is hit by signals whose handler does not restart the call:
  // each interrupted writev returns a short count or fails with EINTR, and write_all goes on.
  struct sigaction action {};
  struct sigaction old {};
  action.sa_handler = count_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0; // no SA_RESTART
  REQUIRE(::sigaction(SIGUSR1, &action, &old) == 0);
  g_signals = 0;

  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const std::string head = pattern(1 << 20);
  const std::string tail = pattern(3000);
  std::atomic<bool> writing{true};
  int result = -1;
  std::thread writer([&] {
    result = core::write_all(fds[1], head, tail);
    writing = false;
    ::close(fds[1]);
  });
  std::string got;
  char buf[1000];
  for (;;) {
    if (writing) {
      ::pthread_kill(writer.native_handle(), SIGUSR1);
    }
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n == 0) {
      break;
    }
    if (n > 0) {
      got.append(buf, static_cast<size_t>(n));
    }
  }
  writer.join();
  ::close(fds[0]);
  ::sigaction(SIGUSR1, &old, nullptr);

  CHECK(result == 0);
  CHECK(g_signals > 0);
  CHECK(got.size() == head.size() + tail.size());
  CHECK(got == head + tail);
}

TEST_CASE("files::write_all returns the errno of a failed write") {
  SUBCASE("a closed reader is EPIPE") {
    auto old = std::signal(SIGPIPE, SIG_IGN);
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    ::close(fds[0]);
    CHECK(core::write_all(fds[1], "x") == EPIPE);
    ::close(fds[1]);
    std::signal(SIGPIPE, old);
  }
  SUBCASE("a full non-blocking pipe is EAGAIN after a short write") {
    int fds[2];
    REQUIRE(::pipe2(fds, O_NONBLOCK) == 0);
    std::string big = pattern(4 << 20); // more than any pipe buffer
    CHECK(core::write_all(fds[1], big) == EAGAIN);
    ::close(fds[1]);
    std::string got = drain(fds[0]);
    CHECK(!got.empty());
    CHECK(got == big.substr(0, got.size()));
    ::close(fds[0]);
  }
  SUBCASE("a bad descriptor is EBADF") {
    CHECK(core::write_all(-1, "x") == EBADF);
  }
}

TEST_CASE("files::AtomicFileWriter shows the file only once committed") {
  auto dir = std::filesystem::temp_directory_path() / "optexity-writer-test";
  std::filesystem::remove_all(dir);
  core::make_directories(dir.string());
  const std::string path = (dir / "f.bin").string();
  const std::string data = pattern(300000);

  SUBCASE("appended pieces become the file at commit") {
    core::AtomicFileWriter file(path);
    CHECK(file.temp_path().rfind(path + ".part.", 0) == 0);
    CHECK(names_in(dir).size() == 1);
    CHECK_FALSE(std::filesystem::exists(path));
    for (size_t at = 0; at < data.size(); at += 4096) {
      file.append(std::string_view(data).substr(at, 4096));
    }
    CHECK(file.size() == data.size());
    file.commit();
    CHECK(core::read_file(path) == data);
    CHECK(names_in(dir) == std::vector<std::string>{"f.bin"});
  }
  SUBCASE("nothing appended commits an empty file") {
    core::AtomicFileWriter file(path);
    file.commit();
    CHECK(core::read_file(path).empty());
  }
  SUBCASE("a writer ended without commit leaves nothing, not even an older file touched") {
    core::write_file_atomic(path, "old");
    {
      core::AtomicFileWriter file(path);
      file.append(data);
    }
    CHECK(core::read_file(path) == "old");
    CHECK(names_in(dir) == std::vector<std::string>{"f.bin"});
  }
  SUBCASE("two writers aiming at one path do not share a temporary file") {
    core::AtomicFileWriter a(path);
    core::AtomicFileWriter b(path);
    CHECK(a.temp_path() != b.temp_path());
    a.append("a");
    b.append("b");
    a.commit();
    b.commit();
    CHECK(core::read_file(path) == "b");
  }
  SUBCASE("a missing directory is an error naming the file") {
    const std::string missing = (dir / "none" / "f.bin").string();
    std::string what;
    try {
      core::AtomicFileWriter file(missing);
    } catch (const core::Error& e) {
      what = e.what();
    }
    CHECK(what.rfind("cannot write " + missing + ".part.", 0) == 0);
    CHECK(what.find(": No such file or directory") != std::string::npos);
  }
  SUBCASE("a failed write is an error naming the file, and the temporary file goes") {
    // A file size limit makes write(2) fail with EFBIG (SIGXFSZ ignored) as a full disk would.
    struct rlimit old_limit {};
    REQUIRE(::getrlimit(RLIMIT_FSIZE, &old_limit) == 0);
    auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
    struct rlimit small = old_limit;
    small.rlim_cur = 100000;
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
    std::string what;
    std::string temp;
    {
      core::AtomicFileWriter file(path);
      temp = file.temp_path();
      try {
        file.append(data);
      } catch (const core::Error& e) {
        what = e.what();
      }
    }
    ::setrlimit(RLIMIT_FSIZE, &old_limit);
    std::signal(SIGXFSZ, old_handler);
    CHECK(what == "cannot write " + temp + ": " + std::strerror(EFBIG));
    CHECK(names_in(dir).empty());
  }
  std::filesystem::remove_all(dir);
}

TEST_SUITE_END();

TEST_CASE("files::base64_encode round-trips") {
  CHECK(core::base64_encode("user:pw") == "dXNlcjpwdw==");
  CHECK(core::base64_encode("") == "");
  std::string bytes;
  for (int i = 0; i < 256; ++i) {
    bytes += static_cast<char>(i);
  }
  CHECK(core::base64_decode(core::base64_encode(bytes)) == bytes);
}

#include "core/output.h"

#include <doctest/doctest.h>

#include <csignal>
#include <string>
#include <thread>
#include <unistd.h>

TEST_SUITE_BEGIN("output");

TEST_CASE("output::LineWriter writes a large line whole through a pipe (short writes)") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  std::string line(3 * 1024 * 1024, 'x'); // far beyond a pipe's buffer
  line[12345] = 'y';
  std::string got;
  std::thread reader([&] {
    char buf[65536];
    ssize_t n;
    while ((n = ::read(fds[0], buf, sizeof buf)) > 0) {
      got.append(buf, static_cast<size_t>(n));
    }
  });
  {
    core::LineWriter out(fds[1]);
    out.write_line(line);
    out.write_line("second");
  }
  ::close(fds[1]);
  reader.join();
  ::close(fds[0]);
  CHECK(got == line + "\nsecond\n");
}

TEST_CASE("output::LineWriter reports a closed reader as StdoutClosed") {
  std::signal(SIGPIPE, SIG_IGN);
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  ::close(fds[0]);
  core::LineWriter out(fds[1]);
  CHECK_THROWS_AS(out.write_line("x"), core::StdoutClosed);
  ::close(fds[1]);
}

TEST_CASE("output::failure_line has the documented shape") {
  auto line = core::failure_line("timeout", "no callback", core::Json{{"email", {"a@x"}}}, "t1");
  CHECK(core::dump_line(line) ==
        R"({"task_id":"t1","status":"timeout","error":"no callback","input":{"email":["a@x"]}})");
  CHECK(core::line_status(line) == "timeout");
}

TEST_SUITE_END();

#include "core/error.h"
#include "core/inputs.h"

#include <doctest/doctest.h>

#include <sstream>
#include <unistd.h>

TEST_SUITE_BEGIN("inputs");

using core::EmailLine;

TEST_CASE("inputs::parse_email_line skips blanks and comments, trims") {
  CHECK(core::parse_email_line("").kind == EmailLine::Kind::skip);
  CHECK(core::parse_email_line("   \t").kind == EmailLine::Kind::skip);
  CHECK(core::parse_email_line("# a comment").kind == EmailLine::Kind::skip);
  CHECK(core::parse_email_line("  # indented comment").kind == EmailLine::Kind::skip);
  auto ok = core::parse_email_line("  a@example.com \r");
  CHECK(ok.kind == EmailLine::Kind::email);
  CHECK(ok.text == "a@example.com");
}

TEST_CASE("inputs::parse_email_line names what is wrong") {
  SUBCASE("no @") {
    auto bad = core::parse_email_line("bob");
    CHECK(bad.kind == EmailLine::Kind::bad);
    CHECK(bad.text == "no '@' in \"bob\"");
  }
  SUBCASE("white space inside") {
    auto bad = core::parse_email_line("a b@example.com");
    CHECK(bad.kind == EmailLine::Kind::bad);
    CHECK(bad.text.find("white space inside") == 0);
  }
  SUBCASE("control character") {
    auto bad = core::parse_email_line(std::string("a\x01@x.com"));
    CHECK(bad.kind == EmailLine::Kind::bad);
    CHECK(bad.text.find("\\x01") != std::string::npos);
  }
  SUBCASE("not UTF-8") {
    auto bad = core::parse_email_line("caf\xe9@x.com");
    CHECK(bad.kind == EmailLine::Kind::bad);
    CHECK(bad.text == "not valid UTF-8");
  }
  SUBCASE("empty local or domain part") {
    CHECK(core::parse_email_line("@x.com").kind == EmailLine::Kind::bad);
    CHECK(core::parse_email_line("a@").kind == EmailLine::Kind::bad);
  }
  SUBCASE("UTF-8 is fine") {
    CHECK(core::parse_email_line("jos\xc3\xa9@x.com").kind == EmailLine::Kind::email);
  }
}

TEST_CASE("inputs::read_email_file reports every bad line with file:line") {
  std::istringstream in("a@x.com\nbob\n\n# c\nc d@x.com\ne@x.com\n");
  try {
    core::read_email_file(in, "list.txt");
    FAIL("expected an error");
  } catch (const core::Error& e) {
    std::string what = e.what();
    CHECK(what == "list.txt:2: no '@' in \"bob\"\nlist.txt:5: white space inside \"c d@x.com\"");
    CHECK(e.code() == core::ExitCode::usage);
  }
}

TEST_CASE("inputs::read_email_file builds email parameters") {
  std::istringstream in("a@x.com\n\n  b@y.org\n");
  auto inputs = core::read_email_file(in, "f");
  REQUIRE(inputs.size() == 2);
  CHECK(inputs[0].params.dump() == R"({"email":["a@x.com"]})");
  CHECK(inputs[1].params.dump() == R"({"email":["b@y.org"]})");
  CHECK(inputs[1].where == "f:3");
}

TEST_CASE("inputs::read_email_file of an empty file is empty") {
  std::istringstream in("");
  CHECK(core::read_email_file(in, "f").empty());
}

TEST_CASE("inputs::load_email_file names a missing file") {
  CHECK_THROWS_WITH_AS(core::load_email_file("/nonexistent/x.txt"),
                       doctest::Contains("cannot open /nonexistent/x.txt"),
                       core::Error);
}

TEST_CASE("inputs::EmailStreamSource turns bad lines into invalid inputs") {
  std::istringstream in("a@x.com\nbob\nc@x.com");
  core::EmailStreamSource source(std::make_unique<core::IstreamLineReader>(in), "<stdin>");
  auto first = source.next();
  REQUIRE(first);
  CHECK(first->error.empty());
  auto second = source.next();
  REQUIRE(second);
  CHECK(second->error == "<stdin>:2: no '@' in \"bob\"");
  auto third = source.next();
  REQUIRE(third);
  CHECK(third->params["email"][0] == "c@x.com");
  CHECK_FALSE(source.next());
}

TEST_CASE("inputs::FdLineReader reads lines, a last line without newline, and stops") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  std::string data = "one\ntwo\r\nthree";
  REQUIRE(::write(fds[1], data.data(), data.size()) == static_cast<ssize_t>(data.size()));
  ::close(fds[1]);
  core::FdLineReader reader(fds[0]);
  std::stop_source stop;
  CHECK(reader.next_line(stop.get_token()) == "one");
  CHECK(reader.next_line(stop.get_token()) == "two\r");
  CHECK(reader.next_line(stop.get_token()) == "three");
  CHECK_FALSE(reader.next_line(stop.get_token()));
  ::close(fds[0]);
}

TEST_CASE("inputs::FdLineReader returns on stop while the writer is silent") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  core::FdLineReader reader(fds[0]);
  std::stop_source stop;
  stop.request_stop();
  CHECK_FALSE(reader.next_line(stop.get_token()));
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST_CASE("inputs::is_valid_utf8") {
  CHECK(core::is_valid_utf8("plain"));
  CHECK(core::is_valid_utf8("\xe2\x82\xac"));
  CHECK_FALSE(core::is_valid_utf8("\xc0\xaf"));     // overlong
  CHECK_FALSE(core::is_valid_utf8("\xed\xa0\x80")); // surrogate
  CHECK_FALSE(core::is_valid_utf8("\xe2\x82"));     // cut short
}

TEST_CASE("inputs::missing_unique_name names the first unique name with no parameter") {
  const core::Json params = core::Json::parse(R"({"email":["a@x.com"],"tenant":["t1"]})");
  CHECK(core::missing_unique_name(params, {}).empty());
  CHECK(core::missing_unique_name(params, {"email"}).empty());
  CHECK(core::missing_unique_name(params, {"tenant", "email"}).empty());
  CHECK(core::missing_unique_name(params, {"email", "nosuch"}) ==
        R"(--unique nosuch: this input has no parameter "nosuch" (it has: email, tenant))");
  // Names are exact: the service matches keys as they are written.
  CHECK(core::missing_unique_name(params, {"Email"}) ==
        R"(--unique Email: this input has no parameter "Email" (it has: email, tenant))");
  CHECK(core::missing_unique_name(core::Json::object(), {"email"}) ==
        R"(--unique email: this input has no parameter "email" (it has: none))");
  CHECK_FALSE(core::missing_unique_name(nullptr, {"email"}).empty());
}

TEST_SUITE_END();

#include "core/error.h"
#include "core/formats.h"
#include "core/input_checks.h"
#include "core/inputs.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <sstream>
#include <string>

TEST_SUITE_BEGIN("input_checks");

using core::InputFormat;

namespace {

std::string error_of(const std::function<void()>& read) {
  try {
    read();
  } catch (const core::Error& e) {
    return e.what();
  }
  return {};
}

std::string read_error(InputFormat format, const std::string& text) {
  std::istringstream in(text);
  core::FormatOptions opts;
  opts.format = format;
  opts.name = "in";
  return error_of([&] { core::read_inputs(in, opts); });
}

} // namespace

TEST_CASE("input_checks::without_bom") {
  CHECK(core::without_bom("\xef\xbb\xbf"
                          "a@x.com") == "a@x.com");
  CHECK(core::without_bom("a@x.com") == "a@x.com");
  CHECK(core::without_bom("\xef\xbb") == "\xef\xbb");
}

TEST_CASE("input_checks: a BOM is never part of the first email or record") {
  std::istringstream emails("\xef\xbb\xbf"
                            "a@x.com\r\nb@x.com\r\n");
  auto inputs = core::read_email_file(emails, "e.txt");
  REQUIRE(inputs.size() == 2);
  CHECK(inputs[0].params["email"][0] == "a@x.com");
  CHECK(inputs[1].params["email"][0] == "b@x.com");
  // The same on a stream (stdin).
  std::istringstream stream("\xef\xbb\xbf"
                            "a@x.com\n");
  core::EmailStreamSource source(std::make_unique<core::IstreamLineReader>(stream), "<stdin>");
  auto first = source.next();
  REQUIRE(first);
  CHECK(first->error.empty());
  CHECK(first->params["email"][0] == "a@x.com");
  for (InputFormat format : {InputFormat::csv, InputFormat::tsv}) {
    std::istringstream csv(format == InputFormat::csv ? "\xef\xbb\xbf"
                                                        "email,n\na@x.com,1\n"
                                                      : "\xef\xbb\xbf"
                                                        "email\tn\na@x.com\t1\n");
    core::FormatOptions opts;
    opts.format = format;
    opts.name = "f";
    auto records = core::read_inputs(csv, opts);
    REQUIRE(records.size() == 1);
    CHECK(records[0].params.contains("email"));
    CHECK(records[0].params["n"][0] == "1");
  }
}

TEST_CASE("input_checks::looks_binary: NUL or many odd bytes, not a stray one") {
  CHECK(core::looks_binary(std::string("ab\0cd", 5)));
  CHECK_FALSE(core::looks_binary("plain text\nwith lines\n"));
  CHECK_FALSE(core::looks_binary("caf\xe9 au lait\nna\xefve\n")); // Latin-1: two stray bytes
  CHECK_FALSE(core::looks_binary("\xff\n1\n"));
  std::string noise;
  for (int i = 0; i < 400; ++i) {
    noise += static_cast<char>(0x80 + (i * 37) % 0x7f);
  }
  CHECK(core::looks_binary(noise));
  CHECK_FALSE(core::looks_binary("h\xc3\xa9llo w\xc3\xb6rld \xe2\x82\xac")); // UTF-8 text
  CHECK_FALSE(core::looks_binary(std::string(100, 'a') + "\xe2\x82")); // cut by the sample's end
}

TEST_CASE("input_checks::ProblemList: 20 shown, then how many more; binary said first") {
  core::ProblemList list("f.txt");
  for (int i = 1; i <= 25; ++i) {
    list.add("f.txt:" + std::to_string(i) + ": bad");
  }
  std::string text = list.text();
  CHECK(text.find("f.txt:20: bad") != std::string::npos);
  CHECK(text.find("f.txt:21: bad") == std::string::npos);
  CHECK(text.ends_with("\nf.txt: and 5 more problems"));
  CHECK(list.count() == 25);
  list.sample(std::string("\0\x01\x02", 3));
  CHECK(core::ProblemList(list).text().starts_with(
      "f.txt: this looks like a binary file, not a text file of inputs"));
}

TEST_CASE("input_checks: UTF-16 (Excel's Unicode text) is named, with its iconv fix") {
  std::istringstream in(std::string("\xff\xfe"
                                    "a\0@\0x\0\n\0",
                                    10));
  std::string what = error_of([&] { core::read_email_file(in, "u.txt"); });
  CHECK(what.starts_with("u.txt: UTF-16 text, not UTF-8: convert it with iconv -f UTF-16 -t UTF-8 "
                         "u.txt > inputs.txt\n"));
}

TEST_CASE("input_checks: a binary file is one short error, not a line per byte") {
  std::string binary;
  for (int i = 0; i < 200000; ++i) {
    binary += static_cast<char>((i * 131) % 256);
  }
  std::istringstream in(binary);
  std::string what = error_of([&] { core::read_email_file(in, "bin"); });
  CHECK(what.starts_with("bin: this looks like a binary file"));
  CHECK(std::count(what.begin(), what.end(), '\n') <= 21);
  CHECK(what.find(" more problems") != std::string::npos);
}

TEST_CASE("input_checks::raw_excerpt keeps UTF-8, replaces the rest, cuts on a boundary") {
  bool cut = true;
  CHECK(core::raw_excerpt("abc", 10, cut) == "abc");
  CHECK_FALSE(cut);
  CHECK(core::raw_excerpt("a\xff"
                          "b",
                          10,
                          cut) == "a\xef\xbf\xbd"
                                  "b");
  CHECK(core::raw_excerpt("ab\xe2\x82\xac", 4, cut) == "ab"); // the euro sign does not fit
  CHECK(cut);
  CHECK(core::raw_excerpt(std::string(2000, 'x'), 1024, cut).size() == 1024);
  CHECK(cut);
}

TEST_CASE("input_checks: the shapes of JSON that are not NDJSON are named with a jq fix") {
  CHECK(read_error(InputFormat::ndjson, "[\n  {\"email\": \"a\"}\n]\n") ==
        "in: a JSON array, not one JSON object per line (NDJSON): convert it with jq -c '.[]' in "
        "> inputs.ndjson");
  CHECK(read_error(InputFormat::ndjson, "\n{\n  \"email\": \"a\"\n}\n") ==
        "in: pretty-printed JSON, not one JSON object per line (NDJSON): convert it with jq -c . "
        "in > inputs.ndjson");
  CHECK(read_error(InputFormat::ndjson, "{\"email\": \"a\"}\n").empty());
}

TEST_CASE("input_checks: TSV is read by extension, tabs between the fields") {
  CHECK(core::choose_format("a.tsv", std::nullopt) == InputFormat::tsv);
  CHECK(core::choose_format("A.TAB", std::nullopt) == InputFormat::tsv);
  std::istringstream in("email\tnote\na@x.com\t\"a, b\"\n");
  core::FormatOptions opts;
  opts.format = InputFormat::tsv;
  opts.name = "t";
  auto inputs = core::read_inputs(in, opts);
  REQUIRE(inputs.size() == 1);
  CHECK(inputs[0].params["note"][0] == "a, b");
}

TEST_CASE("input_checks: a bad line on a stream keeps its raw text, cut at 1 KiB") {
  std::istringstream in("not-an-email\n" + std::string(3000, 'y') + "\n");
  core::EmailStreamSource source(std::make_unique<core::IstreamLineReader>(in), "<stdin>");
  auto first = source.next();
  REQUIRE(first);
  CHECK(first->raw == "not-an-email");
  CHECK_FALSE(first->raw_cut);
  core::Json line;
  core::add_raw_input(line, *first);
  CHECK(line["raw_input"] == "not-an-email");
  CHECK_FALSE(line.contains("raw_input_truncated"));
  auto second = source.next();
  REQUIRE(second);
  CHECK(second->raw.size() == core::k_raw_input_bytes);
  CHECK(second->raw_cut);
  core::Json long_line;
  core::add_raw_input(long_line, *second);
  CHECK(long_line["raw_input_truncated"] == true);
  // Secrets are not copied to stdout.
  core::Input secret;
  secret.error = "bad";
  secret.raw = R"({"email":"a","secure_parameters":{"pw":"x"})";
  core::Json secret_line;
  core::add_raw_input(secret_line, secret);
  CHECK(secret_line["raw_input"].get<std::string>().find("\"x\"") == std::string::npos);
}

TEST_SUITE_END();

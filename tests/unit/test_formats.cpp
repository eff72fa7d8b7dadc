#include "core/error.h"
#include "core/formats.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <unistd.h>

TEST_SUITE_BEGIN("formats");

using core::FormatOptions;
using core::InputFormat;

namespace {

FormatOptions options(InputFormat format, const std::string& name) {
  FormatOptions opts;
  opts.format = format;
  opts.name = name;
  return opts;
}

std::vector<core::Input> read(InputFormat format, const std::string& text) {
  std::istringstream in(text);
  return core::read_inputs(in, options(format, "in"));
}

// The message read_inputs throws for `text`, or "" when it reads fine.
std::string problems(InputFormat format, const std::string& text) {
  try {
    read(format, text);
  } catch (const core::Error& e) {
    CHECK(e.code() == core::ExitCode::usage);
    return e.what();
  }
  return "";
}

std::string params(const core::Input& input) {
  return input.params.dump();
}

// A directory removed with everything in it when the test ends.
class TempDir {
public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "formats-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    m_path = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
  }
  std::string write(const std::string& name, const std::string& text) const {
    std::string path = (m_path / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  std::string path() const { return m_path.string(); }

private:
  std::filesystem::path m_path;
};

} // namespace

TEST_CASE("formats::parse_format_name knows the three names") {
  CHECK(core::parse_format_name("lines") == InputFormat::lines);
  CHECK(core::parse_format_name("csv") == InputFormat::csv);
  CHECK(core::parse_format_name("ndjson") == InputFormat::ndjson);
  CHECK(core::parse_format_name("CSV") == InputFormat::csv);
  CHECK_FALSE(core::parse_format_name(""));
}

TEST_CASE("formats::k_input_formats lists every format once, with its word") {
  CHECK(core::input_format_names() == std::vector<std::string>{"lines", "csv", "tsv", "ndjson"});
  for (const auto& info : core::k_input_formats) {
    CAPTURE(info.name);
    CHECK(core::format_name(info.format) == std::string(info.name));
    CHECK(core::parse_format_name(info.name) == info.format);
    CHECK(std::string(info.description).size() > 0);
  }
}

TEST_CASE("formats::parse_format_name refuses other words and suggests the closest") {
  SUBCASE("a typo") {
    CHECK_THROWS_WITH_AS(
        core::parse_format_name("cvs"),
        "unknown --format \"cvs\" (expected lines, csv, tsv or ndjson); did you mean "
        "\"csv\"?",
        core::Error);
  }
  SUBCASE("a near name") {
    CHECK_THROWS_WITH_AS(core::parse_format_name("jsonl"),
                         doctest::Contains("did you mean \"ndjson\"?"),
                         core::Error);
  }
  SUBCASE("nothing close") {
    CHECK_THROWS_WITH_AS(core::parse_format_name("xml"),
                         "unknown --format \"xml\" (expected lines, csv, tsv or ndjson)",
                         core::Error);
  }
}

TEST_CASE("formats::choose_format prefers --format, else the extension") {
  SUBCASE("explicit format wins") {
    CHECK(core::choose_format("a.csv", InputFormat::lines) == InputFormat::lines);
    CHECK(core::choose_format("-", InputFormat::csv) == InputFormat::csv);
  }
  SUBCASE("by extension") {
    CHECK(core::choose_format("a.csv", std::nullopt) == InputFormat::csv);
    CHECK(core::choose_format("dir/A.CSV", std::nullopt) == InputFormat::csv);
    CHECK(core::choose_format("a.ndjson", std::nullopt) == InputFormat::ndjson);
    CHECK(core::choose_format("a.jsonl", std::nullopt) == InputFormat::ndjson);
    CHECK(core::choose_format("a.json", std::nullopt) == InputFormat::ndjson);
    CHECK(core::choose_format("a.txt", std::nullopt) == InputFormat::lines);
    CHECK(core::choose_format("a.lines", std::nullopt) == InputFormat::lines);
    CHECK(core::choose_format("a.list", std::nullopt) == InputFormat::lines);
  }
  SUBCASE("stdin and unknown extensions are ndjson") {
    CHECK(core::choose_format("-", std::nullopt) == InputFormat::ndjson);
    CHECK(core::choose_format("inputs", std::nullopt) == InputFormat::ndjson);
    CHECK(core::choose_format("a.dat", std::nullopt) == InputFormat::ndjson);
    CHECK(core::choose_format("csv.d/inputs", std::nullopt) == InputFormat::ndjson);
  }
}

TEST_CASE("formats::read_inputs lines: one value a line") {
  FormatOptions opts = options(InputFormat::lines, "list.txt");
  opts.param_name = "sku";
  SUBCASE("trims, skips blanks and comments") {
    std::istringstream in("  A17 \r\n\n# comment\n  # indented\nB 42\n");
    auto inputs = core::read_inputs(in, opts);
    REQUIRE(inputs.size() == 2);
    CHECK(params(inputs[0]) == R"({"sku":["A17"]})");
    CHECK(params(inputs[1]) == R"({"sku":["B 42"]})");
    CHECK(inputs[1].where == "list.txt:5");
    CHECK(inputs[0].secure.is_null());
  }
  SUBCASE("the default parameter is value") {
    auto inputs = read(InputFormat::lines, "x\n");
    REQUIRE(inputs.size() == 1);
    CHECK(params(inputs[0]) == R"({"value":["x"]})");
  }
  SUBCASE("a BOM is ignored") {
    auto inputs = read(InputFormat::lines, "\xef\xbb\xbfx\n");
    REQUIRE(inputs.size() == 1);
    CHECK(params(inputs[0]) == R"({"value":["x"]})");
  }
  SUBCASE("invalid UTF-8 is bad") {
    CHECK(problems(InputFormat::lines, "ok\ncaf\xe9\n") == "in:2: not valid UTF-8");
  }
}

TEST_CASE("formats::read_inputs csv: header, cells and quoting") {
  SUBCASE("plain records in column order") {
    auto inputs = read(InputFormat::csv, "name,email\nAda,ada@x.com\nBob,bob@x.com\n");
    REQUIRE(inputs.size() == 2);
    CHECK(params(inputs[0]) == R"({"name":["Ada"],"email":["ada@x.com"]})");
    CHECK(inputs[1].where == "in:3");
  }
  SUBCASE("quoted fields with commas and doubled quotes") {
    auto inputs = read(InputFormat::csv, "a,b\n\"x, y\",\"say \"\"hi\"\"\"\n");
    REQUIRE(inputs.size() == 1);
    CHECK(inputs[0].params["a"][0] == "x, y");
    CHECK(inputs[0].params["b"][0] == "say \"hi\"");
  }
  SUBCASE("a quoted line break spans lines; the record keeps its first line") {
    auto inputs = read(InputFormat::csv, "a,b\n1,\"line one\nline two\n\"\n2,x\n");
    REQUIRE(inputs.size() == 2);
    CHECK(inputs[0].params["b"][0] == "line one\nline two\n");
    CHECK(inputs[0].where == "in:2");
    CHECK(inputs[1].where == "in:5");
  }
  SUBCASE("CRLF line ends") {
    auto inputs = read(InputFormat::csv, "a,b\r\n1,2\r\n\"multi\r\nline\",3\r\n");
    REQUIRE(inputs.size() == 2);
    CHECK(params(inputs[0]) == R"({"a":["1"],"b":["2"]})");
    CHECK(inputs[1].params["a"][0] == "multi\r\nline");
  }
  SUBCASE("a BOM before the header is stripped") {
    auto inputs = read(InputFormat::csv, "\xef\xbb\xbfname\nAda\n");
    REQUIRE(inputs.size() == 1);
    CHECK(params(inputs[0]) == R"({"name":["Ada"]})");
  }
  SUBCASE("empty cells are empty lists, quoted or not") {
    auto inputs = read(InputFormat::csv, "a,b,c\n,\"\",x\n");
    REQUIRE(inputs.size() == 1);
    CHECK(params(inputs[0]) == R"({"a":[],"b":[],"c":["x"]})");
  }
  SUBCASE("blank lines between records are skipped") {
    auto inputs = read(InputFormat::csv, "\na\n\n1\n\r\n2\n");
    REQUIRE(inputs.size() == 2);
    CHECK(inputs[1].where == "in:6");
  }
  SUBCASE("the last line may lack its newline") {
    auto inputs = read(InputFormat::csv, "a\n1");
    REQUIRE(inputs.size() == 1);
  }
  SUBCASE("a header alone or nothing at all is no inputs") {
    CHECK(read(InputFormat::csv, "a,b\n").empty());
    CHECK(read(InputFormat::csv, "").empty());
  }
  SUBCASE("spaces are part of a field") {
    auto inputs = read(InputFormat::csv, "a,b\n x , y\n");
    REQUIRE(inputs.size() == 1);
    CHECK(params(inputs[0]) == R"({"a":[" x "],"b":[" y"]})");
  }
}

TEST_CASE("formats::read_inputs csv names each problem") {
  SUBCASE("ragged rows") {
    CHECK(problems(InputFormat::csv, "a,b,c\n1,2,3\n1,2\n1,2,3,4\n") ==
          "in:3: expected 3 fields, got 2\nin:4: expected 3 fields, got 4");
  }
  SUBCASE("unterminated quote at the end of input, at the line it starts") {
    CHECK(problems(InputFormat::csv, "a,b\n1,2\n3,\"open\nmore\nlines\n") ==
          "in:3: field 2: unterminated quote");
  }
  SUBCASE("a quote inside an unquoted field") {
    CHECK(problems(InputFormat::csv, "a,b\n1,ab\"c\n") ==
          "in:2: field 2: quote inside an unquoted field");
  }
  SUBCASE("characters after a closing quote") {
    CHECK(problems(InputFormat::csv, "a,b\n\"x\"y,1\n") ==
          "in:2: field 1: characters after a closing quote");
    CHECK(problems(InputFormat::csv, "a,b\n1,\"x\" \n") ==
          "in:2: field 2: characters after a closing quote");
  }
  SUBCASE("an empty header name") {
    CHECK(problems(InputFormat::csv, "a,,c\n1,2,3\n") == "in:1: field 2: empty column name");
  }
  SUBCASE("a repeated header name") {
    CHECK(problems(InputFormat::csv, "a,b,a\n1,2,3\n") ==
          "in:1: field 3: column \"a\" repeats field 1");
  }
  SUBCASE("invalid UTF-8 in a cell or the header") {
    CHECK(problems(InputFormat::csv, "a,b\n1,caf\xe9\n") == "in:2: field 2: not valid UTF-8");
    CHECK(problems(InputFormat::csv, "\xff\n1\n") == "in:1: field 1: not valid UTF-8");
  }
  SUBCASE("the record after a bad one is still checked") {
    CHECK(problems(InputFormat::csv, "a,b\n1,x\"y\n2\n") ==
          "in:2: field 2: quote inside an unquoted field\nin:3: expected 2 fields, got 1");
  }
}

TEST_CASE("formats::read_inputs ndjson: every value type") {
  SUBCASE("strings, numbers, booleans and arrays of them") {
    auto inputs = read(InputFormat::ndjson,
                       R"({"s":"x","i":3,"f":1.5,"t":true,"n":false,"list":["a",2,false,0.25]})");
    REQUIRE(inputs.size() == 1);
    CHECK(params(inputs[0]) == R"({"s":["x"],"i":["3"],"f":["1.5"],"t":["true"],"n":["false"],)"
                               R"("list":["a","2","false","0.25"]})");
  }
  SUBCASE("an empty array and an empty string are kept as written") {
    auto inputs = read(InputFormat::ndjson, R"({"skip":[],"blank":""})");
    REQUIRE(inputs.size() == 1);
    CHECK(params(inputs[0]) == R"({"skip":[],"blank":[""]})");
  }
  SUBCASE("an object with no parameters is fine") {
    auto inputs = read(InputFormat::ndjson, "{}\n");
    REQUIRE(inputs.size() == 1);
    CHECK(params(inputs[0]) == "{}");
  }
  SUBCASE("blank lines are skipped; where counts every line") {
    auto inputs = read(InputFormat::ndjson, "\n{\"a\":\"1\"}\r\n  \n{\"a\":\"2\"}");
    REQUIRE(inputs.size() == 2);
    CHECK(inputs[0].where == "in:2");
    CHECK(inputs[1].where == "in:4");
  }
  SUBCASE("keys keep their order") {
    auto inputs = read(InputFormat::ndjson, R"({"z":"1","a":"2"})");
    REQUIRE(inputs.size() == 1);
    CHECK(params(inputs[0]) == R"({"z":["1"],"a":["2"]})");
  }
}

TEST_CASE("formats::read_inputs ndjson names each problem") {
  SUBCASE("not JSON") {
    std::string what = problems(InputFormat::ndjson, "{\"a\":\"1\"}\n{a:1}\n");
    CHECK(what.starts_with("in:2: not JSON: "));
    CHECK(what.find("column") != std::string::npos);
    CHECK(what.find("json.exception") == std::string::npos);
    CHECK(what.find('\n') == std::string::npos);
  }
  SUBCASE("the reason, without nlohmann's prefix") {
    CHECK(problems(InputFormat::ndjson, "{a:1}") ==
          "in:1: not JSON: column 2: invalid literal; last read: '{a'; expected string literal");
    CHECK(problems(InputFormat::ndjson, R"({"a":"1"} {})") ==
          "in:1: not JSON: column 11: unexpected '{'; expected end of input");
  }
  SUBCASE("a number too large for a double") {
    CHECK(problems(InputFormat::ndjson, R"({"a":1e400})") ==
          "in:1: not JSON: number overflow parsing '1e400'");
  }
  SUBCASE("a cut-short object") {
    CHECK(problems(InputFormat::ndjson, R"({"a":"1")").starts_with("in:1: not JSON: "));
  }
  SUBCASE("a long bad line gives a short message") {
    std::string what = problems(InputFormat::ndjson, "\"" + std::string(500, 'x'));
    CHECK(what.size() < 150);
  }
  SUBCASE("not an object") {
    CHECK(problems(InputFormat::ndjson, "{\"a\":1}\n[1,2]\n\"x\"\n") ==
          "in:2: not a JSON object (got array)\nin:3: not a JSON object (got string)");
  }
  SUBCASE("null") {
    CHECK(problems(InputFormat::ndjson, R"({"age":null})") ==
          "in:1: \"age\": null is not a parameter value");
  }
  SUBCASE("a nested object") {
    CHECK(problems(InputFormat::ndjson, R"({"addr":{"city":"x"}})") ==
          "in:1: \"addr\": an object is not a parameter value");
  }
  SUBCASE("an array holding an object, an array or null") {
    CHECK(problems(InputFormat::ndjson, R"({"tags":["a",{"b":1},[2],null]})") ==
          "in:1: \"tags\"[1]: an object is not a parameter value\n"
          "in:1: \"tags\"[2]: an array is not a parameter value\n"
          "in:1: \"tags\"[3]: null is not a parameter value");
  }
  SUBCASE("a key given twice") {
    CHECK(problems(InputFormat::ndjson, R"({"a":"1","a":"2"})") == "in:1: \"a\": key given twice");
  }
  SUBCASE("an empty parameter name") {
    CHECK(problems(InputFormat::ndjson, R"({"":"1"})") == "in:1: empty parameter name");
  }
  SUBCASE("invalid UTF-8") {
    CHECK(problems(InputFormat::ndjson, "{\"a\":\"caf\xe9\"}") == "in:1: not valid UTF-8");
  }
}

TEST_CASE("formats::read_inputs ndjson keeps secure_parameters apart") {
  auto inputs =
      read(InputFormat::ndjson,
           R"({"user":"ada","secure_parameters":{"password":[{"onepassword":)"
           R"({"vault_name":"v","item_name":"i","field_name":"f","type":"raw"}}],)"
           R"("otp":[{"totp":{"totp_secret":"S","digits":8}}],)"
           R"("key":[{"amazon_secrets_manager":{"secret_name":"s","region_name":"r"}}]}})");
  REQUIRE(inputs.size() == 1);
  CHECK(params(inputs[0]) == R"({"user":["ada"]})");
  REQUIRE(inputs[0].secure.is_object());
  CHECK(inputs[0].secure["password"][0]["onepassword"]["type"] == "raw");
  CHECK(inputs[0].secure["otp"][0]["totp"]["digits"] == 8);
  CHECK(inputs[0].secure.size() == 3);
}

TEST_CASE("formats::read_inputs ndjson checks secure_parameters shapes") {
  auto secure = [](const std::string& value) {
    return problems(InputFormat::ndjson, R"({"secure_parameters":)" + value + "}");
  };
  SUBCASE("not an object") {
    CHECK(secure("[]") == "in:1: secure_parameters: expected an object of name -> list of secrets");
  }
  SUBCASE("a value that is not a list") {
    CHECK(secure(R"({"pw":{"totp":{"totp_secret":"S"}}})") ==
          "in:1: secure_parameters.\"pw\": expected a list of secrets");
  }
  SUBCASE("an element that is not an object") {
    CHECK(secure(R"({"pw":["x"]})") == "in:1: secure_parameters.\"pw\"[0]: expected an object");
  }
  SUBCASE("no kind, or two kinds") {
    std::string both = R"({"pw":[{},{"totp":{"totp_secret":"S"},)"
                       R"("amazon_secrets_manager":{"secret_name":"s","region_name":"r"}}]})";
    CHECK(secure(both) == "in:1: secure_parameters.\"pw\"[0]: needs exactly one of onepassword, "
                          "amazon_secrets_manager, totp\n"
                          "in:1: secure_parameters.\"pw\"[1]: needs exactly one of onepassword, "
                          "amazon_secrets_manager, totp");
  }
  SUBCASE("a kind that is not an object") {
    CHECK(secure(R"({"pw":[{"totp":"S"}]})") ==
          "in:1: secure_parameters.\"pw\"[0].totp: expected an object");
  }
  SUBCASE("missing or non-string required fields") {
    CHECK(secure(R"({"pw":[{"onepassword":{"vault_name":"v","item_name":3}}]})") ==
          "in:1: secure_parameters.\"pw\"[0].onepassword: \"item_name\" must be a non-empty "
          "string\n"
          "in:1: secure_parameters.\"pw\"[0].onepassword: missing \"field_name\"");
    CHECK(secure(R"({"k":[{"amazon_secrets_manager":{"secret_name":"s"}}]})") ==
          "in:1: secure_parameters.\"k\"[0].amazon_secrets_manager: missing \"region_name\"");
    CHECK(secure(R"({"otp":[{"totp":{"totp_secret":""}}]})") ==
          "in:1: secure_parameters.\"otp\"[0].totp: \"totp_secret\" must be a non-empty string");
  }
  SUBCASE("an empty object is fine") {
    auto inputs = read(InputFormat::ndjson, R"({"a":"1","secure_parameters":{}})");
    REQUIRE(inputs.size() == 1);
    CHECK(inputs[0].secure == core::Json::object());
  }
}

TEST_CASE("formats::read_inputs reports every problem at once") {
  std::string text = "{\"a\":\"1\"}\n"
                     "nope\n"
                     "{\"a\":null}\n"
                     "{\"a\":\"2\"}\n"
                     "7\n";
  std::string what = problems(InputFormat::ndjson, text);
  CHECK(what.starts_with("in:2: not JSON: "));
  CHECK(what.find("\nin:3: \"a\": null is not a parameter value\n") != std::string::npos);
  CHECK(what.ends_with("\nin:5: not a JSON object (got number)"));
}

TEST_CASE("formats::load_inputs_file reads a file and names it") {
  TempDir dir;
  SUBCASE("a file") {
    std::string path = dir.write("in.csv", "a\n1\n");
    FormatOptions opts;
    opts.format = InputFormat::csv;
    auto inputs = core::load_inputs_file(path, opts);
    REQUIRE(inputs.size() == 1);
    CHECK(inputs[0].where == path + ":2");
  }
  SUBCASE("problems name the file") {
    std::string path = dir.write("in.csv", "a,b\n1\n");
    CHECK_THROWS_WITH_AS(core::load_inputs_file(path, options(InputFormat::csv, "")),
                         (path + ":2: expected 2 fields, got 1").c_str(),
                         core::Error);
  }
  SUBCASE("a missing file") {
    std::string path = dir.path() + "/none.csv";
    CHECK_THROWS_WITH_AS(core::load_inputs_file(path, FormatOptions{}),
                         doctest::Contains(("cannot open " + path).c_str()),
                         core::Error);
  }
  SUBCASE("a directory") {
    CHECK_THROWS_WITH_AS(core::load_inputs_file(dir.path(), FormatOptions{}),
                         doctest::Contains("is a directory"),
                         core::Error);
  }
}

TEST_CASE("formats::make_stream_source turns a bad record into an invalid input and goes on") {
  std::istringstream in("{\"a\":\"1\"}\n\nnot json\n{\"a\":null}\n{\"a\":\"2\"}\n");
  auto source = core::make_stream_source(std::make_unique<core::IstreamLineReader>(in),
                                         options(InputFormat::ndjson, "<stdin>"));
  CHECK(source->streaming());
  auto first = source->next();
  REQUIRE(first);
  CHECK(first->error.empty());
  CHECK(first->where == "<stdin>:1");
  auto second = source->next();
  REQUIRE(second);
  CHECK(second->error.starts_with("<stdin>:3: not JSON: "));
  CHECK(second->params.empty());
  auto third = source->next();
  REQUIRE(third);
  CHECK(third->error == "<stdin>:4: \"a\": null is not a parameter value");
  auto fourth = source->next();
  REQUIRE(fourth);
  CHECK(params(*fourth) == R"({"a":["2"]})");
  CHECK_FALSE(source->next());
  CHECK_FALSE(source->next());
}

TEST_CASE("formats::make_stream_source reads CSV records as they complete") {
  SUBCASE("a multi-line quoted record") {
    std::istringstream in("name,note\nAda,\"two\nlines\"\nBob,x,extra\nCy,ok\n");
    auto source = core::make_stream_source(std::make_unique<core::IstreamLineReader>(in),
                                           options(InputFormat::csv, "<stdin>"));
    auto first = source->next();
    REQUIRE(first);
    CHECK(first->where == "<stdin>:2");
    CHECK(params(*first) == R"({"name":["Ada"],"note":["two\nlines"]})");
    auto second = source->next();
    REQUIRE(second);
    CHECK(second->error == "<stdin>:4: expected 2 fields, got 3");
    auto third = source->next();
    REQUIRE(third);
    CHECK(third->where == "<stdin>:5");
    CHECK(third->error.empty());
    CHECK_FALSE(source->next());
  }
  SUBCASE("an unterminated quote at the end is one invalid input") {
    std::istringstream in("a\n1\n\"open\n2\n");
    auto source = core::make_stream_source(std::make_unique<core::IstreamLineReader>(in),
                                           options(InputFormat::csv, "<stdin>"));
    REQUIRE(source->next());
    auto bad = source->next();
    REQUIRE(bad);
    CHECK(bad->error == "<stdin>:3: field 1: unterminated quote");
    CHECK_FALSE(source->next());
  }
  SUBCASE("a bad header makes every data record invalid") {
    std::istringstream in("a,a\n1,2\n3,4\n");
    auto source = core::make_stream_source(std::make_unique<core::IstreamLineReader>(in),
                                           options(InputFormat::csv, "<stdin>"));
    auto first = source->next();
    REQUIRE(first);
    CHECK(first->error ==
          "<stdin>:2: bad CSV header at line 1: field 2: column \"a\" repeats field 1");
    auto second = source->next();
    REQUIRE(second);
    CHECK(second->where == "<stdin>:3");
    CHECK_FALSE(second->error.empty());
    CHECK_FALSE(source->next());
  }
  SUBCASE("several problems in one record share its line") {
    std::istringstream in("a,b\n\"x\"y,1\"2\n");
    auto source = core::make_stream_source(std::make_unique<core::IstreamLineReader>(in),
                                           options(InputFormat::csv, "<stdin>"));
    auto bad = source->next();
    REQUIRE(bad);
    CHECK(bad->error == "<stdin>:2: field 1: characters after a closing quote; field 2: quote "
                        "inside an unquoted field");
  }
}

TEST_CASE("formats::make_stream_source hands each record to exactly one thread") {
  std::string text = "a,b\n";
  for (int i = 0; i < 400; ++i) {
    text += i % 7 == 0 ? "\"multi\nline\",x\n" : std::to_string(i) + ",y\n";
  }
  std::istringstream in(text);
  auto source = core::make_stream_source(std::make_unique<core::IstreamLineReader>(in),
                                         options(InputFormat::csv, "<stdin>"));
  std::mutex mutex;
  std::set<std::string> seen;
  size_t count = 0;
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        while (auto input = source->next()) {
          std::lock_guard lock(mutex);
          seen.insert(input->where);
          ++count;
        }
      });
    }
  }
  CHECK(count == 400);
  CHECK(seen.size() == 400);
}

TEST_CASE("formats::make_stream_source stops when asked") {
  std::istringstream in("x\ny\n");
  auto source = core::make_stream_source(std::make_unique<core::IstreamLineReader>(in),
                                         options(InputFormat::lines, "<stdin>"));
  std::stop_source stop;
  stop.request_stop();
  CHECK_FALSE(source->next(stop.get_token()));
}

TEST_SUITE_END();

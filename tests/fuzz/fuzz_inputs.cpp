// libFuzzer harness for the input parsers: --emails files and streams, the lines, CSV and NDJSON
// formats (whole files and streams), and records of another run turned into inputs by --map.
// The fuzz input is the file's text. core::Error is the expected answer to a bad file; any other
// exception, a crash or a broken invariant below is a bug.
#include "core/error.h"
#include "core/formats.h"
#include "core/inputs.h"
#include "core/mapping.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"

namespace {

const std::string k_name = "in.txt";

// A Json that the submit body will carry must serialize strictly: invalid UTF-8 would throw.
void check_serializes(const core::Json& j) {
  try {
    (void)j.dump();
  } catch (const core::Json::exception& e) {
    FUZZ_CHECK(false, e.what());
  }
}

// Every parser hands on parameters as name -> list of strings.
void check_params(const core::Json& params) {
  FUZZ_CHECK(params.is_object(), "parameters are an object");
  for (const auto& [name, list] : params.items()) {
    FUZZ_CHECK(!name.empty(), "a parameter has a name");
    FUZZ_CHECK(list.is_array(), "a parameter is a list");
    for (const auto& value : list) {
      FUZZ_CHECK(value.is_string(), "a parameter lists strings");
    }
  }
  check_serializes(params);
}

// A problem names its place (`name:line: what`) on one line.
void check_message_line(std::string_view line, std::string_view name) {
  FUZZ_CHECK(line.starts_with(std::string(name) + ":"), "a problem starts with name:line");
  FUZZ_CHECK(line.find('\n') == std::string_view::npos, "a problem is one line");
}

// An Error's message is one `name:line: what` line per problem.
void check_error_lines(const core::Error& e, std::string_view name) {
  std::string_view text = e.what();
  FUZZ_CHECK(!text.empty(), "an error says what is wrong");
  size_t start = 0;
  while (start <= text.size()) {
    size_t nl = text.find('\n', start);
    size_t end = nl == std::string_view::npos ? text.size() : nl;
    check_message_line(text.substr(start, end - start), name);
    if (nl == std::string_view::npos) {
      break;
    }
    start = nl + 1;
  }
}

// What one input comes to, for comparing a whole-file read with a streamed one.
void check_input(const core::Input& input) {
  FUZZ_CHECK(!input.where.empty(), "an input says where it came from");
  if (input.error.empty()) {
    check_params(input.params);
    if (!input.secure.is_null()) {
      check_serializes(input.secure);
    }
  } else {
    FUZZ_CHECK(input.error.starts_with(input.where + ": "), "an error starts with its place");
    check_message_line(input.error, k_name);
  }
}

std::vector<core::Input> drain(core::InputSource& source) {
  std::vector<core::Input> out;
  while (auto input = source.next()) {
    check_input(*input);
    out.push_back(std::move(*input));
  }
  return out;
}

// A file read whole succeeds exactly when every input it streams is valid, and then both agree.
void check_same(const std::vector<core::Input>& whole, const std::vector<core::Input>& streamed) {
  FUZZ_CHECK(whole.size() == streamed.size(), "file and stream give as many inputs");
  for (size_t i = 0; i < whole.size(); ++i) {
    FUZZ_CHECK(streamed[i].error.empty(), "a valid file streams no invalid input");
    FUZZ_CHECK(whole[i].where == streamed[i].where, "file and stream agree on places");
    FUZZ_CHECK(whole[i].params == streamed[i].params, "file and stream agree on parameters");
    FUZZ_CHECK(whole[i].secure == streamed[i].secure, "file and stream agree on secrets");
  }
}

void fuzz_emails(const std::string& text) {
  std::vector<core::Input> whole;
  bool ok = true;
  try {
    std::istringstream in(text);
    whole = core::read_email_file(in, k_name);
  } catch (const core::Error& e) {
    check_error_lines(e, k_name);
    ok = false;
  }
  std::istringstream in(text);
  core::EmailStreamSource source(std::make_unique<core::IstreamLineReader>(in), k_name);
  std::vector<core::Input> streamed = drain(source);
  if (ok) {
    check_same(whole, streamed);
  }
}

void fuzz_format(const std::string& text, core::InputFormat format) {
  core::FormatOptions opts;
  opts.format = format;
  opts.name = k_name;
  std::vector<core::Input> whole;
  bool ok = true;
  try {
    std::istringstream in(text);
    whole = core::read_inputs(in, opts);
    for (const auto& input : whole) {
      check_input(input);
    }
  } catch (const core::Error& e) {
    check_error_lines(e, k_name);
    ok = false;
  }
  std::istringstream in(text);
  auto source = core::make_stream_source(std::make_unique<core::IstreamLineReader>(in), opts);
  std::vector<core::Input> streamed = drain(*source);
  if (ok) {
    check_same(whole, streamed);
  }
}

// Records of another run (its stdout), mapped as `run --from - --map ...` would.
void fuzz_records(const std::string& text, const core::RecordOptions& opts) {
  std::istringstream in(text);
  core::RecordStreamSource source(std::make_unique<core::IstreamLineReader>(in), opts);
  while (auto input = source.next()) {
    FUZZ_CHECK(input->where.starts_with(opts.name + ":"), "a record says where it came from");
    if (!input->error.empty()) {
      FUZZ_CHECK(input->error.starts_with(input->where + ": "), "an error starts with its place");
      FUZZ_CHECK(input->error.find('\n') == std::string::npos, "an error is one line");
    } else if (!input->passthrough.is_null()) {
      // Printed unchanged, as the output writer does.
      FUZZ_CHECK(input->passthrough.is_object(), "a passthrough is a record");
      (void)core::dump_line(input->passthrough);
    } else {
      check_params(input->params);
      for (const auto& rule : opts.rules) {
        FUZZ_CHECK(input->params.contains(rule.name), "every rule gives its parameter");
      }
    }
    if (!input->from.is_null()) {
      FUZZ_CHECK(input->from.is_object() && !input->from.contains("final_screenshot"),
                 "--carry keeps the record without its screenshot");
      (void)core::dump_line(input->from);
    }
  }
}

const std::vector<core::MapRule>& fixed_rules() {
  static const std::vector<core::MapRule> rules = core::parse_map_rules(
      {"email=/input_parameters/email", "account=/output_data/0/json_data/account", "a~b=/a~1b~0"});
  return rules;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);

  fuzz_emails(text);
  fuzz_format(text, core::InputFormat::lines);
  fuzz_format(text, core::InputFormat::csv);
  fuzz_format(text, core::InputFormat::ndjson);

  core::RecordOptions plain;
  plain.rules = fixed_rules();
  plain.name = "<stdin>";
  fuzz_records(text, plain);

  core::RecordOptions filtered = plain;
  filtered.where_status = "success";
  filtered.carry = true;
  fuzz_records(text, filtered);

  // The first line as a --map spec (and a --format word): the rest as records mapped by it.
  std::string first = text.substr(0, text.find('\n'));
  try {
    (void)core::parse_format_name(first);
  } catch (const core::Error&) {
  }
  core::RecordOptions mapped = plain;
  try {
    mapped.rules = core::parse_map_rules({first});
  } catch (const core::Error&) {
    return 0;
  }
  // parse_map_rules accepts a NAME that is not UTF-8 (the request then carries U+FFFD in its
  // place): only a strict run holds it to the parsers' rule that parameters are UTF-8.
  if (!fuzz_strict() && !core::is_valid_utf8(mapped.rules.front().name)) {
    return 0;
  }
  fuzz_records(text, mapped);
  return 0;
}

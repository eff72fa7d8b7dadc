#include "core/formats.h"

#include "core/error.h"
#include "core/input_checks.h"
#include "core/names.h"
#include "core/text.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <string_view>

namespace core {

namespace {

// One record as a format sees it: a CSV header, or an input with its parameters or problems.
struct Record {
  enum class Kind { header, input };
  Kind kind = Kind::input;
  size_t line = 0; // where the record starts
  Json params = Json::object();
  Json secure = nullptr;
  std::vector<std::string> problems;
};

std::optional<Record> parse_plain_line(std::string_view raw, const std::string& param_name) {
  std::string_view line = trim(raw);
  if (line.empty() || line.front() == '#') {
    return std::nullopt;
  }
  Record record;
  if (!is_valid_utf8(line)) {
    record.problems.push_back("not valid UTF-8");
  } else {
    record.params[param_name] = Json::array({std::string(line)});
  }
  return record;
}

// ---- NDJSON ------------------------------------------------------------------------------------

// The text a JSON scalar is submitted as; nothing for null, objects and arrays.
std::optional<std::string> scalar_text(const Json& value) {
  if (value.is_string()) {
    return value.get<std::string>();
  }
  if (value.is_number() || value.is_boolean()) {
    return value.dump(); // 3 -> "3", 1.5 -> "1.5", true -> "true"
  }
  return std::nullopt;
}

std::string describe(const Json& value) {
  if (value.is_null()) {
    return "null";
  }
  return value.is_object() ? "an object" : "an array";
}

// nlohmann's message is `[json.exception.parse_error.101] parse error at line 1, column 5:
// syntax error while parsing value - invalid literal; last read: 'x'` (or, for 1e400,
// `[json.exception.out_of_range.406] number overflow parsing '1e400'`); keep the reason and the
// column, drop the parser's context, and cap what `last read` may quote.
std::string short_parse_error(const std::string& what) {
  std::string text = what;
  if (auto bracket = text.find("] "); text.starts_with("[json.") && bracket != text.npos) {
    text = text.substr(bracket + 2);
  }
  if (auto at = text.find("column "); text.starts_with("parse error") && at != text.npos) {
    text = text.substr(at); // the line is always 1: nlohmann sees one line at a time
  }
  if (auto dash = text.find(": syntax error while parsing "); dash != text.npos) {
    auto reason = text.find(" - ", dash);
    text.erase(dash + 2, reason == text.npos ? 0 : reason + 3 - (dash + 2));
  }
  constexpr size_t limit = 100;
  if (text.size() > limit) {
    size_t cut = limit;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xc0) == 0x80) {
      --cut; // never cut a UTF-8 sequence in two
    }
    text = text.substr(0, cut) + "...";
  }
  return text;
}

struct SecretKind {
  std::string_view name;
  std::vector<std::string_view> required;
};

const std::vector<SecretKind>& secret_kinds() {
  static const std::vector<SecretKind> kinds = {
      {"onepassword", {"vault_name", "item_name", "field_name"}},
      {"amazon_secrets_manager", {"secret_name", "region_name"}},
      {"totp", {"totp_secret"}},
  };
  return kinds;
}

// Checks one element of a secure_parameters list: exactly one kind, with its required strings.
// The service checks the optional fields (type, digits, key); we catch what would surely fail.
void check_secret(const Json& secret, const std::string& at, std::vector<std::string>& problems) {
  if (!secret.is_object()) {
    problems.push_back(at + ": expected an object");
    return;
  }
  const SecretKind* found = nullptr;
  size_t count = 0;
  for (const auto& kind : secret_kinds()) {
    if (secret.contains(kind.name)) {
      found = &kind;
      ++count;
    }
  }
  if (count != 1) {
    problems.push_back(at + ": needs exactly one of onepassword, amazon_secrets_manager, totp");
    return;
  }
  const Json& body = secret.at(found->name);
  std::string body_at = fmt::format("{}.{}", at, found->name);
  if (!body.is_object()) {
    problems.push_back(body_at + ": expected an object");
    return;
  }
  for (std::string_view field : found->required) {
    auto it = body.find(field);
    if (it == body.end()) {
      problems.push_back(fmt::format("{}: missing {}", body_at, quote(field)));
    } else if (!it->is_string() || it->get_ref<const std::string&>().empty()) {
      problems.push_back(fmt::format("{}: {} must be a non-empty string", body_at, quote(field)));
    }
  }
}

void check_secure_parameters(const Json& secure, std::vector<std::string>& problems) {
  if (!secure.is_object()) {
    problems.push_back("secure_parameters: expected an object of name -> list of secrets");
    return;
  }
  for (const auto& [name, list] : secure.items()) {
    std::string at = "secure_parameters." + quote(name);
    if (!list.is_array()) {
      problems.push_back(at + ": expected a list of secrets");
      continue;
    }
    for (size_t i = 0; i < list.size(); ++i) {
      check_secret(list[i], fmt::format("{}[{}]", at, i), problems);
    }
  }
}

// One parameter: a scalar or an array of scalars becomes a list of strings.
void add_parameter(Record& record, const std::string& key, const Json& value) {
  std::string name = quote(key);
  if (auto text = scalar_text(value)) {
    record.params[key] = Json::array({*text});
    return;
  }
  if (!value.is_array()) {
    record.problems.push_back(
        fmt::format("{}: {} is not a parameter value", name, describe(value)));
    return;
  }
  Json list = Json::array();
  for (size_t i = 0; i < value.size(); ++i) {
    if (auto text = scalar_text(value[i])) {
      list.push_back(*text);
    } else {
      record.problems.push_back(
          fmt::format("{}[{}]: {} is not a parameter value", name, i, describe(value[i])));
    }
  }
  record.params[key] = std::move(list);
}

std::optional<Record> parse_ndjson_line(std::string_view line) {
  if (trim(line).empty()) {
    return std::nullopt;
  }
  Record record;
  if (!is_valid_utf8(line)) {
    record.problems.push_back("not valid UTF-8");
    return record;
  }
  // Objects keep only the last of repeated keys, so a repeat would silently drop a value:
  // watch the top-level keys as the parser reads them.
  std::set<std::string> seen;
  std::vector<std::string> repeated;
  bool too_deep = false;
  auto watch = [&](int depth, Json::parse_event_t event, Json& parsed) {
    if (depth > k_max_json_depth) {
      too_deep = true; // copying it later would overflow the stack
      return false;
    }
    if (depth == 1 && event == Json::parse_event_t::key &&
        !seen.insert(parsed.get<std::string>()).second) {
      repeated.push_back(parsed.get<std::string>());
    }
    return true;
  };
  Json object;
  try {
    object = Json::parse(line.begin(), line.end(), watch);
  } catch (const Json::exception& e) {
    record.problems.push_back("not JSON: " + short_parse_error(e.what()));
    return record;
  }
  if (too_deep) {
    record.problems.push_back(fmt::format("nested deeper than {} levels", k_max_json_depth));
    return record;
  }
  if (!object.is_object()) {
    record.problems.push_back(fmt::format("not a JSON object (got {})", object.type_name()));
    return record;
  }
  for (const auto& key : repeated) {
    record.problems.push_back(fmt::format("{}: key given twice", quote(key)));
  }
  for (const auto& [key, value] : object.items()) {
    if (key == "secure_parameters") {
      check_secure_parameters(value, record.problems);
      record.secure = value;
    } else if (key.empty()) {
      record.problems.push_back("empty parameter name");
    } else {
      add_parameter(record, key, value);
    }
  }
  return record;
}

// ---- CSV ---------------------------------------------------------------------------------------

// RFC 4180, fed one line at a time so a stream can use it: a quoted field may hold commas,
// doubled quotes and line breaks, so a record can span lines. The first record is the header.
class CsvParser {
public:
  explicit CsvParser(char delimiter = ',') : m_delimiter(delimiter) {}
  std::optional<Record> feed(std::string_view line, size_t line_no);
  std::optional<Record> finish();

private:
  void problem(const std::string& what);
  void end_field();
  Record end_record();
  Record check_header();
  Record build_input();

  char m_delimiter;    // ',' (CSV) or '\t' (TSV)
  bool m_open = false; // a record has started and not ended
  bool m_in_quotes = false;
  bool m_field_started = false; // the field has a character or an opening quote
  bool m_quote_closed = false;  // the field's closing quote was seen
  bool m_field_bad = false;     // one problem a field is enough
  size_t m_start = 0;
  std::string m_field;
  std::vector<std::string> m_fields;
  std::vector<std::string> m_problems;
  std::optional<std::vector<std::string>> m_header;
};

std::optional<Record> CsvParser::feed(std::string_view line, size_t line_no) {
  // A CRLF file leaves '\r' at the end; inside quotes the line break is kept as written.
  bool crlf = line.ends_with('\r');
  if (crlf) {
    line.remove_suffix(1);
  }
  if (!m_open) {
    if (line.empty()) {
      return std::nullopt; // a blank line between records
    }
    m_open = true;
    m_start = line_no;
  }
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (m_in_quotes) {
      if (c != '"') {
        m_field += c;
      } else if (i + 1 < line.size() && line[i + 1] == '"') {
        m_field += '"';
        ++i;
      } else {
        m_in_quotes = false;
        m_quote_closed = true;
      }
    } else if (c == m_delimiter) {
      end_field();
    } else if (c == '"' && !m_field_started) {
      m_in_quotes = true;
      m_field_started = true;
    } else {
      // Keep going as a lenient reader would, so the next records are still checked.
      if (m_quote_closed) {
        problem("characters after a closing quote");
      } else if (c == '"') {
        problem("quote inside an unquoted field");
      }
      m_field += c;
      m_field_started = true;
    }
  }
  if (m_in_quotes) {
    m_field += crlf ? "\r\n" : "\n";
    return std::nullopt;
  }
  end_field();
  return end_record();
}

std::optional<Record> CsvParser::finish() {
  if (!m_open) {
    return std::nullopt;
  }
  problem("unterminated quote");
  m_in_quotes = false;
  end_field();
  return end_record();
}

void CsvParser::problem(const std::string& what) {
  if (!m_field_bad) {
    m_problems.push_back(fmt::format("field {}: {}", m_fields.size() + 1, what));
    m_field_bad = true;
  }
}

void CsvParser::end_field() {
  if (!m_field_bad && !is_valid_utf8(m_field)) {
    problem("not valid UTF-8");
  }
  m_fields.push_back(std::move(m_field));
  m_field.clear();
  m_field_started = m_quote_closed = m_field_bad = false;
}

Record CsvParser::end_record() {
  Record record = m_header ? build_input() : check_header();
  record.line = m_start;
  record.problems.insert(record.problems.begin(), m_problems.begin(), m_problems.end());
  m_problems.clear();
  m_fields.clear();
  m_open = false;
  return record;
}

Record CsvParser::check_header() {
  Record record;
  record.kind = Record::Kind::header;
  for (size_t i = 0; i < m_fields.size(); ++i) {
    auto first = std::find(m_fields.begin(), m_fields.end(), m_fields[i]);
    if (m_fields[i].empty()) {
      record.problems.push_back(fmt::format("field {}: empty column name", i + 1));
    } else if (first != m_fields.begin() + static_cast<std::ptrdiff_t>(i)) {
      record.problems.push_back(fmt::format("field {}: column {} repeats field {}",
                                            i + 1,
                                            quote(m_fields[i]),
                                            first - m_fields.begin() + 1));
    }
  }
  m_header = std::move(m_fields);
  return record;
}

Record CsvParser::build_input() {
  Record record;
  if (m_fields.size() != m_header->size()) {
    record.problems.push_back(
        fmt::format("expected {} fields, got {}", m_header->size(), m_fields.size()));
    return record;
  }
  for (size_t i = 0; i < m_fields.size(); ++i) {
    // An empty cell is an empty list: the service skips the action that uses it.
    record.params[(*m_header)[i]] =
        m_fields[i].empty() ? Json::array() : Json::array({std::move(m_fields[i])});
  }
  return record;
}

// ---- Records from lines ------------------------------------------------------------------------

// Turns the lines of a file or a stream into records of one format.
class RecordParser {
public:
  explicit RecordParser(FormatOptions opts)
      : m_opts(std::move(opts)), m_csv(m_opts.format == InputFormat::tsv ? '\t' : ',') {}

  const std::string& name() const { return m_opts.name; }

  // The record this line completes, if any.
  std::optional<Record> feed(std::string_view line) {
    if (++m_line == 1) {
      line = without_bom(line);
    }
    std::optional<Record> record;
    switch (m_opts.format) {
    case InputFormat::lines:
      record = parse_plain_line(line, m_opts.param_name);
      break;
    case InputFormat::ndjson:
      record = parse_ndjson_line(line);
      break;
    case InputFormat::csv:
    case InputFormat::tsv:
      return m_csv.feed(line, m_line);
    }
    if (record) {
      record->line = m_line;
    }
    return record;
  }

  // The end of input: a record still open (an unterminated CSV quote), if any.
  std::optional<Record> finish() { return m_csv.finish(); }

private:
  FormatOptions m_opts;
  size_t m_line = 0;
  CsvParser m_csv;
};

std::string where(const std::string& name, size_t line) {
  return fmt::format("{}:{}", name, line);
}

class FormatStreamSource : public InputSource {
public:
  FormatStreamSource(std::unique_ptr<LineReader> reader, const FormatOptions& opts)
      : m_reader(std::move(reader)), m_parser(opts) {}

  std::optional<Input> next(std::stop_token stop = {}) override {
    std::lock_guard lock(m_mutex);
    for (;;) {
      std::optional<Record> record;
      if (auto line = m_reader->next_line(stop)) {
        // The raw text of the record being read (a CSV record may span lines), for an
        // invalid_input line; a little more than is kept, to know it was cut.
        if (m_raw.size() <= k_raw_input_bytes) {
          m_raw.append(m_raw.empty() ? "" : "\n").append(line->substr(0, k_raw_input_bytes + 1));
        }
        record = m_parser.feed(*line);
      } else if (!m_finished && !stop.stop_requested()) {
        m_finished = true;
        record = m_parser.finish();
      }
      if (!record && (m_finished || stop.stop_requested())) {
        return std::nullopt;
      }
      if (record) {
        std::string raw = std::move(m_raw);
        m_raw.clear();
        if (auto input = to_input(std::move(*record))) {
          if (!input->error.empty()) {
            input->raw = raw_excerpt(raw, k_raw_input_bytes, input->raw_cut);
          }
          return input;
        }
      }
    }
  }

  bool streaming() const override { return true; }

private:
  std::optional<Input> to_input(Record record) {
    std::string at = where(m_parser.name(), record.line);
    if (record.kind == Record::Kind::header) {
      // The header is not an input; when it is bad, every data record says why it cannot run.
      if (!record.problems.empty()) {
        m_bad_header =
            fmt::format("bad CSV header at line {}: {}", record.line, record.problems.front());
      }
      return std::nullopt;
    }
    Input input;
    input.where = at;
    if (!record.problems.empty()) {
      input.error = fmt::format("{}: {}", at, join(record.problems, "; "));
    } else if (!m_bad_header.empty()) {
      input.error = fmt::format("{}: {}", at, m_bad_header);
    } else {
      input.params = std::move(record.params);
      input.secure = std::move(record.secure);
    }
    return input;
  }

  std::mutex m_mutex;
  std::unique_ptr<LineReader> m_reader;
  RecordParser m_parser;
  bool m_finished = false;
  std::string m_bad_header;
  std::string m_raw; // the lines of the record being read
};

} // namespace

std::vector<std::string> input_format_names() {
  std::vector<std::string> names;
  for (const auto& info : k_input_formats) {
    names.emplace_back(info.name);
  }
  return names;
}

const char* format_name(InputFormat format) {
  for (const auto& info : k_input_formats) {
    if (info.format == format) {
      return info.name;
    }
  }
  return "?";
}

std::optional<InputFormat> parse_format_name(const std::string& word) {
  if (word.empty()) {
    return std::nullopt;
  }
  std::string wanted = lower(word);
  const char* closest = nullptr;
  size_t best = 4; // farther than this is no useful suggestion
  for (const auto& info : k_input_formats) {
    if (wanted == info.name) {
      return info.format;
    }
    size_t distance = edit_distance(wanted, info.name);
    if (distance < best && distance < wanted.size()) {
      best = distance;
      closest = info.name;
    }
  }
  std::string message = fmt::format(
      "unknown --format {} (expected {})", quote(word), join(input_format_names(), ", ", " or "));
  if (closest != nullptr) {
    message += fmt::format("; did you mean \"{}\"?", closest);
  }
  throw Error(message);
}

InputFormat choose_format(const std::string& path, std::optional<InputFormat> format) {
  if (format) {
    return *format;
  }
  if (path == "-") {
    return InputFormat::ndjson;
  }
  std::string ext = lower(std::filesystem::path(path).extension().string());
  if (ext == ".csv") {
    return InputFormat::csv;
  }
  if (ext == ".tsv" || ext == ".tab") {
    return InputFormat::tsv;
  }
  if (ext == ".txt" || ext == ".lines" || ext == ".list") {
    return InputFormat::lines;
  }
  return InputFormat::ndjson; // .ndjson, .jsonl, .json and anything else
}

std::vector<Input> read_inputs(std::istream& in, const FormatOptions& opts) {
  RecordParser parser(opts);
  IstreamLineReader reader(in);
  std::vector<Input> inputs;
  ProblemList problems(opts.name);
  auto take = [&](std::optional<Record> record) {
    if (!record) {
      return;
    }
    std::string at = where(opts.name, record->line);
    for (const auto& problem : record->problems) {
      problems.add(fmt::format("{}: {}", at, problem));
    }
    if (record->kind == Record::Kind::input && record->problems.empty()) {
      inputs.push_back(Input{std::move(record->params), at, {}, std::move(record->secure)});
    }
  };
  bool first = true;
  while (auto line = reader.next_line({})) {
    problems.sample(*line);
    if (first && opts.format == InputFormat::ndjson && !trim(without_bom(*line)).empty()) {
      first = false;
      // A whole file of another JSON shape is one problem, not one a line.
      if (std::string hint = not_ndjson_hint(*line, opts.name); !hint.empty()) {
        throw Error(hint);
      }
    }
    take(parser.feed(*line));
  }
  take(parser.finish());
  if (in.bad()) {
    throw Error(fmt::format("{}: read error: {}", opts.name, std::strerror(errno)));
  }
  if (!problems.empty()) {
    throw Error(problems.text());
  }
  return inputs;
}

std::vector<Input> load_inputs_file(const std::string& path, const FormatOptions& opts) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw Error(fmt::format("cannot read {}: is a directory", path));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw Error(fmt::format("cannot open {}: {}", path, std::strerror(errno)));
  }
  FormatOptions named = opts;
  if (named.name.empty()) {
    named.name = path;
  }
  return read_inputs(in, named);
}

std::unique_ptr<InputSource> make_stream_source(std::unique_ptr<LineReader> reader,
                                                const FormatOptions& opts) {
  return std::make_unique<FormatStreamSource>(std::move(reader), opts);
}

} // namespace core

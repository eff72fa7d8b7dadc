#pragma once

#include "core/inputs.h"

#include <array>
#include <istream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace core {

// How an inputs file is written: one value a line, CSV with a header, or one JSON object a line.
enum class InputFormat { lines, csv, tsv, ndjson };

// One choice of --format: its word and what it reads.
struct InputFormatInfo {
  InputFormat format;
  const char* name;
  const char* description;
};

// Every input format, in the order --help, the man page and the completions list them.
inline constexpr std::array<InputFormatInfo, 4> k_input_formats = {{
    {InputFormat::lines, "lines", "one value a line, the parameter --param-name names"},
    {InputFormat::csv, "csv", "CSV with a header row of parameter names"},
    {InputFormat::tsv, "tsv", "tab-separated values with a header row of parameter names"},
    {InputFormat::ndjson, "ndjson", "one JSON object of parameters a line"},
}};

// The words of k_input_formats, in order: the choices of --format.
std::vector<std::string> input_format_names();

// The word --format uses for `format`.
const char* format_name(InputFormat format);

// The format --format names (case-insensitive); nothing for an empty word (no --format given).
// Another word is a core::Error (exit 2) that lists the names and suggests the closest.
std::optional<InputFormat> parse_format_name(const std::string& word);

// The format of `path`: `format` when given, else by extension (case-insensitive): .csv is csv;
// .tsv and .tab are tsv; .ndjson, .jsonl and .json are ndjson; .txt, .lines and .list are lines;
// stdin ("-") and any other extension are ndjson.
InputFormat choose_format(const std::string& path, std::optional<InputFormat> format);

// How to read one inputs file or stream.
struct FormatOptions {
  InputFormat format = InputFormat::ndjson;
  std::string param_name = "value"; // the parameter a `lines` line becomes
  std::string name;                 // file name for messages, "<stdin>" for stdin
};

// Reads a whole file or stream, checking every record before returning any. Throws core::Error
// (exit 2) whose what() lists every problem, one a line, as `name:line: what is wrong`, where
// line is the line a record starts on; at most k_problems_shown of them, then "and N more",
// first saying when the file looks binary; a JSON array or pretty-printed JSON read as NDJSON is
// one problem with the jq command that converts it. A UTF-8 BOM before the first line is
// ignored.
std::vector<Input> read_inputs(std::istream& in, const FormatOptions& opts);

// Opens and reads a file with read_inputs; an unreadable file is a core::Error naming it. An
// empty `opts.name` means the path.
std::vector<Input> load_inputs_file(const std::string& path, const FormatOptions& opts);

// A streaming source (stdin): each record is parsed when its last line arrives; a bad record
// becomes an Input whose `error` is `name:line: what` and the stream goes on. With a bad CSV
// header every data record is such an Input. Thread-safe: next() holds a mutex.
std::unique_ptr<InputSource> make_stream_source(std::unique_ptr<LineReader> reader,
                                                const FormatOptions& opts);

} // namespace core

#pragma once

#include "core/json.h"

#include <istream>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

namespace core {

// One input of a run: the `input_parameters` it submits (name -> list of strings), where it came
// from (`file:line`, for messages) and, when it could not be parsed, why (an `invalid_input`).
struct Input {
  Json params = Json::object();
  std::string where;
  std::string error;
  Json secure = nullptr; // secure_parameters of this input (NDJSON), when given
  // Pipes: a record passed on unchanged (filtered out by --where-status), and the record an
  // input was mapped from (--carry), printed under "from".
  Json passthrough = nullptr;
  Json from = nullptr;
  // An input that could not be read (`error` set): its raw text, cut to 1 KiB (raw_cut), for
  // its invalid_input line, so nothing the user gave is lost.
  std::string raw;
  bool raw_cut = false;
};

// How much of a bad input's raw text its invalid_input line keeps.
inline constexpr size_t k_raw_input_bytes = 1024;

// Adds to an invalid_input line what the user gave: "raw_input" (the text, cut to 1 KiB, bytes
// that are not UTF-8 as U+FFFD) and "raw_input_truncated": true when cut. Nothing when `input`
// has no raw text; a text holding "secure_parameters" is not kept (its secrets would reach
// stdout and the journal). ("input" stays null: its type is the parameters object's or nothing.)
void add_raw_input(Json& line, const Input& input);

// What is wrong with parameters `params` for unique_parameter_names `unique`: a name with no
// parameter (the service refuses such a request with 422), "" when nothing is.
std::string missing_unique_name(const Json& params, const std::vector<std::string>& unique);

// What one line of an --emails file holds.
struct EmailLine {
  enum class Kind { skip, email, bad };
  Kind kind = Kind::skip;
  std::string text; // the trimmed email, or what is wrong with the line
};

// Parses one line: blank lines and `#` comments are skipped, white space is trimmed; a line
// without '@', with white space or control characters inside, or not UTF-8 is bad.
EmailLine parse_email_line(std::string_view raw);

// The parameters an email becomes: {"email": [email]}.
Json email_params(const std::string& email);

// Reads every line of an --emails stream. Throws core::Error (exit 2) listing every bad line as
// `name:line: what is wrong`, so nothing is submitted when any line is bad.
std::vector<Input> read_email_file(std::istream& in, const std::string& name);

// Opens and reads an --emails file; an unreadable file is a core::Error naming it.
std::vector<Input> load_email_file(const std::string& path);

// Where a run's inputs come from, one at a time. Thread-safe: submitting threads pull from it.
class InputSource {
public:
  virtual ~InputSource() = default;
  // The next input, or nothing at the end (or when `stop` is requested). May block while a
  // stream (stdin) has no whole line yet.
  virtual std::optional<Input> next(std::stop_token stop = {}) = 0;
  // True for stdin: inputs are read as they come, a bad line becomes an `invalid_input`.
  virtual bool streaming() const = 0;
  // The number of inputs when known up front (a file).
  virtual std::optional<size_t> size() const { return std::nullopt; }
};

// Inputs checked up front (a file).
class VectorSource : public InputSource {
public:
  explicit VectorSource(std::vector<Input> inputs) : m_inputs(std::move(inputs)) {}
  std::optional<Input> next(std::stop_token stop = {}) override;
  bool streaming() const override { return false; }
  std::optional<size_t> size() const override { return m_inputs.size(); }
  // Every input, read or not (checks before anything is submitted).
  const std::vector<Input>& inputs() const { return m_inputs; }

private:
  std::mutex m_mutex;
  std::vector<Input> m_inputs;
  size_t m_next = 0;
};

// Lines of a stream, one at a time.
class LineReader {
public:
  virtual ~LineReader() = default;
  // The next line without its newline; nothing at the end or when `stop` is requested.
  virtual std::optional<std::string> next_line(std::stop_token stop) = 0;
};

// Lines of a std::istream (tests, files).
class IstreamLineReader : public LineReader {
public:
  explicit IstreamLineReader(std::istream& in) : m_in(in) {}
  std::optional<std::string> next_line(std::stop_token stop) override;

private:
  std::istream& m_in;
};

// Lines of a file descriptor (stdin), read with poll() so a stop request is seen within 100 ms
// even while the other end writes nothing.
class FdLineReader : public LineReader {
public:
  explicit FdLineReader(int fd) : m_fd(fd) {}
  std::optional<std::string> next_line(std::stop_token stop) override;

private:
  int m_fd;
  std::string m_buffer;
  size_t m_pos = 0;
  bool m_eof = false;
};

// Emails streamed from a reader (stdin): each line is parsed when it is read; a bad line
// becomes an `invalid_input` and the run goes on.
class EmailStreamSource : public InputSource {
public:
  EmailStreamSource(std::unique_ptr<LineReader> reader, std::string name)
      : m_reader(std::move(reader)), m_name(std::move(name)) {}
  std::optional<Input> next(std::stop_token stop = {}) override;
  bool streaming() const override { return true; }

private:
  std::mutex m_mutex;
  std::unique_ptr<LineReader> m_reader;
  std::string m_name;
  size_t m_line = 0;
};

// True when `s` is valid UTF-8 (Json refuses to serialize anything else).
bool is_valid_utf8(std::string_view s);

} // namespace core

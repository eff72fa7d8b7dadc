#pragma once

#include "core/json.h"

#include <atomic>
#include <string>
#include <string_view>
#include <vector>

namespace core {

// `run --record DIR`: one JSON file per event, named <seq>-<kind>.json, each
// {"seq", "time", "kind", ...}. Kinds: run (the request options and the callback token),
// input (each input as pulled), submit (request, with secrets redacted, and result), callback
// (raw body, path and headers without credentials), status (status API answers).
// Every event passes core::redact: no registered secret (keys, the callback token, secure
// parameters) is stored; they read `***`.
//
// A callback the listener refused is a "callback" event with "refused": true, the "status" it
// was answered and its size in "bytes", and no body: replay skips it.
//
// The directory: a new DIR is created with mode 0700 (its parents as make_directories does); an
// existing empty DIR is used as it is; a non-empty DIR is refused (a recording is one run: a
// second would overwrite its events). The mode of an existing directory is never changed.
// Thread-safe.
class Recorder {
public:
  // Prepares DIR by the rules above; throws core::Error (exit 2) naming it and why.
  explicit Recorder(std::string dir);
  // Writes one event; `event` gets "seq", "time" and "kind". Errors are reported once on stderr
  // and recording stops: a full disk must not stop the run.
  void record(const std::string& kind, Json event);
  // A refused callback request: its path, headers, the status answered and the body's size.
  void record_refused(const std::string& path, Json headers, int status, size_t bytes);
  // A raw body as JSON: {"body": text} when UTF-8, else {"body_base64": ...}.
  static Json body_fields(std::string_view body);

private:
  std::string m_dir;
  std::atomic<unsigned long> m_seq{0};
  std::atomic<bool> m_failed{false};
};

// Whether `name` is the name of a recorded event file, <seq>-<kind>.json.
bool is_event_file_name(std::string_view name);

// Whether a recorded event is a refused callback (no body; replay skips it).
bool is_refused_callback(const Json& event);

// Reads every event of a recording, in order. Throws core::Error naming a bad file.
std::vector<Json> read_recording(const std::string& dir);

// The raw body of a recorded event.
std::string event_body(const Json& event);

} // namespace core

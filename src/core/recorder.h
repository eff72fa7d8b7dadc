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
// The directory is created with mode 0700: it holds the run's callback token. Thread-safe.
class Recorder {
public:
  // Creates DIR (and parents); throws core::Error naming it.
  explicit Recorder(std::string dir);
  // Writes one event; `event` gets "seq", "time" and "kind". Errors are reported once on stderr
  // and recording stops: a full disk must not stop the run.
  void record(const std::string& kind, Json event);
  // A raw body as JSON: {"body": text} when UTF-8, else {"body_base64": ...}.
  static Json body_fields(std::string_view body);

private:
  std::string m_dir;
  std::atomic<unsigned long> m_seq{0};
  std::atomic<bool> m_failed{false};
};

// Reads every event of a recording, in order. Throws core::Error naming a bad file.
std::vector<Json> read_recording(const std::string& dir);

// The raw body of a recorded event.
std::string event_body(const Json& event);

} // namespace core

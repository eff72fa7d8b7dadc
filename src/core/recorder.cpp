#include "core/recorder.h"

#include "core/clock.h"
#include "core/error.h"
#include "core/files.h"
#include "core/inputs.h"
#include "core/log.h"
#include "core/redact.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <sys/stat.h>

namespace core {

namespace {

// Makes `dir` ready for a new recording, never changing the mode of a directory that exists:
// `--record /tmp` must not turn /tmp private (or a shared directory writable).
void prepare_directory(const std::string& dir) {
  namespace fs = std::filesystem;
  auto refuse = [&](const std::string& why) {
    return Error(fmt::format("--record {}: {}", dir, why), ExitCode::usage);
  };
  std::error_code ec;
  fs::file_status st = fs::status(dir, ec);
  if (st.type() == fs::file_type::not_found) {
    fs::path parent = fs::path(dir).parent_path();
    if (!parent.empty()) {
      make_directories(parent.string());
    }
    // Created private: the recording holds the inputs and the service's answers.
    if (::mkdir(dir.c_str(), 0700) == 0) {
      return;
    }
    if (errno != EEXIST) {
      throw refuse(fmt::format("cannot create it: {}", std::strerror(errno)));
    }
    st = fs::status(dir, ec); // made meanwhile by someone else: judged as an existing one
  }
  if (!fs::is_directory(st)) {
    throw refuse(ec ? ec.message() : "not a directory");
  }
  bool recording = false;
  bool empty = true;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    empty = false;
    recording = recording || is_event_file_name(entry.path().filename().string());
  }
  if (ec) {
    throw refuse(fmt::format("cannot read it: {}", ec.message()));
  }
  if (recording) {
    throw refuse("already holds a recording (replay it with `optexity-chain replay DIR`); give a "
                 "new or empty directory");
  }
  if (!empty) {
    throw refuse("not empty and not a recording; give a new or empty directory");
  }
}

} // namespace

Recorder::Recorder(std::string dir) : m_dir(std::move(dir)) {
  prepare_directory(m_dir);
}

bool is_event_file_name(std::string_view name) {
  // <seq>-<kind>.json: 8 or more digits, a dash, a lower-case kind.
  constexpr std::string_view ext = ".json";
  if (name.size() <= ext.size() || name.substr(name.size() - ext.size()) != ext) {
    return false;
  }
  name.remove_suffix(ext.size());
  size_t digits = 0;
  while (digits < name.size() && name[digits] >= '0' && name[digits] <= '9') {
    ++digits;
  }
  if (digits < 8 || digits + 1 >= name.size() || name[digits] != '-') {
    return false;
  }
  for (char c : name.substr(digits + 1)) {
    if (!((c >= 'a' && c <= 'z') || c == '_')) {
      return false;
    }
  }
  return true;
}

bool is_refused_callback(const Json& event) {
  return event.value("kind", "") == "callback" && event.value("refused", false);
}

void Recorder::record_refused(const std::string& path, Json headers, int status, size_t bytes) {
  record("callback",
         Json{{"path", path},
              {"headers", std::move(headers)},
              {"refused", true},
              {"status", status},
              {"bytes", bytes}});
}

Json Recorder::body_fields(std::string_view body) {
  if (is_valid_utf8(body)) {
    return Json{{"body", std::string(body)}};
  }
  return Json{{"body_base64", base64_encode(body)}};
}

void Recorder::record(const std::string& kind, Json event) {
  if (m_failed.load()) {
    return;
  }
  unsigned long seq = ++m_seq;
  Json out = {{"seq", seq}, {"time", utc_now_iso(true)}, {"kind", kind}};
  for (auto& [key, value] : event.items()) {
    out[key] = std::move(value);
  }
  try {
    // Through the one redaction, by value and by place (secure_parameters, keys).
    write_file_atomic(fmt::format("{}/{:08}-{}.json", m_dir, seq, kind),
                      dump_line(redact(out)) + "\n");
  } catch (const Error& e) {
    if (!m_failed.exchange(true)) {
      log_error(fmt::format("--record: {}; recording stops, the run goes on", e.what()));
    }
  }
}

std::vector<Json> read_recording(const std::string& dir) {
  std::error_code ec;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (is_event_file_name(entry.path().filename().string())) {
      files.push_back(entry.path());
    }
  }
  if (ec) {
    throw Error(fmt::format("replay: cannot read {}: {}", dir, ec.message()));
  }
  std::sort(files.begin(), files.end());
  std::vector<Json> events;
  for (const auto& path : files) {
    Json event = parse_json(try_read_file(path.string()).value_or(""));
    if (event.is_discarded() || !event.is_object() || !event.contains("kind")) {
      throw Error(fmt::format("replay: {} is not a recorded event", path.string()));
    }
    events.push_back(std::move(event));
  }
  return events;
}

std::string event_body(const Json& event) {
  if (auto it = event.find("body"); it != event.end() && it->is_string()) {
    return it->get<std::string>();
  }
  if (auto it = event.find("body_base64"); it != event.end() && it->is_string()) {
    return base64_decode(it->get<std::string>()).value_or("");
  }
  return {};
}

} // namespace core

#include "core/recorder.h"

#include "core/clock.h"
#include "core/error.h"
#include "core/files.h"
#include "core/inputs.h"
#include "core/log.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <sys/stat.h>

namespace core {

namespace {} // namespace

Recorder::Recorder(std::string dir) : m_dir(std::move(dir)) {
  make_directories(m_dir);
  ::chmod(m_dir.c_str(), 0700);
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
    write_file_atomic(fmt::format("{}/{:08}-{}.json", m_dir, seq, kind), dump_line(out) + "\n");
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
    if (entry.path().extension() == ".json") {
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

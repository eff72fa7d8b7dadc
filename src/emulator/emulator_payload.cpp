#include "emulator/emulator_payload.h"

#include "core/status.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <optional>

namespace emulator {

namespace {

// The same recording for every task: the real service names the dashboard recording here.
constexpr const char* k_recording_id = "6a1d2c3e-0b4f-4e7a-9c1d-2f3e4a5b6c7d";
constexpr const char* k_failure_error = "Emulated failure: element not found";
// The worker's default per-attempt limit, named in its `killed` error when a request sets none.
constexpr int k_default_timeout_minutes = 10;
// A valid 1x1 RGBA PNG (70 bytes): enough for a client to decode and save, small enough for
// benchmarks.
constexpr std::string_view k_small_png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR"
                                         "42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
// Signature (8 bytes) + IHDR chunk (12 + 13): padding goes right after it, before IDAT.
constexpr size_t k_after_ihdr = 33;
// A tEXt chunk costs 12 bytes of framing plus "Comment\0" before its text.
constexpr std::string_view k_text_keyword{"Comment\0", 8};
constexpr size_t k_text_overhead = 12 + k_text_keyword.size();
// EVP_EncodeBlock counts in int; far beyond any screenshot a real page produces.
constexpr size_t k_max_screenshot_bytes = size_t{1} << 30;
constexpr int k_csv_rows = 3;

// FNV-1a: stable across runs and platforms, unlike std::hash, so fake account ids are too.
uint64_t fnv1a(std::string_view text) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string scalar_text(const core::Json& v) {
  return v.is_string() ? v.get<std::string>() : core::dump_line(v);
}

// First value of `key` in input_parameters, when there is one.
std::optional<std::string> first_value(const core::Json& params, const std::string& key) {
  auto it = params.find(key);
  if (it == params.end() || !it->is_array() || it->empty()) {
    return std::nullopt;
  }
  return scalar_text(it->front());
}

// The identifier a real automation would put on its output row: its unique input, or failing
// that its first input, or failing that the endpoint name.
std::string unique_identifier(const core::Json& body) {
  const auto& params = body["input_parameters"];
  const std::string endpoint = body["endpoint_name"].get<std::string>();
  auto unique = body.find("unique_parameter_names");
  if (unique != body.end() && unique->is_array() && !unique->empty()) {
    if (auto v = first_value(params, unique->front().get<std::string>())) {
      return *v;
    }
  }
  if (!params.empty()) {
    if (auto v = first_value(params, params.begin().key())) {
      return *v;
    }
  }
  return endpoint;
}

// The `downloads` (or, with metadata, `downloads_with_metadata`) list of a success payload.
core::Json
download_list(const std::string& task_id, const PayloadContext& context, bool with_metadata) {
  core::Json list = core::Json::array();
  for (int i = 1; i <= context.downloads; ++i) {
    std::string name = download_name(i);
    core::Json entry = {{"url", fmt::format("{}/files/{}/{}", context.files_base, task_id, name)},
                        {"filename", name}};
    if (with_metadata) {
      entry["metadata"] = {{"kind", "export"}};
    }
    list.push_back(std::move(entry));
  }
  return list;
}

// Standard CRC-32 (the one PNG chunks carry); computed once per screenshot size.
uint32_t crc32(std::string_view data) {
  static const auto table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) {
        c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
      }
      t[i] = c;
    }
    return t;
  }();
  uint32_t c = 0xffffffffu;
  for (unsigned char b : data) {
    c = table[(c ^ b) & 0xffu] ^ (c >> 8);
  }
  return c ^ 0xffffffffu;
}

void append_be32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((v >> shift) & 0xffu));
  }
}

std::string decode_base64(std::string_view text) {
  std::string out(text.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  // EVP_DecodeBlock decodes the '=' padding as zero bytes; they are not part of the data.
  size_t padding = text.size() - text.find_last_not_of('=') - 1;
  out.resize(n < 0 ? 0 : static_cast<size_t>(n) - padding);
  return out;
}

std::string encode_base64(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0'); // +1: it writes a NUL
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

} // namespace

const char* outcome_status(TaskOutcome outcome) {
  switch (outcome) {
  case TaskOutcome::success:
    return core::status::success;
  case TaskOutcome::failed:
    return core::status::failed;
  case TaskOutcome::killed:
    return core::status::killed;
  }
  return core::status::failed;
}

std::string outcome_error(const core::Json& request, TaskOutcome outcome) {
  if (outcome == TaskOutcome::failed) {
    return k_failure_error;
  }
  if (outcome == TaskOutcome::killed) {
    // The worker's wording when the final attempt overruns its limit.
    auto it = request.find("max_timeout_in_minutes");
    int64_t minutes = it != request.end() && it->is_number_integer() ? it->get<int64_t>()
                                                                     : k_default_timeout_minutes;
    return fmt::format("Automation timed out after {} minutes in process", minutes);
  }
  return {};
}

std::string
outcome_error(const core::Json& request, TaskOutcome outcome, const ScriptedResult& scripted) {
  if (outcome == TaskOutcome::failed && scripted.error) {
    return *scripted.error;
  }
  return outcome_error(request, outcome);
}

std::string CallbackBody::text() const {
  std::string out;
  out.reserve(size());
  out.append(head).append(*screenshot).append(tail);
  return out;
}

CallbackBody make_callback_body(const core::Json& request,
                                const std::string& task_id,
                                TaskOutcome outcome,
                                const PayloadContext& context,
                                const ScriptedResult& scripted) {
  const std::string endpoint = request["endpoint_name"].get<std::string>();
  const bool success = outcome == TaskOutcome::success;
  core::Json unique = core::Json::array();
  if (auto it = request.find("unique_parameter_names"); it != request.end() && it->is_array()) {
    unique = *it;
  }
  core::Json output = core::Json::array();
  if (success && scripted.output_data) {
    output = *scripted.output_data;
  } else if (success) {
    std::string id = unique_identifier(request);
    output.push_back({{"unique_identifier", id},
                      {"json_data",
                       {{"endpoint", endpoint},
                        {"inputs", request["input_parameters"]},
                        {"account", fmt::format("acct-{:08x}", fnv1a(id) & 0xffffffffull)}}}});
  }
  if (outcome == TaskOutcome::failed && !scripted.error) {
    // The final logging runs for failed tasks too: what the attempt extracted before failing.
    output.push_back({{"unique_identifier", unique_identifier(request)},
                      {"json_data", {{"endpoint", endpoint}, {"partial", true}}}});
  }
  std::string error_text = outcome_error(request, outcome, scripted);
  core::Json error = success ? core::Json(nullptr) : core::Json(error_text);
  // Every field of the real payload, in the order the service sends them.
  core::Json p = core::Json::object();
  p["task_id"] = task_id;
  p["recording_id"] = k_recording_id;
  p["endpoint_name"] = endpoint;
  p["status"] = outcome_status(outcome);
  p["output_data"] = std::move(output);
  p["error"] = std::move(error);
  core::Json downloads = success ? download_list(task_id, context, false) : core::Json::array();
  core::Json with_metadata =
      success && context.downloads > 0 ? download_list(task_id, context, true) : core::Json();
  if (context.screenshot_download) {
    // The worker uploads the screenshot through the downloads pipeline, for any outcome.
    core::Json shot = {
        {"url", fmt::format("{}/files/{}/{}", context.files_base, task_id, k_screenshot_file)},
        {"filename", k_screenshot_file}};
    downloads.push_back(shot);
    if (with_metadata.is_array()) {
      shot["metadata"] = nullptr;
      with_metadata.push_back(std::move(shot));
    }
  }
  p["downloads"] = std::move(downloads);
  // The service adds this list only when some download carries metadata.
  if (with_metadata.is_array()) {
    p["downloads_with_metadata"] = std::move(with_metadata);
  }
  p["input_parameters"] = request["input_parameters"];
  p["unique_parameter_names"] = std::move(unique);

  // final_screenshot comes last, so the shared base64 text sits between "…":\"" and "\"}"
  // without being copied into each task's body. Base64 needs no JSON escaping.
  CallbackBody body;
  body.head = core::dump_line(p);
  if (!context.inline_screenshot) {
    static const auto k_empty = std::make_shared<const std::string>();
    body.screenshot = k_empty;
    return body;
  }
  body.head.pop_back(); // the closing '}'
  body.head += R"(,"final_screenshot":")";
  body.screenshot = context.screenshot;
  body.tail = "\"}";
  return body;
}

std::string screenshot_base64(size_t bytes) {
  if (bytes == 0) {
    return std::string(k_small_png);
  }
  std::string png = decode_base64(k_small_png);
  bytes = std::min(bytes, k_max_screenshot_bytes);
  if (bytes < png.size() + k_text_overhead) {
    return std::string(k_small_png);
  }
  // A tEXt chunk is the one place a decoder must accept (and may ignore) arbitrary bytes,
  // so the file stays a valid 1x1 PNG at any size.
  std::string chunk = "tEXt";
  chunk.append(k_text_keyword);
  chunk.resize(bytes - png.size() - 12 + 4, '.'); // + 4: the type is inside `chunk`
  std::string framed;
  framed.reserve(chunk.size() + 8);
  append_be32(framed, static_cast<uint32_t>(chunk.size() - 4));
  framed += chunk;
  append_be32(framed, crc32(chunk));
  png.insert(k_after_ihdr, framed);
  return encode_base64(png);
}

std::string download_name(int index) {
  return fmt::format("report-{}.csv", index);
}

int download_index(std::string_view filename, int count) {
  constexpr std::string_view prefix = "report-";
  constexpr std::string_view suffix = ".csv";
  if (filename.size() <= prefix.size() + suffix.size() || !filename.starts_with(prefix) ||
      !filename.ends_with(suffix)) {
    return 0;
  }
  std::string_view digits =
      filename.substr(prefix.size(), filename.size() - prefix.size() - suffix.size());
  // One spelling per file: "report-01.csv" is not "report-1.csv".
  if (digits.front() == '0') {
    return 0;
  }
  int index = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
  if (ec != std::errc() || end != digits.data() + digits.size() || index < 1 || index > count) {
    return 0;
  }
  return index;
}

std::string download_csv(const std::string& task_id, int index) {
  std::string csv = "row,task_id,report,value\n";
  for (int row = 1; row <= k_csv_rows; ++row) {
    uint64_t value = fnv1a(fmt::format("{}/{}/{}", task_id, index, row)) % 100000;
    csv += fmt::format("{},{},{},{}\n", row, task_id, index, value);
  }
  return csv;
}

} // namespace emulator

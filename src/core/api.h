#pragma once

#include "core/json.h"
#include "core/status.h" // core::Status, core::status::success and the others

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace core {

// What every inference request of a run shares.
struct RequestOptions {
  std::string endpoint;
  std::vector<std::string> unique; // unique_parameter_names
  std::optional<int> priority;
  std::optional<int> max_timeout_minutes;
};

// The body of `POST .../inference` for one input's parameters.
Json build_inference_request(const RequestOptions& opts, const Json& params);

// The service's words from an error body: `detail` (string, or FastAPI's list of {loc, msg}),
// `message` or `error`; else the raw body, shortened. Never throws.
std::string error_text(int status, std::string_view body);

// A submit answer: `task_id` is set on success (a 2xx whose JSON names one).
struct SubmitReply {
  std::optional<std::string> task_id;
  std::string error; // when there is no task_id
};

// Reads a 2xx answer; a 2xx without a string `task_id` is an error.
SubmitReply parse_submit_reply(int status, std::string_view body);

// `success`, `failed`, `killed` and `cancelled` end a task (is_terminal); anything else, an
// unknown word too, is progress.
bool is_terminal_status(std::string_view status);

// What a request and the callbacks of its task share: endpoint_name, input_parameters and
// unique_parameter_names (an absent list is an empty one), as one string. A callback echoes
// these, so it names the input it answers even when its task id is unknown. "" when `j` has no
// input_parameters object.
std::string content_key(const Json& j);

// The validation the real service applies to an inference request (FastAPI's 422 rules): an
// empty list when the body is acceptable, else FastAPI-shaped `detail` items. Used by the emulator.
Json validate_inference_request(const Json& body);

} // namespace core

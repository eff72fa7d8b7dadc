#pragma once

#include "core/error.h"
#include "core/flow_template.h"
#include "core/json.h"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace core {

// What a step does when it fails (after its retries).
enum class OnFailure {
  stop,     // the item's flow stops: no further step of that item starts
  continue_ // the other steps go on; steps that need this one are skipped
};

// One step of a flow, as validated.
struct FlowStep {
  std::string id;
  std::string endpoint;
  Json input = Json::object();    // template of input_parameters
  Json secure = nullptr;          // template of secure_parameters, or null
  std::vector<std::string> needs; // as written
  // Every step this one waits for: `needs` plus those its templates, `when` and `foreach` name
  // (indices into Flow::steps, ascending).
  std::vector<size_t> deps;
  // `when`: the step runs only if each named step ended with one of the listed statuses. Without
  // it, the step runs only if every step it depends on succeeded.
  struct Condition {
    size_t step;
    std::vector<std::string> statuses;
  };
  std::optional<std::vector<Condition>> when;
  std::optional<TemplateRef> foreach; // a list in a step's result: one job per element
  std::vector<std::string> unique;    // unique_parameter_names
  std::optional<std::chrono::milliseconds> timeout;
  int retries = 0; // extra attempts after a failed, killed, timed-out or unsubmitted attempt
  std::optional<int> priority;
  OnFailure on_failure = OnFailure::stop;
  std::string place; // "flow.json:12": for messages
};

struct Flow {
  std::string name;
  std::string description;
  std::vector<FlowStep> steps; // in file order
  std::vector<size_t> order;   // every step after the steps it depends on (file order otherwise)
  size_t index_of(std::string_view id) const; // steps.size() when unknown
};

// The statuses a `when` can name: success, killed, cancelled, timeout, submit_failed,
// invalid_input, interrupted, skipped, and two groups: `failed` (ran and did not succeed: the
// service's failed or any of the others but skipped) and `any` (whatever happened).
const std::vector<std::string>& when_status_names();
bool when_matches(const std::string& wanted, const std::string& status);

// Parses and validates a flow file's text. Every problem is reported, each on its own line with
// its place ("flow.json:12: step \"orders\": needs: unknown step \"logn\" (did you mean
// \"login\"?)"), in one core::Error (exit 2).
Flow parse_flow(std::string_view text, const std::string& file_name);
// Reads and parses `path`.
Flow load_flow(const std::string& path);

} // namespace core

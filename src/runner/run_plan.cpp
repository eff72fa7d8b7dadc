#include "runner/run_plan.h"

#include "core/api.h"
#include "core/error.h"
#include "core/input_checks.h"
#include "core/keys.h"
#include "core/names.h"
#include "core/output.h"
#include "core/redact.h"
#include "core/text.h"

#include <fmt/format.h>

#include <optional>

namespace runner {

using core::Json;

Json run_request(const EngineConfig& config, const core::Input& input) {
  Json params = input.params;
  for (const auto& [name, value] : config.set_params.items()) {
    params[name] = value;
  }
  Json request = core::build_inference_request(config.request, params);
  Json secure = input.secure;
  if (config.secure_params.is_object()) {
    if (!secure.is_object()) {
      secure = Json::object();
    }
    for (const auto& [name, value] : config.secure_params.items()) {
      if (!secure.contains(name)) {
        secure[name] = value;
      }
    }
  }
  if (secure.is_object() && !secure.empty()) {
    core::add_secure_secrets(secure); // never shown or stored (core/redact.h)
    request["secure_parameters"] = secure;
  }
  return request;
}

namespace {

class RunPlan final : public ItemPlan {
public:
  RunPlan(const EngineConfig& config, const core::Input& input, std::string key)
      : m_config(config), m_input(input), m_key(std::move(key)) {}

  std::vector<Job> take_ready() override {
    if (m_handed_out || !m_input.error.empty() || !m_input.passthrough.is_null()) {
      return {};
    }
    m_handed_out = true;
    Job job;
    job.key = m_key;
    job.endpoint = m_config.request.endpoint;
    job.where = m_input.where;
    job.request = run_request(m_config, m_input);
    job.params = m_input.params;
    job.timeout = m_config.timeout;
    std::vector<Job> jobs;
    jobs.push_back(std::move(job));
    return jobs;
  }

  bool wants(const Job&) const override { return true; }
  Json skipped_result() const override { return Json{{"status", core::status::skipped}}; }

  void finish_result(const Job&, Json& result) override { finish(result); }

  void complete(const Job&, Json result, const std::string* journaled) override {
    m_result = std::move(result);
    if (journaled) {
      m_journaled = *journaled;
    }
  }

  void abandon(const std::string& status, const std::string& why) override {
    m_abandoned = core::failure_line(status, why, m_input.params); // unless a result comes
  }

  bool done() const override {
    return m_result || m_abandoned || !m_input.error.empty() || !m_input.passthrough.is_null();
  }

  ItemLine line() override {
    ItemLine line;
    if (!m_input.passthrough.is_null()) {
      line.text = core::dump_line(m_input.passthrough); // printed as it came
      line.status = core::line_status(m_input.passthrough);
      line.origin = ItemLine::Origin::passed_on;
      line.error = error_of(m_input.passthrough, line.status);
      return line;
    }
    if (m_journaled) {
      line.text = *m_journaled; // the same bytes again
      line.status = core::line_status(*m_result);
      line.origin = ItemLine::Origin::journaled;
      line.error = error_of(*m_result, line.status);
      return line;
    }
    Json result;
    if (m_result) {
      result = std::move(*m_result);
    } else if (!m_input.error.empty()) {
      result = core::failure_line(core::status::invalid_input, m_input.error, nullptr);
      finish(result);
    } else {
      result = std::move(*m_abandoned);
      finish(result);
    }
    line.text = core::dump_line(result);
    line.status = core::line_status(result);
    line.error = error_of(result, line.status);
    return line;
  }

private:
  // A line's error, for the summary: "" for a success or a line without one.
  static std::string error_of(const Json& line, const std::string& status) {
    if (status == core::status::success || !line.is_object()) {
      return {};
    }
    auto it = line.find("error");
    return it != line.end() && it->is_string() ? it->get<std::string>() : std::string();
  }

  // A line is the payload as received, plus the input_parameters submitted and the record the
  // input came from.
  void finish(Json& result) const {
    result["input"] = m_input.error.empty() ? m_input.params : Json();
    core::add_raw_input(result, m_input);
    if (!m_input.from.is_null()) {
      result["from"] = m_input.from;
    }
  }

  const EngineConfig& m_config;
  const core::Input& m_input;
  std::string m_key;
  bool m_handed_out = false;
  std::optional<Json> m_result;
  std::optional<std::string> m_journaled;
  std::optional<Json> m_abandoned;
};

} // namespace

void check_unique_names(const core::InputSource& source, const EngineConfig& config) {
  const auto* file = dynamic_cast<const core::VectorSource*>(&source);
  if (file == nullptr || config.request.unique.empty()) {
    return;
  }
  core::ProblemList problems("--unique");
  size_t checked = 0;
  Json first_params;       // of the first input missing a name
  std::string first_where; // and where it is ("file:line")
  for (const core::Input& input : file->inputs()) {
    if (!input.error.empty() || !input.passthrough.is_null()) {
      continue;
    }
    ++checked;
    Json params = input.params;
    for (const auto& [name, value] : config.set_params.items()) {
      params[name] = value;
    }
    std::string problem = core::missing_unique_name(params, config.request.unique);
    if (problem.empty()) {
      continue;
    }
    if (first_params.is_null()) {
      first_params = params;
      first_where = input.where;
    }
    problems.add(input.where + ": " + problem);
  }
  if (problems.count() > 1 && problems.count() == checked) {
    // No input has it: a wrong name (a typo?), said once.
    std::string name;
    std::vector<std::string> have;
    for (const auto& [key, value] : first_params.items()) {
      have.push_back(key);
    }
    for (const std::string& unique : config.request.unique) {
      if (name.empty() && !first_params.contains(unique)) {
        name = unique;
      }
    }
    std::string hint = core::closest_name(name, have);
    throw core::Error(fmt::format("{}: --unique {}: none of the {} inputs has a parameter \"{}\" "
                                  "(they have: {}){}",
                                  first_where.substr(0, first_where.rfind(':')),
                                  name,
                                  checked,
                                  name,
                                  have.empty() ? "none" : core::join(have, ", "),
                                  hint.empty() ? "" : fmt::format("; did you mean {}?", hint)));
  }
  if (!problems.empty()) {
    throw core::Error(problems.text());
  }
}

std::string RunPlanner::admit(core::Input& input) {
  if (!input.error.empty()) {
    return {};
  }
  // The line shows what was submitted: the input's parameters with --set ones.
  for (const auto& [name, value] : m_config.set_params.items()) {
    input.params[name] = value;
  }
  if (input.passthrough.is_null()) {
    // The service would refuse it (422): an invalid input here, not a submit. (A file's inputs
    // were all checked before the run: see check_unique_names.)
    input.error = core::missing_unique_name(input.params, m_config.request.unique);
    if (!input.error.empty()) {
      return {};
    }
  }
  return core::content_hash(m_config.request.endpoint, input.params, input.secure);
}

std::unique_ptr<ItemPlan> RunPlanner::plan(const core::Input& input, const std::string& key) {
  return std::make_unique<RunPlan>(m_config, input, key);
}

} // namespace runner

#include "runner/flow_plan.h"

#include "core/api.h"
#include "core/keys.h"
#include "core/log.h"
#include "core/output.h"
#include "core/redact.h"

#include <fmt/format.h>

#include <map>

namespace runner {

using core::Json;

Json flow_request(const core::FlowStep& step,
                  const core::FlowJob& job,
                  const EngineConfig& config) {
  core::RequestOptions ro;
  ro.endpoint = step.endpoint;
  ro.unique = step.unique;
  ro.priority = step.priority ? step.priority : config.request.priority;
  ro.max_timeout_minutes = config.request.max_timeout_minutes;
  Json request = core::build_inference_request(ro, job.params);
  if (job.secure.is_object() && !job.secure.empty()) {
    core::add_secure_secrets(job.secure); // never shown or stored (core/redact.h)
    request["secure_parameters"] = job.secure;
  }
  return request;
}

namespace {

class FlowPlan final : public ItemPlan {
public:
  FlowPlan(const core::Flow& flow,
           const EngineConfig& config,
           const core::Input& input,
           std::string key)
      : m_flow(flow), m_config(config), m_input(input), m_key(std::move(key)) {
    if (m_input.error.empty()) {
      m_run = std::make_unique<core::ItemRun>(m_flow, m_input.params);
    }
  }

  std::vector<Job> take_ready() override {
    std::vector<Job> jobs;
    if (!m_run) {
      return jobs;
    }
    for (core::FlowJob& flow_job : m_run->take_ready()) {
      const core::FlowStep& step = m_flow.steps[flow_job.step];
      Job job;
      job.id = m_next_id++;
      // Item, step content, element and attempt: a rerun finds the same key for the same job.
      job.key = fmt::format(
          "{}-{}-{}-{}",
          m_key,
          core::content_hash(step.id + "/" + step.endpoint, flow_job.params, flow_job.secure)
              .substr(0, 16),
          flow_job.element,
          flow_job.attempt);
      job.endpoint = step.endpoint;
      job.step = step.id;
      job.where = fmt::format("{}: step {}", m_input.where, step.id);
      job.request = flow_request(step, flow_job, m_config);
      job.params = flow_job.params;
      job.timeout = step.timeout.value_or(m_config.timeout);
      m_jobs.emplace(job.id, std::move(flow_job));
      jobs.push_back(std::move(job));
    }
    return jobs;
  }

  bool wants(const Job& job) const override {
    auto it = m_jobs.find(job.id);
    return it != m_jobs.end() && m_run->wants(it->second);
  }
  Json skipped_result() const override { return m_run->skipped_result(); }

  void finish_result(const Job& job, Json& result) override {
    // As in `run`: the payload as received plus the input_parameters submitted.
    if (!result.is_object()) {
      return;
    }
    result["input"] = job.params;
  }

  void complete(const Job& job, Json result, const std::string*) override {
    auto it = m_jobs.find(job.id);
    if (it == m_jobs.end()) {
      return; // completed already
    }
    m_run->complete(it->second, std::move(result));
    m_jobs.erase(it);
  }

  void abandon(const std::string& status, const std::string& why) override {
    if (m_run) {
      m_run->abandon(status, why);
    }
  }

  bool done() const override { return !m_run || m_run->done(); }

  ItemLine line() override {
    Json json;
    if (m_run) {
      json = m_run->line();
    } else {
      json = Json{{"status", core::status::invalid_input},
                  {"error", m_input.error},
                  {"item", nullptr},
                  {"steps", Json::object()}};
      core::add_raw_input(json, m_input);
    }
    ItemLine line;
    line.text = core::dump_line(json);
    line.status = core::line_status(json);
    if (auto it = json.find("error"); it != json.end() && it->is_string()) {
      line.error = it->get<std::string>();
    }
    return line;
  }

private:
  const core::Flow& m_flow;
  const EngineConfig& m_config;
  const core::Input& m_input;
  std::string m_key;
  std::unique_ptr<core::ItemRun> m_run;   // null for an input that could not be read
  std::map<size_t, core::FlowJob> m_jobs; // handed out, not completed
  size_t m_next_id = 0;
};

} // namespace

std::string FlowPlanner::admit(core::Input& input) {
  if (!input.secure.is_null() && !m_warned_item_secure) {
    m_warned_item_secure = true;
    core::log_warning(fmt::format("{}: the item's secure_parameters are not sent: in a flow, each "
                                  "step gives its own (\"secure_parameters\" in the flow file)",
                                  input.where));
  }
  if (!input.error.empty()) {
    return {};
  }
  return core::content_hash("flow:" + m_flow.name, input.params, input.secure);
}

std::unique_ptr<ItemPlan> FlowPlanner::plan(const core::Input& input, const std::string& key) {
  return std::make_unique<FlowPlan>(m_flow, m_config, input, key);
}

} // namespace runner

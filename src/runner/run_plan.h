#pragma once

#include "core/inputs.h"
#include "core/json.h"
#include "runner/engine_config.h"
#include "runner/plan.h"

#include <memory>
#include <string>

namespace runner {

// The inference request of one input of `run`: its parameters with --set ones, its secure
// parameters with --secure-parameters ones; without the callback fields (add_callback_fields).
core::Json run_request(const EngineConfig& config, const core::Input& input);

// `run`: every input is one job; its line is the task's result (the callback payload, or a
// failure line) plus the input_parameters submitted ("input") and the record it came from.
// Every input of a file has each --unique name among its parameters (with --set ones), or the
// run stops before any submit: throws core::Error naming each bad `file:line` (exit 2). Streamed
// inputs are checked one by one (an invalid_input line each).
void check_unique_names(const core::InputSource& source, const EngineConfig& config);

class RunPlanner final : public Planner {
public:
  explicit RunPlanner(const EngineConfig& config) : m_config(config) {}
  std::string admit(core::Input& input) override;
  std::unique_ptr<ItemPlan> plan(const core::Input& input, const std::string& key) override;
  const char* unit() const override { return "input"; }
  const char* unfinished() const override { return "the task finished"; }
  std::string label() const override { return m_config.request.endpoint; }

private:
  const EngineConfig& m_config;
};

} // namespace runner

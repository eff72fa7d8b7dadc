#pragma once

#include "core/flow.h"
#include "core/flow_run.h"
#include "core/inputs.h"
#include "core/json.h"
#include "runner/engine_config.h"
#include "runner/plan.h"

#include <memory>
#include <string>

namespace runner {

// The inference request of one job of `step`, without the callback fields.
core::Json
flow_request(const core::FlowStep& step, const core::FlowJob& job, const EngineConfig& config);

// `flow`: every item runs the steps of a flow file (core::ItemRun decides which and when); its
// line is {"status", "error"?, "item", "steps"}.
class FlowPlanner final : public Planner {
public:
  FlowPlanner(const core::Flow& flow, const EngineConfig& config)
      : m_flow(flow), m_config(config) {}
  std::string admit(core::Input& input) override;
  std::unique_ptr<ItemPlan> plan(const core::Input& input, const std::string& key) override;
  const char* unit() const override { return "item"; }
  const char* unfinished() const override { return "the step ended"; }
  std::string label() const override { return m_flow.name; }

private:
  const core::Flow& m_flow;
  const EngineConfig& m_config;
  bool m_warned_item_secure = false; // reader thread only
};

} // namespace runner

#include "runner/flow.h"

#include "core/error.h"
#include "core/files.h"
#include "core/flow.h"
#include "core/log.h"
#include "core/output.h"
#include "core/url.h"
#include "runner/engine.h"
#include "runner/flow_plan.h"
#include "runner/report_file.h"
#include "runner/session.h"
#include "runner/signals.h"

#include <fmt/format.h>

namespace runner {

using core::Json;

namespace {

// --plan: for the first item (or none), each step in order with the request it would send.
// References to results not known before running stay as written ({{login:/...}}, {{each}}).
int print_plan(const core::Flow& flow, const FlowOptions& opts) {
  std::optional<Json> item;
  std::string where = "no item (--input not given): item references stay as written";
  if (!opts.run.input_path.empty() || !opts.run.emails_path.empty()) {
    auto source = load_inputs(opts.run);
    auto first = source->next();
    if (!first) {
      throw core::Error("--plan: the input has no item to show the plan for");
    }
    if (!first->error.empty()) {
      throw core::Error(fmt::format("--plan: the first item cannot be read: {}", first->error));
    }
    item = first->params;
    where = first->where;
  }
  core::log_info(fmt::format("plan of flow \"{}\" for {}", flow.name, where));
  EngineConfig config = engine_config(opts.run, nullptr);
  if (!opts.run.public_url.empty()) {
    config.token = "<token>";
    config.callback_base = callback_base(opts.run.public_url);
  }
  core::ApiEndpoints api = core::resolve_api_url(opts.run.api_url);
  core::LineWriter out;
  bool ok = true;
  try {
    for (size_t index : flow.order) {
      const core::FlowStep& step = flow.steps[index];
      Json line = {{"step", step.id}, {"endpoint", step.endpoint}};
      Json needs = Json::array();
      for (size_t d : step.deps) {
        needs.push_back(flow.steps[d].id);
      }
      line["needs"] = needs;
      if (step.when) {
        Json when = Json::object();
        for (const auto& c : *step.when) {
          when[flow.steps[c.step].id] = c.statuses;
        }
        line["when"] = when;
      }
      if (step.foreach) {
        // As a flow file writes it: "orders:/output_data/0/json_data/orders".
        const std::string& text = step.foreach->text;
        line["foreach"] = text.substr(2, text.size() - 4);
      }
      line["on_failure"] = step.on_failure == core::OnFailure::stop ? "stop" : "continue";
      if (step.retries > 0) {
        line["retries"] = step.retries;
      }
      if (step.timeout) {
        line["timeout_s"] = std::chrono::duration<double>(*step.timeout).count();
      }
      core::TemplateScope scope;
      scope.item = item ? &*item : nullptr;
      scope.result = [](const std::string&) -> const Json* { return nullptr; };
      scope.keep_unresolved = true;
      try {
        core::FlowJob job;
        job.step = index;
        job.params = core::to_input_parameters(core::render_template(step.input, scope));
        if (!step.secure.is_null()) {
          core::TemplateScope secure_scope = scope;
          secure_scope.unwrap_single_lists = true;
          job.secure = core::render_template(step.secure, secure_scope);
        }
        Json request = flow_request(step, job, config);
        add_callback_fields(request, config, "<job>");
        line["request"] = describe_request(opts.run, api, std::move(request));
      } catch (const core::TemplateError& e) {
        ok = false;
        line["error"] = fmt::format("step \"{}\": {}", step.id, e.what());
      }
      out.write_line(core::dump_line(line));
    }
  } catch (const core::StdoutClosed&) {
    return core::to_int(core::ExitCode::stdout_closed);
  }
  return ok ? 0 : core::to_int(core::ExitCode::task_failed);
}

} // namespace

int run_flow(const FlowOptions& opts) {
  core::Flow flow = core::load_flow(opts.flow_path); // every problem before anything starts
  if (opts.plan) {
    return print_plan(flow, opts);
  }
  const RunOptions& r = opts.run;
  // Everything the user gave is checked before anything is created, listens or submits.
  (void)core::resolve_api_url(r.api_url);
  if (!r.public_url.empty() && !core::parse_url(r.public_url)) {
    throw core::Error(fmt::format("--public-url: not an http(s) URL: \"{}\"", r.public_url));
  }
  for (const std::string& dir : {r.results.screenshots_dir, r.results.downloads_dir}) {
    if (!dir.empty()) {
      core::make_directories(dir);
    }
  }
  std::unique_ptr<core::InputSource> items = load_inputs(r);
  EngineConfig config = engine_config(r, nullptr);
  core::JournalState journaled;
  std::unique_ptr<core::Journal> journal;
  if (!r.state_path.empty()) {
    journal = open_journal(r.state_path, journaled);
    config.journal = journal.get();
    config.resume = &journaled;
  }
  set_callback_urls(r, journaled, config);
  core::Tracker tracker;
  Session session(r, config, tracker, journaled, journal.get(), nullptr, "flow:" + flow.name);
  std::unique_ptr<core::Report> report =
      report_for_run(r, fmt::format("optexity-chain flow {}", flow.name));
  config.report = report.get();
  FlowPlanner planner(flow, config);
  Engine engine(planner, config, *items, tracker, session.service());
  SignalWatcher signals([&engine](int signo) { engine.interrupt(signo); });
  int code = engine.execute();
  session.stop();
  return finish_report(r, report.get(), code);
}

} // namespace runner

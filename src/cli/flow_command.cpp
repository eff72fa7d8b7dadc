#include "cli/flow_command.h"

#include "core/error.h"
#include "runner/flow.h"

namespace cli {

CLI::App* register_flow_command(CLI::App& app, FlowCommandOptions& opts) {
  CLI::App* cmd = app.add_subcommand(
      "flow",
      "Run a multi-step flow file (needs, when, foreach) for each item, one JSON line per item");
  cmd->add_option("FILE",
                  opts.flow_path,
                  "The flow: JSON with \"steps\" (id, endpoint, input, needs, when, foreach, ...; "
                  "see the man page, FLOW FILES)")
      ->required()
      ->check(CLI::ExistingFile)
      ->type_name("FILE");
  cmd->add_flag("--plan",
                opts.plan,
                "Print, for the first item, each step in order and the request it would send; "
                "submit nothing")
      ->group("Inputs");
  add_shared_options(cmd, opts.common, Command::flow);
  return cmd;
}

int run_flow_command(FlowCommandOptions& opts) {
  prepare_options(opts.common);
  runner::FlowOptions fo;
  fo.flow_path = opts.flow_path;
  fo.plan = opts.plan;
  fo.run = opts.common.run;
  if (!fo.plan && fo.run.emails_path.empty() && fo.run.input_path.empty()) {
    throw core::Error("flow: give the items with --input FILE or --emails FILE ('-' for stdin)");
  }
  if (!fo.plan) { // --plan submits nothing
    require_api_key(opts.common);
  }
  return runner::run_flow(fo);
}

} // namespace cli

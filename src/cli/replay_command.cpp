#include "cli/replay_command.h"

#include "core/log.h"
#include "runner/recording.h"

namespace cli {

CLI::App* register_replay_command(CLI::App& app, std::string& dir) {
  CLI::App* cmd = app.add_subcommand(
      "replay",
      "Feed a `run --record DIR` recording back through the same matching and output code, "
      "offline, and print what the run printed");
  cmd->add_option("DIR", dir, "The recording directory")->required()->check(CLI::ExistingDirectory);
  return cmd;
}

int run_replay_command(const std::string& dir) {
  core::set_verbosity(core::Verbosity::quiet);
  return runner::replay(dir);
}

} // namespace cli

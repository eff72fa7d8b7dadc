#include "cli/completion_command.h"

#include "cli/completion_scripts.h"
#include "core/error.h"
#include "core/files.h"

#include <cstring>

namespace cli {

CLI::App* register_completion_command(CLI::App& app, std::string& shell) {
  CLI::App* cmd = app.add_subcommand(
      "completion",
      "Print the completion script for SHELL: `optexity-chain completion bash > "
      "/etc/bash_completion.d/optexity-chain`, `source <(optexity-chain completion zsh)`, "
      "`optexity-chain completion fish | source`");
  cmd->add_option("SHELL", shell, "bash, zsh or fish")
      ->required()
      ->check(CLI::IsMember({"bash", "zsh", "fish"}));
  return cmd;
}

int run_completion_command(const std::string& shell) {
  const char* script = shell == "bash"  ? k_bash_completion
                       : shell == "zsh" ? k_zsh_completion
                                        : k_fish_completion;
  if (int err = core::write_all(1, script); err != 0) {
    throw core::Error(std::string("stdout: ") + std::strerror(err), core::ExitCode::write_failed);
  }
  return 0;
}

} // namespace cli

#include "cli/login_command.h"

#include "core/api.h"
#include "core/credentials.h"
#include "core/error.h"
#include "core/files.h"
#include "core/log.h"
#include "core/redact.h"
#include "core/text.h"
#include "net/client.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

namespace cli {

namespace {

void add_profile_option(CLI::App* cmd, LoginCommandOptions& opts) {
  cmd->add_option("--profile", opts.profile, "The profile's name")
      ->capture_default_str()
      ->type_name("NAME");
  cmd->add_flag("-q,--quiet", opts.quiet, "Only errors on stderr");
}

// The key: typed on the terminal without echo, or the first line of stdin (a pipe, a file).
std::string read_key() {
  std::string key;
  if (::isatty(0) == 1) {
    std::fputs("API key (not shown): ", stderr);
    std::fflush(stderr);
    termios before{};
    const bool tty = ::tcgetattr(0, &before) == 0;
    if (tty) {
      termios quiet = before;
      quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
      ::tcsetattr(0, TCSAFLUSH, &quiet);
    }
    std::getline(std::cin, key);
    if (tty) {
      ::tcsetattr(0, TCSAFLUSH, &before);
    }
    std::fputs("\n", stderr);
  } else {
    std::getline(std::cin, key);
  }
  key = std::string(core::trim(key));
  if (key.empty()) {
    throw core::Error("login: no API key given (type it, or pipe it: optexity-chain login < "
                      "key.txt)");
  }
  if (key.find_first_of(" \t") != std::string::npos) {
    throw core::Error("login: an API key has no spaces or tabs");
  }
  return key;
}

core::Profiles load_profiles(const std::string& path) {
  std::string why;
  auto text = core::try_read_file(path, &why);
  if (!text) {
    if (errno == ENOENT || why.find("No such file") != std::string::npos) {
      return {};
    }
    throw core::Error(fmt::format("{}: {}", path, why));
  }
  return core::parse_credentials(*text, path);
}

void store_profiles(const std::string& path, const core::Profiles& profiles) {
  const std::string dir = path.substr(0, path.rfind('/'));
  core::make_directories(dir);
  ::chmod(dir.c_str(), 0700);
  core::write_file_atomic(path, core::format_credentials(profiles), 0600);
}

std::string checked_path(const std::string& profile) {
  if (std::string why = core::check_profile_name(profile); !why.empty()) {
    throw core::Error("--profile: " + why);
  }
  std::string path = core::credentials_path();
  if (path.empty()) {
    throw core::Error("no place for credentials: set HOME or XDG_CONFIG_HOME");
  }
  return path;
}

} // namespace

CLI::App* register_login_command(CLI::App& app, LoginCommandOptions& opts) {
  CLI::App* cmd = app.add_subcommand(
      "login",
      "Store an API key (read without echo, or from stdin) for later runs, checked with the "
      "service first");
  add_profile_option(cmd, opts);
  cmd->add_option("--api-url", opts.api_url, "Base URL of the service that checks the key")
      ->envname("OPTEXITY_API_URL")
      ->capture_default_str();
  cmd->add_flag("--no-verify", opts.no_verify, "Store the key without asking the service");
  return cmd;
}

CLI::App* register_logout_command(CLI::App& app, LoginCommandOptions& opts) {
  CLI::App* cmd = app.add_subcommand("logout", "Remove a stored API key");
  add_profile_option(cmd, opts);
  return cmd;
}

int run_login_command(const LoginCommandOptions& opts) {
  if (opts.quiet) {
    core::set_verbosity(core::Verbosity::quiet);
  }
  const std::string path = checked_path(opts.profile);
  core::Profiles profiles = load_profiles(path); // a broken file is said before the key is asked
  const std::string key = read_key();
  core::add_secret(key); // never shown, whatever happens next
  if (!opts.no_verify) {
    net::ClientOptions co;
    co.api = core::resolve_api_url(opts.api_url);
    co.api_key = key;
    co.connect_timeout = std::chrono::seconds(10);
    co.read_timeout = std::chrono::seconds(30);
    co.log = [](const std::string& line) { core::log_debug(line); };
    net::Client client(co);
    net::StatusReply reply = client.validate_api_key(key);
    auto valid = reply.body.is_object() ? reply.body.find("valid") : reply.body.end();
    if (reply.available && reply.error.empty() && reply.body.is_object() &&
        valid != reply.body.end() && valid->is_boolean()) {
      if (!valid->get<bool>()) {
        std::string message = reply.body.value("message", "");
        throw core::Error(fmt::format("login: the service says this API key is not valid{}{}; "
                                      "nothing stored",
                                      message.empty() ? "" : ": ",
                                      core::redact(message)),
                          core::ExitCode::refused);
      }
      core::log_info("the service accepts this API key");
    } else {
      core::log_warning(fmt::format("login: the key could not be checked ({}); stored anyway "
                                    "(--no-verify skips the check)",
                                    reply.error.empty() ? "no answer about it" : reply.error));
    }
  }
  const bool replaced = profiles.contains(opts.profile);
  profiles[opts.profile] = key;
  store_profiles(path, profiles);
  core::log_info(fmt::format(
      "{} profile \"{}\" in {} (mode 0600); runs use it when no "
      "--api-key, --api-key-file or OPTEXITY_API_KEY is given{}",
      replaced ? "replaced" : "stored",
      opts.profile,
      path,
      opts.profile == "default" ? "" : fmt::format(" and --profile {} is", opts.profile)));
  return 0;
}

int run_logout_command(const LoginCommandOptions& opts) {
  if (opts.quiet) {
    core::set_verbosity(core::Verbosity::quiet);
  }
  const std::string path = checked_path(opts.profile);
  core::Profiles profiles = load_profiles(path);
  if (profiles.erase(opts.profile) == 0) {
    core::log_error(fmt::format("not logged in: no profile \"{}\" in {}", opts.profile, path));
    return core::to_int(core::ExitCode::task_failed);
  }
  if (profiles.empty()) {
    if (::unlink(path.c_str()) != 0) {
      throw core::Error(fmt::format("{}: {}", path, std::strerror(errno)),
                        core::ExitCode::write_failed);
    }
  } else {
    store_profiles(path, profiles);
  }
  core::log_info(fmt::format("removed profile \"{}\" from {}", opts.profile, path));
  return 0;
}

} // namespace cli

#include "cli/run_command.h"

#include "core/error.h"
#include "core/log.h"

#include <fmt/format.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace cli {

CLI::App* register_run_command(CLI::App& app, RunCommandOptions& opts) {
  auto& r = opts.run;
  CLI::App* cmd = app.add_subcommand(
      "run", "Submit one automation per input and print each result as one JSON line");

  auto* inputs = "Inputs";
  cmd->add_option("--endpoint", r.request.endpoint, "Automation (endpoint_name) to run")
      ->required()
      ->group(inputs);
  cmd->add_option("--emails", r.emails_path,
                  "File with one email per line ('-' reads stdin as it streams); each becomes "
                  "{\"email\": [value]}")
      ->required()
      ->group(inputs);

  cmd->add_option("--unique", r.request.unique,
                  "A unique_parameter_names entry (repeatable; default for --emails: email)")
      ->group(inputs);

  auto* service = "Service";
  cmd->add_option("--api-url", r.api_url,
                  "Base URL (the tool appends /api/v1/inference) or a full URL ending in "
                  "/inference, used as is")
      ->envname("OPTEXITY_API_URL")
      ->capture_default_str()
      ->group(service);
  cmd->add_option("--api-key", r.api_key,
                  "API key, sent as x-api-key (visible in ps: prefer --api-key-file or "
                  "OPTEXITY_API_KEY)")
      ->group(service);
  cmd->add_option("--api-key-file", opts.api_key_file, "File holding the API key")
      ->check(CLI::ExistingFile)
      ->group(service);
  cmd->add_option("--priority", r.request.priority, "Request priority (lower runs first)")
      ->group(service);
  cmd->add_option("--max-timeout-minutes", r.request.max_timeout_minutes,
                  "Per-attempt limit the service applies (max_timeout_in_minutes)")
      ->check(CLI::PositiveNumber)
      ->group(service);
  cmd->add_option("--retries", r.retry.retries,
                  "Extra submit attempts, only where the service cannot have created the task")
      ->check(CLI::Range(0, 100))
      ->capture_default_str()
      ->group(service);
  cmd->add_option("--connect-timeout", r.connect_timeout_seconds, "Connect timeout in seconds")
      ->check(CLI::PositiveNumber)
      ->capture_default_str()
      ->group(service);
  cmd->add_option("--read-timeout", r.read_timeout_seconds, "Read timeout in seconds")
      ->check(CLI::PositiveNumber)
      ->capture_default_str()
      ->group(service);
  cmd->add_flag("--emulate", r.emulate,
                "Run against the embedded emulator (no network, no key); listens on a free port")
      ->group(service);

  auto* waiting = "Callbacks and waiting";
  opts.listen_option = cmd->add_option("--listen", opts.listen,
                  "HOST:PORT of the callback listener (port 0 picks a free one)")
      ->capture_default_str()
      ->group(waiting);
  cmd->add_option("--callback-path", r.callback_path, "Path that accepts callbacks")
      ->capture_default_str()
      ->group(waiting);
  cmd->add_option("--timeout", r.timeout_seconds,
                  "Seconds to wait for each task's callback (default: the attempt limit + 5 "
                  "minutes of delivery retries)")
      ->check(CLI::PositiveNumber)
      ->group(waiting);
  cmd->add_option("--parallel", r.parallel, "Tasks in flight at once")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str()
      ->group(waiting);

  cmd->add_flag("-q,--quiet", opts.quiet, "Only errors on stderr");
  cmd->add_flag("-v,--verbose", opts.verbose, "Debug lines on stderr (the key is never shown)");
  return cmd;
}

namespace {

std::string read_key_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw core::Error(fmt::format("--api-key-file: cannot open {}: {}", path, std::strerror(errno)));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  std::string key = ss.str();
  while (!key.empty() && std::isspace(static_cast<unsigned char>(key.back()))) {
    key.pop_back();
  }
  while (!key.empty() && std::isspace(static_cast<unsigned char>(key.front()))) {
    key.erase(0, 1);
  }
  if (key.empty()) {
    throw core::Error(fmt::format("--api-key-file: {} is empty", path));
  }
  if (key.find_first_of("\r\n") != std::string::npos) {
    throw core::Error(fmt::format("--api-key-file: {} holds more than one line", path));
  }
  return key;
}

// "HOST:PORT" or "[v6]:PORT" -> host and port.
void parse_listen(const std::string& text, std::string& host, int& port) {
  auto bad = [&] {
    return core::Error(fmt::format("--listen: expected HOST:PORT, got \"{}\"", text));
  };
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    throw bad();
  }
  host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  std::string port_text = text.substr(colon + 1);
  auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || p != port_text.data() + port_text.size() || port < 0 || port > 65535) {
    throw bad();
  }
}

} // namespace

int run_run_command(RunCommandOptions& opts) {
  auto& r = opts.run;
  core::set_verbosity(opts.quiet     ? core::Verbosity::quiet
                      : opts.verbose ? core::Verbosity::verbose
                                     : core::Verbosity::normal);
  if (r.api_key.empty() && !opts.api_key_file.empty()) {
    r.api_key = read_key_file(opts.api_key_file);
  }
  if (r.api_key.empty()) {
    if (const char* env = std::getenv("OPTEXITY_API_KEY"); env && *env) {
      r.api_key = env;
    }
  }
  if (r.request.unique.empty()) {
    r.request.unique = {"email"}; // --emails: one task per email at a time, as the service intends
  }
  parse_listen(opts.listen, r.listen_host, r.listen_port);
  r.listen_given = opts.listen_option && opts.listen_option->count() > 0;
  if (r.callback_path.empty() || r.callback_path.front() != '/') {
    throw core::Error("--callback-path must start with '/'");
  }
  return runner::run(r);
}

} // namespace cli

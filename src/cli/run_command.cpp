#include "cli/run_command.h"

#include "cli/emulator_command.h"
#include "cli/key_file.h"
#include "cli/number_option.h"
#include "core/error.h"
#include "core/formats.h"
#include "core/log.h"
#include "core/redact.h"
#include "core/run_controls.h"
#include "core/status.h"
#include "core/text.h"
#include "core/token.h"
#include "core/url.h"

#include <fmt/format.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

#include "emulator/script.h"

namespace cli {

namespace {

// The statuses an output line can carry: the choices of --where-status.
std::vector<std::string> line_status_names() {
  std::vector<std::string> names;
  for (core::Status s : core::k_line_statuses) {
    names.emplace_back(core::to_text(s));
  }
  return names;
}

// The bounds of an int option that has no range of its own: a number past them is refused in
// words, not by CLI11's conversion error.
constexpr long long k_min_int = std::numeric_limits<int>::min();
constexpr long long k_max_int = std::numeric_limits<int>::max();

} // namespace

CLI::App* register_run_command(CLI::App& app, RunCommandOptions& opts) {
  CLI::App* cmd = app.add_subcommand(
      "run", "Submit one automation per input and print each result as one JSON line");
  cmd->add_option("-e,--endpoint", opts.run.request.endpoint, "Automation (endpoint_name) to run")
      ->required()
      ->group("Inputs")
      ->type_name("NAME");
  add_shared_options(cmd, opts, Command::run);
  return cmd;
}

void add_shared_options(CLI::App* cmd, RunCommandOptions& opts, Command command) {
  auto& r = opts.run;
  opts.command = command;
  const bool run = command == Command::run;
  auto* inputs = "Inputs";
  auto* emails = cmd->add_option("--emails",
                                 r.emails_path,
                                 "File with one email per line ('-' reads stdin as it streams); "
                                 "each becomes {\"email\": [value]}")
                     ->group(inputs)
                     ->type_name("FILE|-");
  auto* input = cmd->add_option("-i,--input",
                                r.input_path,
                                "Inputs file ('-' reads stdin): NDJSON (one object of parameters "
                                "a line), CSV with a header row, or lines (see --format)")
                    ->group(inputs)
                    ->type_name("FILE|-");
  emails->excludes(input);
  input->excludes(emails);
  cmd->add_option("--format",
                  r.format,
                  fmt::format("Format of --input: {} (default: by extension; stdin and unknown "
                              "extensions are ndjson)",
                              core::join(core::input_format_names(), ", ", " or ")))
      ->check(CLI::IsMember(core::input_format_names()))
      ->group(inputs);
  // No capture_default_str: CLI11 would show "NAME=value", which reads as syntax.
  cmd->add_option(
         "--param-name",
         r.param_name,
         fmt::format("Parameter each line becomes with --format lines (default: {})", r.param_name))
      ->group(inputs)
      ->type_name("NAME");
  if (run) {
    cmd->add_option(
           "--set", opts.set, "NAME=VALUE: a constant parameter added to every input (repeatable)")
        ->group(inputs)
        ->type_name("NAME=VALUE");
    cmd->add_option("--secure-parameters",
                    r.secure_parameters_path,
                    "JSON file of secure_parameters (1Password, AWS Secrets Manager or TOTP "
                    "references) added to every request")
        ->check(CLI::ExistingFile)
        ->group(inputs);
    cmd->add_option("--map",
                    r.map_specs,
                    "NAME=POINTER: with --input, each line is a record (another run's output) and "
                    "parameter NAME comes from its field at the JSON Pointer (repeatable)")
        ->group(inputs)
        ->type_name("NAME=POINTER");
    cmd->add_option("--where-status",
                    r.where_status,
                    "Submit only records with this status (default with --map: success); others "
                    "are passed to stdout unchanged")
        ->check(CLI::IsMember(line_status_names()))
        ->group(inputs);
    cmd->add_flag("--carry",
                  r.carry,
                  "Keep each incoming record (without final_screenshot) under \"from\" in its line")
        ->group(inputs);
    cmd->add_flag("--dry-run",
                  r.dry_run,
                  "Print the requests that would be sent (key redacted), one JSON line each; "
                  "submit nothing")
        ->group(inputs);
  }

  if (run) {
    cmd->add_option("--unique",
                    r.request.unique,
                    "A unique_parameter_names entry (repeatable; default for --emails: email)")
        ->group(inputs)
        ->type_name("NAME");
  }

  auto* service = "Service";
  cmd->add_option("--api-url",
                  r.api_url,
                  "Base URL (the tool appends /api/v1/inference) or a full URL ending in "
                  "/inference, used as is")
      ->envname("OPTEXITY_API_URL")
      ->capture_default_str()
      ->group(service)
      ->type_name("URL");
  cmd->add_option("--api-key",
                  r.api_key,
                  "API key, sent as x-api-key (visible in ps: prefer --api-key-file or "
                  "OPTEXITY_API_KEY)")
      ->group(service);
  cmd->add_option("--profile",
                  opts.profile,
                  "The key `optexity-chain login --profile NAME` stored (when no --api-key, "
                  "--api-key-file or OPTEXITY_API_KEY; default: $OPTEXITY_PROFILE, else default)")
      ->group(service)
      ->type_name("NAME");
  cmd->add_option("--api-key-file", opts.api_key_file, "File holding the API key")
      ->check(CLI::ExistingFile)
      ->group(service);
  cmd->add_option("--priority", r.request.priority, "Request priority (lower runs first)")
      ->check(number_check(core::NumberRange::whole(k_min_int, k_max_int)))
      ->group(service);
  cmd->add_option("--max-timeout-minutes",
                  r.request.max_timeout_minutes,
                  "Per-attempt limit the service applies (max_timeout_in_minutes)")
      ->check(number_check(core::NumberRange::whole(1, k_max_int)))
      ->group(service);
  cmd->add_option("--retries",
                  r.retry.retries,
                  "Extra submit attempts, only where the service cannot have created the task")
      ->check(number_check(core::NumberRange::whole(0, 100)))
      ->capture_default_str()
      ->group(service);
  cmd->add_option("--connect-timeout", r.connect_timeout_seconds, "Connect timeout in seconds")
      ->check(number_check(core::NumberRange::positive()))
      ->capture_default_str()
      ->group(service);
  cmd->add_option("--read-timeout", r.read_timeout_seconds, "Read timeout in seconds")
      ->check(number_check(core::NumberRange::positive()))
      ->capture_default_str()
      ->group(service);
  cmd->add_option("--status-url",
                  r.status_url,
                  "Base URL of the status API when --api-url is a full /inference URL")
      ->group(service)
      ->type_name("URL");
  cmd->add_option("--script",
                  r.emulator.script_path,
                  "With --emulate: the emulator's per-endpoint outputs, delays and failure rates "
                  "(see examples/README.md)")
      ->check(CLI::ExistingFile)
      ->type_name("FILE")
      ->group(service);
  cmd->add_flag("--emulate",
                r.emulate,
                "Run against the embedded emulator (no network, no key); listens on a free port")
      ->group(service);
  opts.emulator_options =
      add_emulator_service_options(cmd, r.emulator, "Emulator (with --emulate)");

  auto* waiting = "Callbacks and waiting";
  cmd->add_option("--callback-key",
                  r.callback_key,
                  "Secret callbacks must carry (x-api-key or Authorization: Bearer); sent to "
                  "Optexity as task_callback_api_key (visible in ps: prefer --callback-key-file or "
                  "OPTEXITY_CALLBACK_KEY)")
      ->group(waiting);
  cmd->add_option("--callback-key-file", opts.callback_key_file, "File holding the callback key")
      ->check(CLI::ExistingFile)
      ->group(waiting);
  cmd->add_option("--callback-basic-file",
                  opts.callback_basic_file,
                  "File holding user:password that callbacks may carry as Basic auth (the "
                  "dashboard's callback setting)")
      ->check(CLI::ExistingFile)
      ->group(waiting);
  cmd->add_option("--tls-cert", r.tls_cert, "PEM certificate: serve the listener over HTTPS")
      ->check(CLI::ExistingFile)
      ->group(waiting);
  cmd->add_option("--tls-key", r.tls_key, "PEM private key for --tls-cert")
      ->check(CLI::ExistingFile)
      ->group(waiting);
  cmd->add_flag("--no-preflight",
                opts.no_preflight,
                "With --public-url: skip the probe that checks the URL reaches this listener")
      ->group(waiting);
  if (run) {
    cmd->add_option("--watchdog",
                    r.watchdog_seconds,
                    "Seconds without any callback, with tasks in flight, before checking their "
                    "status with the service")
        ->check(number_check(core::NumberRange::positive()))
        ->capture_default_str()
        ->group(waiting)
        ->type_name("SECONDS");
  }

  opts.listen_option =
      cmd->add_option("--listen",
                      opts.listen,
                      "HOST:PORT of the callback listener (port 0 picks a free one)")
          ->capture_default_str()
          ->group(waiting)
          ->type_name("HOST:PORT");
  cmd->add_option("--callback-path", r.callback_path, "Path that accepts callbacks")
      ->capture_default_str()
      ->group(waiting);
  cmd->add_option("--public-url",
                  r.public_url,
                  "The listener's address as Optexity sees it (tunnel, reverse proxy): each "
                  "request then names its own secret callback URL")
      ->group(waiting)
      ->type_name("URL");
  cmd->add_option("--timeout",
                  r.timeout_seconds,
                  "Seconds each task may take from its start as the service reports it (a task "
                  "still queued waits on); default: --attempts attempt limits, the pauses between "
                  "them and 5 minutes of delivery retries")
      ->check(number_check(core::NumberRange::positive()))
      ->group(waiting)
      ->type_name("SECONDS");
  cmd->add_option("--attempts",
                  r.attempts,
                  "Attempts the service may make of each task (the recording's max_retries + 1), "
                  "counted in the default --timeout")
      ->check(number_check(core::NumberRange::whole(1, 100)))
      ->capture_default_str()
      ->group(waiting)
      ->type_name("N");
  cmd->add_option("--max-wait",
                  r.max_wait_seconds,
                  "Seconds to wait for a task in all, from its submit, queue included; only then "
                  "is a task that never started a timeout")
      ->check(number_check(core::NumberRange::positive()))
      ->capture_default_str()
      ->group(waiting)
      ->type_name("SECONDS");
  cmd->add_option("--straggler-after",
                  r.straggler_seconds,
                  "A task whose callback is later than max(SECONDS, 3 x the p90 of the run's "
                  "finished tasks) has its status checked, then again with backoff")
      ->check(number_check(core::NumberRange::positive()))
      ->capture_default_str()
      ->group(waiting)
      ->type_name("SECONDS");
  cmd->add_option("--poll",
                  r.poll_seconds,
                  "Fallback where no callback can reach this machine: check the status of every "
                  "task in flight every SECONDS (with the straggler checks, at most 10 a second)")
      ->check(number_check(core::NumberRange::positive()))
      ->group(waiting)
      ->type_name("SECONDS");
  cmd->add_option("-j,--parallel", r.parallel, "Tasks in flight at once")
      ->check(number_check(core::NumberRange::whole(1, 100000)))
      ->capture_default_str()
      ->group(waiting)
      ->type_name("N");
  cmd->add_flag(
         "--unordered", r.unordered, "Print each line the moment its task ends, not in input order")
      ->group(waiting);

  auto* results = "Results";
  auto* shots = cmd->add_option("--screenshots",
                                r.results.screenshots_dir,
                                "Write each final_screenshot to DIR/<task_id>.png and put the path "
                                "in its place (DIR is created)")
                    ->group(results)
                    ->type_name("DIR");
  auto* no_shots = cmd->add_flag("--no-screenshots",
                                 r.results.no_screenshots,
                                 "Remove final_screenshot from the lines")
                       ->group(results);
  shots->excludes(no_shots);
  cmd->add_option("--downloads",
                  r.results.downloads_dir,
                  "Fetch each entry of downloads into DIR/<task_id>/<filename> at once (signed "
                  "URLs expire) and add its local path")
      ->group(results)
      ->type_name("DIR");
  cmd->add_option("--download-timeout",
                  r.download_timeout_seconds,
                  "With --downloads: seconds each file may take in all, from connecting to the "
                  "last byte (a slow server cannot hold a line longer)")
      ->check(number_check(core::NumberRange::positive()))
      ->capture_default_str()
      ->group(results)
      ->type_name("SECONDS");

  auto* operating = "Long runs";
  cmd->add_option("--halt",
                  opts.halt,
                  "Stop submitting after N failures, or once P% of at least 10 finished tasks "
                  "failed (GNU parallel's spelling): soon,fail=N|P% waits for the tasks in "
                  "flight, now,fail=N|P% stops waiting; never submitted inputs say skipped")
      ->group(operating)
      ->type_name("WHEN,fail=N|P%");
  cmd->add_option("--limit",
                  opts.limit,
                  "Run only the first N inputs (a canary before the whole file); the others are "
                  "neither submitted nor printed")
      ->check(number_check(core::NumberRange::whole(1, 1'000'000'000)))
      ->group(operating)
      ->type_name("N");
  cmd->add_option("--rate",
                  opts.rate,
                  "At most N submits a second (N/s) or a minute (N/m), evenly spaced, together "
                  "with --parallel (service quotas)")
      ->group(operating)
      ->type_name("N/s|N/m");
  cmd->add_option("--shard",
                  opts.shard,
                  "Run only shard I of N of the inputs (by content, stable when the file is "
                  "reordered or edited): N machines split one input, none run twice")
      ->group(operating)
      ->type_name("I/N");
  cmd->add_option("--joblog",
                  r.joblog_path,
                  "Append a tab-separated line per finished input (seq, source, task id, status, "
                  "submitted, started, ended, seconds, error) to FILE, header once")
      ->group(operating)
      ->type_name("FILE");
  cmd->add_option("--report",
                  r.report_path,
                  "At the end, write the HTML run report (as `optexity-chain report`) to FILE")
      ->group(operating)
      ->type_name("FILE");
  cmd->add_flag("--tag",
                r.tag,
                "Add \"source\": \"file:line\" to each line (joins --unordered output back to "
                "its inputs)")
      ->group(operating);

  auto* journal = "Journal and resume";
  cmd->add_option("--state",
                  r.state_path,
                  "Append-only journal (mode 0600) of submits and results; a rerun with the same "
                  "file reprints finished results and resumes the rest")
      ->group(journal)
      ->type_name("FILE");
  cmd->add_flag("--retry-failed",
                r.retry_failed,
                "With --state: resubmit inputs whose journaled result is not success")
      ->group(journal);
  cmd->add_flag("--resubmit-unfinished",
                r.resubmit_unfinished,
                "With --state: resubmit tasks that may still be running (may run them twice)")
      ->group(journal);
  if (run) {
    cmd->add_option("--grace",
                    r.grace_seconds,
                    "After SIGINT/SIGTERM, seconds to keep waiting for tasks in flight (a second "
                    "signal exits at once)")
        ->check(number_check(core::NumberRange::non_negative()))
        ->capture_default_str()
        ->group(journal)
        ->type_name("SECONDS");
  }

  cmd->add_option("--progress",
                  r.progress,
                  "auto: a live status line when stderr is a terminal; json: a status object on "
                  "stderr every 2 s; none")
      ->check(CLI::IsMember({"auto", "json", "none"}))
      ->capture_default_str();
  cmd->add_option(
         "--color", opts.color, "Colour on stderr: auto (terminal, no NO_COLOR), always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->capture_default_str();
  if (run) {
    cmd->add_option("--record",
                    r.record_dir,
                    "Store every callback received (raw body, headers without credentials) and "
                    "every submit exchange in DIR, one file per event, for `replay`")
        ->type_name("DIR");
  }

  if (run) {
    cmd->add_flag("--stats",
                  r.stats,
                  "At the end, print on stderr the latency from each callback's arrival to its "
                  "line on stdout (p50, p99, max)");
  }

  cmd->add_flag("-q,--quiet", opts.quiet, "Only errors on stderr");
  cmd->add_flag("-v,--verbose", opts.verbose, "Debug lines on stderr (the key is never shown)");
}

namespace {

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

// --param-name names the parameter; "url=x" would make a parameter literally named "url=x".
void check_param_name(const std::string& name, Command command) {
  auto eq = name.find('=');
  if (eq == std::string::npos) {
    return;
  }
  std::string param = name.substr(0, eq);
  std::string set_hint =
      command == Command::run ? fmt::format(", or --set {} for a constant parameter", name) : "";
  throw core::Error(fmt::format("--param-name takes a parameter NAME, not NAME=VALUE (got \"{}\"): "
                                "use --param-name {}{}",
                                name,
                                param.empty() ? "NAME" : param,
                                set_hint));
}

// --retry-failed and --resubmit-unfinished decide what a rerun does with a journal's entries:
// without --state there is none, and ignoring them would hide the mistake.
void check_journal_flags(const runner::RunOptions& r) {
  if (!r.state_path.empty() || !(r.retry_failed || r.resubmit_unfinished)) {
    return;
  }
  throw core::Error(r.retry_failed && r.resubmit_unfinished
                        ? "--retry-failed and --resubmit-unfinished act on a journal: use them "
                          "with --state FILE"
                        : fmt::format("{} acts on a journal: use it with --state FILE",
                                      r.retry_failed ? "--retry-failed" : "--resubmit-unfinished"));
}

} // namespace

void prepare_options(RunCommandOptions& opts) {
  auto& r = opts.run;
  core::set_verbosity(opts.quiet     ? core::Verbosity::quiet
                      : opts.verbose ? core::Verbosity::verbose
                                     : core::Verbosity::normal);
  core::set_color_mode(opts.color == "always"  ? core::ColorMode::always
                       : opts.color == "never" ? core::ColorMode::never
                                               : core::ColorMode::automatic);
  // --progress json: stderr is JSON lines only, progress objects and log lines alike.
  core::set_stderr_json(r.progress == "json");
  r.preflight = !opts.no_preflight;
  r.api_key = resolve_api_key(r.api_key, opts.api_key_file, opts.profile);
  r.callback_key = resolve_secret(
      r.callback_key, opts.callback_key_file, "OPTEXITY_CALLBACK_KEY", "--callback-key-file");
  if (!opts.callback_basic_file.empty()) {
    r.basic_credentials =
        resolve_secret({}, opts.callback_basic_file, nullptr, "--callback-basic-file");
    if (r.basic_credentials.find(':') == std::string::npos) {
      throw core::Error("--callback-basic-file: expected one line user:password");
    }
  }
  if (r.emulate && r.callback_key.empty() && r.basic_credentials.empty()) {
    // The embedded emulator sends the key it is given with each task: its callbacks are then
    // authenticated like the service's, and nothing else on the machine can post results (or
    // name downloads) to this run.
    r.callback_key = core::random_token();
    core::add_secret(r.callback_key);
  }
  if (r.tls_cert.empty() != r.tls_key.empty()) {
    throw core::Error("--tls-cert and --tls-key go together");
  }
  for (const CLI::Option* option : opts.emulator_options) {
    if (!r.emulate && option->count() > 0) {
      throw core::Error(fmt::format("{} configures the embedded emulator: use it with --emulate",
                                    option->get_name()));
    }
  }
  if (!r.emulator.script_path.empty()) {
    if (!r.emulate) {
      throw core::Error("--script configures the embedded emulator: use it with --emulate");
    }
    emulator::load_script(r.emulator.script_path); // every problem reported before anything starts
  }
  check_param_name(r.param_name, opts.command);
  if (!opts.halt.empty()) {
    r.halt = core::parse_halt(opts.halt);
  }
  if (!opts.shard.empty()) {
    r.shard = core::parse_shard(opts.shard);
  }
  if (!opts.rate.empty()) {
    r.rate = core::parse_rate(opts.rate);
  }
  if (opts.limit > 0) {
    r.limit = static_cast<size_t>(opts.limit);
  }
  check_journal_flags(r);
  parse_listen(opts.listen, r.listen_host, r.listen_port);
  r.listen_given = opts.listen_option && opts.listen_option->count() > 0;
  if (r.callback_path.empty() || r.callback_path.front() != '/') {
    throw core::Error("--callback-path must start with '/'");
  }
}

void require_api_key(const RunCommandOptions& opts) {
  const auto& r = opts.run;
  if (!r.emulate && !r.dry_run) {
    // The embedded emulator needs no key, and a dry run sends nothing.
    if (std::string problem = core::missing_api_key(r.api_url, r.api_key); !problem.empty()) {
      throw core::Error(problem, core::ExitCode::refused);
    }
  }
}

int run_run_command(RunCommandOptions& opts) {
  prepare_options(opts);
  auto& r = opts.run;
  if (r.emails_path.empty() && r.input_path.empty()) {
    throw core::Error("run: give the inputs with --emails FILE or --input FILE ('-' for stdin)");
  }
  if ((!r.map_specs.empty() || !r.where_status.empty() || r.carry) && r.input_path.empty()) {
    throw core::Error("--map, --where-status and --carry read records: use them with --input");
  }
  if (r.request.unique.empty() && !r.emails_path.empty()) {
    r.request.unique = {"email"}; // --emails: one task per email at a time, as the service intends
  }
  for (const std::string& item : opts.set) {
    auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw core::Error(fmt::format("--set: expected NAME=VALUE, got \"{}\"", item));
    }
    r.set_params[item.substr(0, eq)] = core::Json::array({item.substr(eq + 1)});
  }
  require_api_key(opts); // after the usage errors: those say more
  return runner::run(r);
}

} // namespace cli

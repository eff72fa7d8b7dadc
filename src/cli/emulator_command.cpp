#include "cli/emulator_command.h"

#include "cli/number_option.h"
#include "core/exit_code.h"
#include "core/url.h"
#include "runner/signals.h"

#include <fmt/format.h>

#include <condition_variable>
#include <cstdio>
#include <limits>
#include <mutex>
#include <string>

namespace cli {

namespace {

// The receiver port of the Optexity docs' local callback example.
constexpr const char* k_default_callback_url = "http://127.0.0.1:4000/receive_callback";

// Far above a real full-page screenshot (a few MB), well below what base64 in an int allows.
constexpr long long k_max_screenshot_bytes = 256LL << 20;
// Each download is a line in every payload: a cap keeps a typo from making megabyte payloads.
constexpr int k_max_downloads = 1000;
// Any count a test could want; the cap only keeps a typo from reading as "for ever".
constexpr int k_max_repeat_task_id = 1000000;
// The bound of an int option that has no range of its own: a number past it is refused in
// words, not by CLI11's conversion error.
constexpr long long k_max_int = std::numeric_limits<int>::max();
// Seeds a user types (and the emulator logs) are far below 2^63.
constexpr long long k_max_seed = std::numeric_limits<long long>::max();
// (0..1]: the floor keeps a scaled pause from rounding every duration to nothing.
const core::NumberRange k_time_scale{.min = 1e-6, .max = 1.0, .between = true};

// A usage error at parse time beats a bind-time error: CLI11 names the flag for us.
const CLI::Validator k_http_url(
    [](std::string& text) {
      return core::parse_url(text) ? std::string() : "not an http(s) URL: " + text;
    },
    "URL");

std::string base_url(const std::string& host, int port) {
  return host.find(':') != std::string::npos ? fmt::format("http://[{}]:{}", host, port)
                                             : fmt::format("http://{}:{}", host, port);
}

} // namespace

std::vector<CLI::Option*> add_emulator_service_options(CLI::App* cmd,
                                                       emulator::EmulatorOptions& e,
                                                       const std::string& group) {
  std::vector<CLI::Option*> o;
  o.push_back(cmd->add_option("--delay-ms",
                              e.delay_ms,
                              "Milliseconds each attempt runs, from its start to its callback")
                  ->check(number_check(core::NumberRange::whole(0, k_max_int)))
                  ->capture_default_str());
  o.push_back(cmd->add_option("--jitter-ms", e.jitter_ms, "Uniform +- jitter added to --delay-ms")
                  ->check(number_check(core::NumberRange::whole(0, k_max_int)))
                  ->capture_default_str());
  o.push_back(
      cmd->add_option("--fail-rate", e.fail_rate, "Share of tasks (0..1) whose callback is failed")
          ->check(number_check(core::NumberRange::share()))
          ->capture_default_str());
  o.push_back(
      cmd->add_option("--kill-rate",
                      e.kill_rate,
                      "Share of tasks (0..1) whose callback is killed; decided before --fail-rate")
          ->check(number_check(core::NumberRange::share()))
          ->capture_default_str());
  o.push_back(cmd->add_option("--drop-callback-rate",
                              e.drop_callback_rate,
                              "Share of tasks (0..1) that never call back")
                  ->check(number_check(core::NumberRange::share()))
                  ->capture_default_str());
  o.push_back(cmd->add_option("--capacity",
                              e.capacity,
                              "Tasks allocated or running at once (the workspace's capacity); 0: "
                              "unlimited. Tasks with equal unique parameters run one after another")
                  ->check(number_check(core::NumberRange::whole(0, 100000)))
                  ->capture_default_str());
  o.push_back(cmd->add_option("--max-retries",
                              e.max_retries,
                              "The recording's max_retries: a failed or killed attempt is retried "
                              "this many times, 10 s * 2^n apart (times --time-scale)")
                  ->check(number_check(core::NumberRange::whole(0, 20)))
                  ->capture_default_str());
  o.push_back(cmd->add_option("--attempt-fail-rate",
                              e.attempt_fail_rate,
                              "Share of attempts (0..1) that fail; the task fails when its last "
                              "attempt does")
                  ->check(number_check(core::NumberRange::share()))
                  ->capture_default_str());
  o.push_back(cmd->add_option("--stuck-rate",
                              e.stuck_rate,
                              "Share of tasks (0..1) left allocated for ever with no callback")
                  ->check(number_check(core::NumberRange::share()))
                  ->capture_default_str());
  o.push_back(cmd->add_option("--stuck-at",
                              e.stuck_at,
                              "The K-th accepted submits (1-based, comma-separated) are left "
                              "allocated for ever with no callback")
                  ->delimiter(',')
                  ->check(number_check(core::NumberRange::whole(1, k_max_int)))
                  ->type_name("K[,K...]"));
  o.push_back(
      cmd->add_option("--drop-callback-at",
                      e.drop_callback_at,
                      "The K-th accepted submits (1-based, comma-separated) never call back")
          ->delimiter(',')
          ->check(number_check(core::NumberRange::whole(1, k_max_int)))
          ->type_name("K[,K...]"));
  o.push_back(cmd->add_option("--screenshot",
                              e.screenshot,
                              "Where the final screenshot goes: a final_screenshot.png download "
                              "(as the cloud sends it), the inline final_screenshot field, or both")
                  ->check(CLI::IsMember({"download", "inline", "both"}))
                  ->capture_default_str());
  o.push_back(cmd->add_option("--time-scale",
                              e.time_scale,
                              "Shrink every service duration by this factor (0..1]: pauses between "
                              "attempts, a killed attempt's limit, the 5 minutes of callback "
                              "retries; not --delay-ms")
                  ->check(number_check(k_time_scale))
                  ->capture_default_str());
  o.push_back(cmd->add_option("--seed", e.seed, "Random seed for reproducible runs; 0 picks one")
                  ->check(number_check(core::NumberRange::whole(0, k_max_seed)))
                  ->capture_default_str());
  if (!group.empty()) { // CLI11 hides options of the group ""
    for (CLI::Option* option : o) {
      option->group(group);
    }
  }
  return o;
}

CLI::App* register_emulator_command(CLI::App& app, emulator::EmulatorOptions& opts) {
  auto* cmd = app.add_subcommand(
      "emulator",
      "Run a fake Optexity service that accepts inference requests and POSTs callbacks");
  // Set here rather than in EmulatorOptions: an embedded emulator (tests) has no default target.
  if (opts.callback_url.empty()) {
    opts.callback_url = k_default_callback_url;
  }

  cmd->add_option("--host", opts.host, "Address to listen on")->capture_default_str();
  cmd->add_option("--port", opts.port, "Port to listen on; 0 picks a free one (printed on stdout)")
      ->check(number_check(core::NumberRange::whole(0, 65535)))
      ->capture_default_str();
  cmd->add_option("--callback-url",
                  opts.callback_url,
                  "Where callbacks are POSTed unless a request names its own task_callback_url")
      ->check(k_http_url)
      ->capture_default_str();
  cmd->add_option("--api-key", opts.api_key, "Require this x-api-key on submits (else 401)");
  cmd->add_option("--endpoints",
                  opts.endpoints,
                  "Known endpoint names (repeatable or comma-separated); others get 404")
      ->delimiter(',');
  add_emulator_service_options(cmd, opts, "");
  cmd->add_option(
         "--duplicate-callbacks", opts.duplicate_callbacks, "Send each callback K extra times")
      ->check(number_check(core::NumberRange::whole(0, k_max_int)))
      ->capture_default_str();
  cmd->add_option("--duplicate-rate",
                  opts.duplicate_rate,
                  "Share of tasks (0..1) whose callback is sent one more time")
      ->check(number_check(core::NumberRange::share()))
      ->capture_default_str();
  cmd->add_flag("--early-callback",
                opts.early_callback,
                "Deliver each callback before answering its submit with 202");
  cmd->add_option("--lost-answer-rate",
                  opts.lost_answer_rate,
                  "Share of accepted submits (0..1) never answered: the task runs, and once its "
                  "callback is delivered the connection is closed with no response")
      ->check(number_check(core::NumberRange::share()))
      ->capture_default_str();
  cmd->add_option("--bad-answer-rate",
                  opts.bad_answer_rate,
                  "Share of accepted submits (0..1) answered without a usable task_id (the task "
                  "runs): alternately 200 text/html and 202 {\"ok\":true}")
      ->check(number_check(core::NumberRange::share()))
      ->capture_default_str();
  cmd->add_option("--repeat-task-id",
                  opts.repeat_task_id,
                  "Answer the next N submits after the first with the first submit's task_id "
                  "(each task still runs and calls back under its own)")
      ->check(number_check(core::NumberRange::whole(0, k_max_repeat_task_id)))
      ->capture_default_str();
  cmd->add_option("--answer-422-echo",
                  opts.echo_422_rate,
                  "Share of valid submits (0..1) refused with 422, the FastAPI detail echoing "
                  "the whole request (keys and secure parameters included)")
      ->check(number_check(core::NumberRange::share()))
      ->capture_default_str();
  cmd->add_option("--transient-503",
                  opts.transient_503,
                  "Answer the first K submits of each distinct input with 503")
      ->check(number_check(core::NumberRange::whole(0, k_max_int)))
      ->capture_default_str();
  cmd->add_option("--screenshot-bytes",
                  opts.screenshot_bytes,
                  "Size in bytes of each callback's final_screenshot PNG (0: a tiny 1x1 PNG)")
      ->check(number_check(core::NumberRange::whole(0, k_max_screenshot_bytes)))
      ->capture_default_str();
  cmd->add_option("--downloads",
                  opts.downloads,
                  "Files listed in each success callback and served at /files/<task_id>/...")
      ->check(number_check(core::NumberRange::whole(0, k_max_downloads)))
      ->capture_default_str();
  // Not CLI::ExistingFile: the script's own loader names the file in every message (exit 2).
  cmd->add_option("--script",
                  opts.script_path,
                  "JSON script: per endpoint, the output_data (templated from the inputs), "
                  "delay and rates; endpoints it does not answer get 404")
      ->type_name("FILE");
  cmd->add_flag("-q,--quiet", opts.quiet, "No per-submit and per-callback lines on stderr");
  return cmd;
}

int run_emulator_command(const emulator::EmulatorOptions& opts) {
  // Declared before the watcher, so they outlive its thread.
  std::mutex mutex;
  std::condition_variable cv;
  int signal_number = 0;
  // main() blocked SIGINT/SIGTERM in every thread; the watcher is the one place they arrive.
  runner::SignalWatcher watcher([&](int signo) {
    {
      std::lock_guard lock(mutex);
      signal_number = signo;
    }
    cv.notify_all();
  });

  emulator::Emulator emulator(opts);
  emulator.start(); // a bind failure throws core::Error, which main() reports

  // stdout carries only the URL, so a script can read it even when --port 0 chose the port.
  std::string url = base_url(opts.host, emulator.port());
  if (std::fprintf(stdout, "%s\n", url.c_str()) < 0 || std::fflush(stdout) != 0) {
    return core::to_int(core::ExitCode::stdout_closed);
  }
  fmt::print(stderr,
             "optexity-chain emulator: listening on {}, callbacks to {}\n",
             url,
             opts.callback_url.empty() ? "(none)" : opts.callback_url);

  {
    std::unique_lock lock(mutex);
    cv.wait(lock, [&] { return signal_number != 0; });
  }
  emulator.stop();
  // As `run` does: the shell and a supervisor see that a signal ended it (130 for Ctrl-C).
  return core::to_int(core::signal_exit_code(signal_number));
}

} // namespace cli

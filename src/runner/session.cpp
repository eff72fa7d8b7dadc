#include "runner/session.h"

#include "core/callback_route.h"
#include "core/error.h"
#include "core/formats.h"
#include "core/keys.h"
#include "core/log.h"
#include "core/mapping.h"
#include "core/redact.h"
#include "core/status.h"
#include "core/url.h"
#include "core/wait_policy.h"
#include "net/probe.h"

#include <fmt/format.h>

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace runner {

using core::Json;

namespace {

std::chrono::milliseconds seconds_to_ms(double s) {
  return std::chrono::milliseconds(static_cast<long long>(s * 1000));
}

// A file with no input is said (a wrong file, an export that failed), not run silently.
std::unique_ptr<core::InputSource> said_if_empty(std::unique_ptr<core::VectorSource> source,
                                                 const std::string& path) {
  if (source->inputs().empty()) {
    std::error_code ec;
    const bool empty = std::filesystem::file_size(path, ec) == 0 && !ec;
    core::log_warning(
        fmt::format("{}: no inputs ({}): nothing to run",
                    path,
                    empty ? "the file is empty" : "only blank lines, comments or a header"));
  }
  return source;
}

// Reads every input up front for a file (all problems reported before anything is submitted),
// or streams stdin.
std::unique_ptr<core::InputSource> load_records(const RunOptions& opts) {
  core::RecordOptions ro;
  ro.rules = core::parse_map_rules(opts.map_specs);
  ro.where_status =
      opts.where_status.empty() && !ro.rules.empty() ? core::status::success : opts.where_status;
  ro.carry = opts.carry;
  ro.name = opts.input_path == "-" ? "<stdin>" : opts.input_path;
  if (opts.input_path == "-") {
    return std::make_unique<core::RecordStreamSource>(std::make_unique<core::FdLineReader>(0),
                                                      std::move(ro));
  }
  std::ifstream in(opts.input_path, std::ios::binary);
  if (!in) {
    throw core::Error(fmt::format("cannot open {}: {}", opts.input_path, std::strerror(errno)));
  }
  std::vector<core::Input> inputs;
  size_t line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") != std::string::npos) {
      inputs.push_back(core::record_to_input(line, line_no, ro));
    }
  }
  return said_if_empty(std::make_unique<core::VectorSource>(std::move(inputs)), opts.input_path);
}

} // namespace

std::unique_ptr<core::InputSource> load_inputs(const RunOptions& opts) {
  if (!opts.map_specs.empty() || !opts.where_status.empty() || opts.carry) {
    return load_records(opts);
  }
  if (!opts.emails_path.empty()) {
    if (opts.emails_path == "-") {
      return std::make_unique<core::EmailStreamSource>(std::make_unique<core::FdLineReader>(0),
                                                       "<stdin>");
    }
    return said_if_empty(
        std::make_unique<core::VectorSource>(core::load_email_file(opts.emails_path)),
        opts.emails_path);
  }
  core::FormatOptions fo;
  fo.format = core::choose_format(opts.input_path, core::parse_format_name(opts.format));
  fo.param_name = opts.param_name;
  if (opts.input_path == "-") {
    fo.name = "<stdin>";
    return core::make_stream_source(std::make_unique<core::FdLineReader>(0), fo);
  }
  return said_if_empty(
      std::make_unique<core::VectorSource>(core::load_inputs_file(opts.input_path, fo)),
      opts.input_path);
}

namespace {

bool is_loopback_host(const std::string& host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

// Optexity's cloud refuses callback URLs on loopback or private addresses; tests use them.
void warn_if_private(const core::Url& url) {
  const std::string& h = url.host;
  bool is_private = h == "localhost" || h == "::1";
  in_addr v4{};
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1) {
    uint32_t a = ntohl(v4.s_addr);
    is_private = (a >> 24) == 127 || (a >> 24) == 10 || (a >> 20) == (172 << 4 | 1) ||
                 (a >> 16) == (192 << 8 | 168) || (a >> 16) == (169 << 8 | 254) || a == 0;
  }
  if (is_private) {
    core::log_warning(fmt::format("--public-url {} is a loopback or private address: Optexity's "
                                  "cloud refuses such callback URLs (fine for local workers and "
                                  "the emulator)",
                                  url.origin()));
  }
}

// --public-url preflight: a probe posted to the public URL must reach our own listener before
// any money is spent on tasks whose callbacks could not arrive.
void preflight(const EngineConfig& config, core::Tracker& tracker, const std::string& public_url) {
  const std::string key = core::random_token() + "-0"; // occurrence 0: never an input's key
  const std::string task_id = "preflight-" + core::random_token();
  auto waiter = std::make_shared<core::Waiter>();
  tracker.bind(key, waiter, task_id);
  std::vector<std::pair<std::string, std::string>> headers;
  if (!config.callback_key.empty()) {
    headers.emplace_back("x-api-key", config.callback_key);
  }
  std::string url =
      config.callback_base + core::callback_suffix(config.callback_path, config.token, key);
  Json probe = {{"task_id", task_id}, {"status", core::status::success}, {"preflight", true}};
  std::string error =
      net::post_json(url, core::dump_line(probe), headers, std::chrono::seconds(10));
  bool arrived =
      waiter->wait_until(core::Clock::now() + std::chrono::seconds(error.empty() ? 10 : 0));
  tracker.retire(key);
  if (!arrived) {
    throw core::Error(fmt::format("--public-url {} does not reach this machine: a probe posted to "
                                  "it never arrived at the listener{}. Check the tunnel or proxy "
                                  "(or skip this check with --no-preflight)",
                                  public_url,
                                  error.empty() ? "" : " (" + error + ")"));
  }
  core::log_debug("preflight: the public URL reaches the listener");
}

} // namespace

// --public-url without trailing slashes: the callback path follows it.
std::string callback_base(std::string url) {
  while (!url.empty() && url.back() == '/') {
    url.pop_back();
  }
  return url;
}

EngineConfig engine_config(const RunOptions& opts, const Json& secure) {
  EngineConfig c;
  c.request = opts.request;
  c.set_params = opts.set_params;
  c.secure_params = secure;
  c.parallel = opts.parallel;
  c.unordered = opts.unordered;
  c.terminal_output = ::isatty(c.output_fd) == 1;
  c.stats = opts.stats;
  c.progress = opts.progress == "json"   ? EngineConfig::ProgressMode::json
               : opts.progress == "none" ? EngineConfig::ProgressMode::none
                                         : EngineConfig::ProgressMode::live;
  c.halt = opts.halt;
  c.shard = opts.shard;
  c.limit = opts.limit;
  c.rate = opts.rate.per_second;
  c.tag = opts.tag;
  if (!opts.joblog_path.empty() && !opts.dry_run) {
    c.joblog = std::make_shared<core::JobLog>(opts.joblog_path);
  }
  c.retry_failed = opts.retry_failed;
  // The embedded emulator of an earlier run died with it, and its tasks with it: tasks a
  // journal shows in flight can only be submitted again.
  c.resubmit_unfinished = opts.resubmit_unfinished || opts.emulate;
  c.grace = seconds_to_ms(opts.grace_seconds);
  c.watchdog = seconds_to_ms(opts.watchdog_seconds);
  // Default: the service's attempts (their limit and the pauses between them) plus its 5
  // minutes of delivery retries, counted from the task's start.
  c.timeout =
      opts.timeout_seconds
          ? seconds_to_ms(*opts.timeout_seconds)
          : core::default_timeout(
                std::chrono::minutes(opts.request.max_timeout_minutes.value_or(10)), opts.attempts);
  c.max_wait = seconds_to_ms(opts.max_wait_seconds);
  c.straggler_floor = seconds_to_ms(opts.straggler_seconds);
  c.poll = seconds_to_ms(opts.poll_seconds);
  c.callback_path = opts.callback_path;
  c.callback_key = opts.callback_key;
  if (changes_results(opts.results)) {
    ResultOptions results = opts.results;
    results.download_timeout = seconds_to_ms(opts.download_timeout_seconds);
    results.authenticated_callbacks = !opts.public_url.empty() || !opts.callback_key.empty() ||
                                      !opts.basic_credentials.empty() || opts.emulate;
    c.finish_line = [results](Json& line, std::stop_token stop) {
      finish_result_line(line, results, std::move(stop));
    };
  }
  return c;
}

net::ClientOptions client_options(const RunOptions& opts, const std::string& api_url) {
  net::ClientOptions c;
  c.api = core::resolve_api_url(api_url);
  if (!opts.status_url.empty()) {
    auto base = core::parse_url(opts.status_url);
    if (!base) {
      throw core::Error(fmt::format("--status-url: not an http(s) URL: \"{}\"", opts.status_url));
    }
    c.api.status_base = *base;
  }
  c.api_key = opts.api_key;
  c.connect_timeout = seconds_to_ms(opts.connect_timeout_seconds);
  c.read_timeout = seconds_to_ms(opts.read_timeout_seconds);
  c.retry = opts.retry;
  c.reuse_connections = opts.parallel <= 16; // measured: see bench/RESULTS.md
  c.log = [](const std::string& line) { core::log_debug(line); };
  return c;
}

Json describe_request(const RunOptions& opts, const core::ApiEndpoints& api, Json body) {
  Json headers = {{"content-type", "application/json"}};
  if (!opts.api_key.empty()) {
    headers["x-api-key"] = std::string(core::k_redacted);
  }
  // The one redaction: keys, secure_parameters and registered secrets read `***`.
  return core::redact(Json{{"method", "POST"},
                           {"url",
                            opts.emulate ? std::string("(the embedded emulator)/api/v1/inference")
                                         : api.inference.origin() + api.inference.path},
                           {"headers", std::move(headers)},
                           {"body", std::move(body)}});
}

std::unique_ptr<core::Journal> open_journal(const std::string& path,
                                            core::JournalState& journaled) {
  journaled = core::load_journal(path);
  if (journaled.cut_short) {
    core::log_warning(fmt::format("{}: the last record was cut short (a crash while writing): "
                                  "read up to the one before",
                                  path));
  }
  return std::make_unique<core::Journal>(path);
}

void set_callback_urls(const RunOptions& opts,
                       const core::JournalState& journaled,
                       EngineConfig& config) {
  if (opts.public_url.empty()) {
    return;
  }
  config.token = journaled.token.empty() ? core::random_token() : journaled.token;
  core::add_secret(config.token);
  config.callback_base = callback_base(opts.public_url);
}

Session::Session(const RunOptions& opts,
                 const EngineConfig& config,
                 core::Tracker& tracker,
                 const core::JournalState& journaled,
                 core::Journal* journal,
                 core::Recorder* recorder,
                 const std::string& label) {
  core::resolve_api_url(opts.api_url); // a URL that is not http(s) is a usage error (exit 2)
  std::optional<core::Url> public_url;
  if (!opts.public_url.empty()) {
    public_url = core::parse_url(opts.public_url);
  }
  net::ListenerOptions lo;
  lo.host = opts.listen_host;
  lo.port = opts.emulate && !opts.listen_given ? 0 : opts.listen_port;
  if (!journaled.listen.empty() && !opts.listen_given) {
    auto colon = journaled.listen.rfind(':');
    if (colon != std::string::npos) {
      lo.host = journaled.listen.substr(0, colon);
      lo.port = std::atoi(journaled.listen.c_str() + colon + 1);
    }
  }
  lo.callback_path = opts.callback_path;
  lo.callback_key = opts.callback_key;
  lo.basic_credentials = opts.basic_credentials;
  lo.tls_cert = opts.tls_cert;
  lo.tls_key = opts.tls_key;
  lo.log = [](const std::string& line) { core::log_debug(line); };
  if (public_url) {
    warn_if_private(*public_url);
    lo.token = config.token;
  }
  if (!is_loopback_host(lo.host) && !public_url && opts.callback_key.empty() &&
      opts.basic_credentials.empty()) {
    core::log_warning(fmt::format("listening on {} without --public-url (a secret per-run URL) or "
                                  "--callback-key: anyone who can reach this port can post results",
                                  lo.host));
  }
  if (recorder) {
    // Accepted callbacks are kept whole; of a refused request only its head and size (a
    // stranger's junk must not fill the disk).
    lo.on_request = [recorder](const std::string& path,
                               const Json& headers,
                               const std::string* body,
                               size_t bytes,
                               int status) {
      if (!body) {
        recorder->record_refused(path, headers, status, bytes);
        return;
      }
      Json e = core::Recorder::body_fields(*body);
      e["path"] = path;
      e["headers"] = headers;
      e["bytes"] = bytes;
      e["status"] = status;
      recorder->record("callback", std::move(e));
    };
  }
  m_listener = std::make_unique<net::Listener>(lo, tracker);
  m_listener->start();
  if (journal) {
    journal->run_started(config.token, fmt::format("{}:{}", lo.host, m_listener->port()), label);
  }

  std::string api_url = opts.api_url;
  if (opts.emulate) {
    emulator::EmulatorOptions eo = opts.emulator;
    eo.port = 0;
    eo.callback_url = m_listener->callback_url();
    eo.quiet = core::verbosity() != core::Verbosity::verbose;
    m_emulator = std::make_unique<emulator::Emulator>(eo);
    m_emulator->start();
    api_url = fmt::format("http://127.0.0.1:{}", m_emulator->port());
  }
  // (A run without a key for a service that needs one was refused before: cli::prepare_options.)
  if (public_url && opts.preflight) {
    preflight(config, tracker, opts.public_url);
  }
  net::ClientOptions co = client_options(opts, api_url);
  core::log_info(fmt::format("listening on {}:{} (callbacks to {}); submitting to {}{}",
                             lo.host,
                             m_listener->port(),
                             public_url
                                 ? config.callback_base + opts.callback_path + "/<token>/<input>"
                                 : m_listener->callback_url(),
                             co.api.inference.origin(),
                             co.api.inference.path));
  m_client = std::make_unique<net::Client>(co);
  if (recorder) {
    m_recording = std::make_unique<RecordingService>(*m_client, *recorder);
  }
}

Session::~Session() {
  stop();
}

void Session::stop() {
  // The emulator first: closing its keep-alive connections lets the listener stop at once.
  m_emulator.reset();
  if (m_listener) {
    m_listener->stop();
  }
}

} // namespace runner

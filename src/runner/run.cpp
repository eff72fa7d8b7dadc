#include "runner/run.h"

#include "core/callback_route.h"
#include "core/error.h"
#include "core/files.h"
#include "core/formats.h"
#include "core/inputs.h"
#include "core/keys.h"
#include "core/log.h"
#include "core/mapping.h"
#include "core/output.h"
#include "core/recorder.h"
#include "core/tracker.h"
#include "core/url.h"
#include "net/client.h"
#include "net/listener.h"
#include "net/probe.h"
#include "runner/engine.h"
#include "runner/recording.h"
#include "runner/signals.h"

#include <fmt/format.h>

#include <arpa/inet.h>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

namespace runner {

using core::Json;

namespace {

std::chrono::milliseconds seconds_to_ms(double s) {
  return std::chrono::milliseconds(static_cast<long long>(s * 1000));
}

// Reads every input up front for a file (all problems reported before anything is submitted),
// or streams stdin.
std::unique_ptr<core::InputSource> load_records(const RunOptions& opts) {
  core::RecordOptions ro;
  ro.rules = core::parse_map_rules(opts.map_specs);
  ro.where_status = opts.where_status.empty() && !ro.rules.empty() ? "success" : opts.where_status;
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
  return std::make_unique<core::VectorSource>(std::move(inputs));
}

std::unique_ptr<core::InputSource> load_inputs(const RunOptions& opts) {
  if (!opts.map_specs.empty() || !opts.where_status.empty() || opts.carry) {
    return load_records(opts);
  }
  if (!opts.emails_path.empty()) {
    if (opts.emails_path == "-") {
      return std::make_unique<core::EmailStreamSource>(std::make_unique<core::FdLineReader>(0),
                                                       "<stdin>");
    }
    return std::make_unique<core::VectorSource>(core::load_email_file(opts.emails_path));
  }
  core::FormatOptions fo;
  fo.format = core::choose_format(opts.input_path, core::parse_format_name(opts.format));
  fo.param_name = opts.param_name;
  if (opts.input_path == "-") {
    fo.name = "<stdin>";
    return core::make_stream_source(std::make_unique<core::FdLineReader>(0), fo);
  }
  return std::make_unique<core::VectorSource>(core::load_inputs_file(opts.input_path, fo));
}

// --secure-parameters FILE: one JSON object, name -> list of secret references.
Json load_secure_parameters(const std::string& path) {
  if (path.empty()) {
    return nullptr;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw core::Error(
        fmt::format("--secure-parameters: cannot open {}: {}", path, std::strerror(errno)));
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Json doc = core::parse_json(text);
  if (doc.is_discarded() || !doc.is_object()) {
    throw core::Error(fmt::format("--secure-parameters: {} is not a JSON object", path));
  }
  for (const auto& [name, refs] : doc.items()) {
    if (!refs.is_array()) {
      throw core::Error(fmt::format("--secure-parameters: {}: \"{}\" must be a list", path, name));
    }
  }
  return doc;
}

// --public-url without trailing slashes: the callback path follows it.
std::string callback_base(std::string url) {
  while (!url.empty() && url.back() == '/') {
    url.pop_back();
  }
  return url;
}

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

EngineConfig engine_config(const RunOptions& opts, const Json& secure) {
  EngineConfig c;
  c.request = opts.request;
  c.set_params = opts.set_params;
  c.secure_params = secure;
  c.parallel = opts.parallel;
  c.unordered = opts.unordered;
  c.stats = opts.stats;
  c.progress = opts.progress == "json"   ? EngineConfig::ProgressMode::json
               : opts.progress == "none" ? EngineConfig::ProgressMode::none
                                         : EngineConfig::ProgressMode::live;
  c.retry_failed = opts.retry_failed;
  c.resubmit_unfinished = opts.resubmit_unfinished;
  c.grace = seconds_to_ms(opts.grace_seconds);
  c.watchdog = seconds_to_ms(opts.watchdog_seconds);
  // Default: the service's attempt limit plus its 5 minutes of delivery retries.
  c.timeout = opts.timeout_seconds
                  ? seconds_to_ms(*opts.timeout_seconds)
                  : std::chrono::minutes(opts.request.max_timeout_minutes.value_or(10) + 5);
  c.callback_path = opts.callback_path;
  c.callback_key = opts.callback_key;
  if (changes_results(opts.results)) {
    ResultOptions results = opts.results;
    c.finish_line = [results](Json& line) { finish_result_line(line, results); };
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
  c.log = [](const std::string& line) { core::log_debug(line); };
  return c;
}

// --dry-run: the requests that would be sent, one JSON line each, the key redacted.
int print_requests(const RunOptions& opts,
                   core::InputSource& source,
                   const Json& secure,
                   const core::ApiEndpoints& api) {
  core::Tracker tracker;
  net::Client client(client_options(opts, opts.api_url));
  EngineConfig config = engine_config(opts, secure);
  if (!opts.public_url.empty()) {
    config.token = "<token>";
    config.callback_base = callback_base(opts.public_url);
  }
  Engine engine(config, source, tracker, client);
  core::LineWriter out;
  core::InputKeys keys;
  bool all_valid = true;
  try {
    while (auto input = source.next()) {
      if (!input->error.empty()) {
        all_valid = false;
        out.write_line(core::dump_line(
            core::failure_line(core::status::invalid_input, input->error, nullptr)));
        continue;
      }
      Json body = engine.build_request(*input, {});
      std::string key = keys.next(
          core::content_hash(opts.request.endpoint, body["input_parameters"], input->secure));
      Json headers = {{"content-type", "application/json"}};
      if (!opts.api_key.empty()) {
        headers["x-api-key"] = "<redacted>";
      }
      Json line = {{"method", "POST"},
                   {"url",
                    opts.emulate ? std::string("(the embedded emulator)/api/v1/inference")
                                 : api.inference.origin() + api.inference.path},
                   {"headers", headers},
                   {"body", engine.build_request(*input, key)}};
      if (line["body"].contains("task_callback_api_key")) {
        line["body"]["task_callback_api_key"] = "<redacted>";
      }
      out.write_line(core::dump_line(line));
    }
  } catch (const core::StdoutClosed&) {
    return core::to_int(core::ExitCode::stdout_closed);
  }
  return all_valid ? 0 : core::to_int(core::ExitCode::task_failed);
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
  Json probe = {{"task_id", task_id}, {"status", "success"}, {"preflight", true}};
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

int run(const RunOptions& opts) {
  // Everything the user gave is checked before anything listens or submits.
  core::ApiEndpoints api = core::resolve_api_url(opts.api_url);
  std::optional<core::Url> public_url;
  if (!opts.public_url.empty()) {
    public_url = core::parse_url(opts.public_url);
    if (!public_url) {
      throw core::Error(fmt::format("--public-url: not an http(s) URL: \"{}\"", opts.public_url));
    }
  }
  Json secure = load_secure_parameters(opts.secure_parameters_path);
  for (const std::string& dir : {opts.results.screenshots_dir, opts.results.downloads_dir}) {
    if (!dir.empty()) {
      core::make_directories(dir);
    }
  }
  std::unique_ptr<core::InputSource> source = load_inputs(opts);
  if (opts.dry_run) {
    return print_requests(opts, *source, secure, api);
  }

  EngineConfig config = engine_config(opts, secure);
  // --state: what an earlier run journaled decides what this one submits; its token and listen
  // address are reused so callbacks of tasks still running reach this process.
  core::JournalState journaled;
  std::unique_ptr<core::Journal> journal;
  if (!opts.state_path.empty()) {
    journaled = core::load_journal(opts.state_path);
    if (journaled.cut_short) {
      core::log_warning(fmt::format("{}: the last record was cut short (a crash while writing): "
                                    "read up to the one before",
                                    opts.state_path));
    }
    journal = std::make_unique<core::Journal>(opts.state_path);
    config.journal = journal.get();
    config.resume = &journaled;
  }
  std::unique_ptr<core::Recorder> recorder;
  if (!opts.record_dir.empty()) {
    recorder = std::make_unique<core::Recorder>(opts.record_dir);
    config.on_input = [rec = recorder.get()](const core::Input& in) {
      Json e = {{"params", in.params}, {"where", in.where}};
      if (!in.error.empty()) {
        e["error"] = in.error;
      }
      for (const auto& [name, value] : {std::pair{"secure", &in.secure},
                                        std::pair{"passthrough", &in.passthrough},
                                        std::pair{"from", &in.from}}) {
        if (!value->is_null()) {
          e[name] = *value;
        }
      }
      rec->record("input", std::move(e));
    };
  }
  core::Tracker tracker;
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
    config.token = journaled.token.empty() ? core::random_token() : journaled.token;
    config.callback_base = callback_base(opts.public_url);
    lo.token = config.token;
  }
  if (!is_loopback_host(lo.host) && !public_url && opts.callback_key.empty() &&
      opts.basic_credentials.empty()) {
    core::log_warning(fmt::format("listening on {} without --public-url (a secret per-run URL) or "
                                  "--callback-key: anyone who can reach this port can post results",
                                  lo.host));
  }
  if (recorder) {
    lo.on_request = [rec = recorder.get()](
                        const std::string& path, const Json& headers, const std::string& body) {
      Json e = core::Recorder::body_fields(body);
      e["path"] = path;
      e["headers"] = headers;
      rec->record("callback", std::move(e));
    };
  }
  net::Listener listener(lo, tracker);
  listener.start();
  if (journal) {
    journal->run_started(
        config.token, fmt::format("{}:{}", lo.host, listener.port()), opts.request.endpoint);
  }

  std::unique_ptr<net::Emulator> emulator;
  std::string api_url = opts.api_url;
  if (opts.emulate) {
    net::EmulatorOptions eo = opts.emulator;
    eo.port = 0;
    eo.callback_url = listener.callback_url();
    eo.quiet = core::verbosity() != core::Verbosity::verbose;
    emulator = std::make_unique<net::Emulator>(eo);
    emulator->start();
    api_url = fmt::format("http://127.0.0.1:{}", emulator->port());
  } else if (api.is_cloud && opts.api_key.empty()) {
    core::log_warning("no API key (--api-key, --api-key-file or OPTEXITY_API_KEY): the Optexity "
                      "cloud will refuse the run");
  }
  if (public_url && opts.preflight) {
    preflight(config, tracker, opts.public_url);
  }
  net::ClientOptions co = client_options(opts, api_url);
  core::log_info(fmt::format("listening on {}:{} (callbacks to {}); submitting to {}{}",
                             lo.host,
                             listener.port(),
                             public_url
                                 ? config.callback_base + opts.callback_path + "/<token>/<input>"
                                 : listener.callback_url(),
                             co.api.inference.origin(),
                             co.api.inference.path));

  net::Client client(co);
  std::unique_ptr<RecordingService> recording;
  net::Service* service = &client;
  if (recorder) {
    Json run_event = {{"endpoint", config.request.endpoint},
                      {"unique", config.request.unique},
                      {"secure_params", config.secure_params},
                      {"token", config.token},
                      {"callback_base", config.callback_base},
                      {"callback_path", config.callback_path},
                      {"callback_key", config.callback_key.empty() ? "" : "<redacted>"}};
    if (config.request.priority) {
      run_event["priority"] = *config.request.priority;
    }
    if (config.request.max_timeout_minutes) {
      run_event["max_timeout_minutes"] = *config.request.max_timeout_minutes;
    }
    recorder->record("run", std::move(run_event));
    recording = std::make_unique<RecordingService>(client, *recorder);
    service = recording.get();
  }
  Engine engine(config, *source, tracker, *service);
  SignalWatcher signals([&engine](int signo) { engine.interrupt(signo); });
  int code = engine.execute();
  // The emulator first: closing its keep-alive connections lets the listener stop at once.
  emulator.reset();
  listener.stop();
  return code;
}

} // namespace runner

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
#include "core/redact.h"
#include "core/tracker.h"
#include "core/url.h"
#include "net/listener.h"
#include "net/probe.h"
#include "runner/engine.h"
#include "runner/recording.h"
#include "runner/report_file.h"
#include "runner/run_plan.h"
#include "runner/session.h"
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

// --secure-parameters FILE: one JSON object, name -> list of secret references.
Json load_secure_parameters(const std::string& path) {
  if (path.empty()) {
    return nullptr;
  }
  std::string why;
  std::optional<std::string> text = core::try_read_file(path, &why);
  if (!text) {
    throw core::Error(fmt::format("--secure-parameters: cannot open {}: {}", path, why));
  }
  Json doc = core::parse_json(*text);
  if (doc.is_discarded() || !doc.is_object()) {
    throw core::Error(fmt::format("--secure-parameters: {} is not a JSON object", path));
  }
  for (const auto& [name, refs] : doc.items()) {
    if (!refs.is_array()) {
      throw core::Error(fmt::format("--secure-parameters: {}: \"{}\" must be a list", path, name));
    }
  }
  core::add_secure_secrets(doc);
  return doc;
}

// --dry-run: the requests that would be sent, one JSON line each, secrets as `***`.
int print_requests(const RunOptions& opts,
                   core::InputSource& source,
                   const Json& secure,
                   const core::ApiEndpoints& api) {
  EngineConfig config = engine_config(opts, secure);
  if (!opts.public_url.empty()) {
    config.token = "<token>";
    config.callback_base = callback_base(opts.public_url);
  }
  core::LineWriter out;
  core::InputKeys keys;
  bool all_valid = true;
  size_t shown = 0;
  try {
    while (auto input = source.next()) {
      if (opts.limit && shown >= *opts.limit) {
        break;
      }
      if (!input->error.empty()) {
        // As the run does: an input that could not be read goes to the shard its text names.
        if (opts.shard.active() &&
            !opts.shard.holds(input->raw.empty() ? input->where : input->raw)) {
          continue;
        }
        ++shown;
        all_valid = false;
        out.write_line(core::dump_line(
            core::failure_line(core::status::invalid_input, input->error, nullptr)));
        continue;
      }
      Json body = run_request(config, *input);
      std::string key = keys.next(
          core::content_hash(opts.request.endpoint, body["input_parameters"], input->secure));
      if (opts.shard.active() && !opts.shard.holds(key)) {
        continue; // --shard: another process's
      }
      ++shown;
      add_callback_fields(body, config, key);
      out.write_line(core::dump_line(describe_request(opts, api, std::move(body))));
    }
  } catch (const core::StdoutClosed&) {
    return core::to_int(core::ExitCode::stdout_closed);
  }
  return all_valid ? 0 : core::to_int(core::ExitCode::task_failed);
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
  check_unique_names(*source, config);
  // Before the journal: a refused --record directory leaves nothing behind.
  std::unique_ptr<core::Recorder> recorder;
  if (!opts.record_dir.empty()) {
    recorder = std::make_unique<core::Recorder>(opts.record_dir);
  }
  // --state: what an earlier run journaled decides what this one submits; its token and listen
  // address are reused so callbacks of tasks still running reach this process.
  core::JournalState journaled;
  std::unique_ptr<core::Journal> journal;
  if (!opts.state_path.empty()) {
    journal = open_journal(opts.state_path, journaled);
    config.journal = journal.get();
    config.resume = &journaled;
  }
  set_callback_urls(opts, journaled, config);
  if (recorder) {
    config.on_input = [rec = recorder.get()](const core::Input& in) {
      Json e = {{"params", in.params}, {"where", in.where}};
      if (!in.error.empty()) {
        e["error"] = in.error;
      }
      for (const auto& [name, value] : {std::pair{"secure", &in.secure},
                                        std::pair{"passthrough", &in.passthrough},
                                        std::pair{"from", &in.from}}) {
        if (!value->is_null()) {
          e[name] = value == &in.secure ? core::masked(*value) : *value;
        }
      }
      rec->record("input", std::move(e));
    };
    Json run_event = {
        {"endpoint", config.request.endpoint},
        {"unique", config.request.unique},
        {"secure_params", core::masked(config.secure_params)},
        {"token", config.token},
        {"callback_base", config.callback_base},
        {"callback_path", config.callback_path},
        {"callback_key", config.callback_key.empty() ? "" : std::string(core::k_redacted)}};
    if (config.request.priority) {
      run_event["priority"] = *config.request.priority;
    }
    if (config.request.max_timeout_minutes) {
      run_event["max_timeout_minutes"] = *config.request.max_timeout_minutes;
    }
    recorder->record("run", std::move(run_event));
  }
  core::Tracker tracker;
  Session session(
      opts, config, tracker, journaled, journal.get(), recorder.get(), opts.request.endpoint);
  std::unique_ptr<core::Report> report =
      report_for_run(opts, fmt::format("optexity-chain run --endpoint {}", opts.request.endpoint));
  config.report = report.get();
  RunPlanner planner(config);
  Engine engine(planner, config, *source, tracker, session.service());
  SignalWatcher signals([&engine](int signo) { engine.interrupt(signo); });
  int code = engine.execute();
  session.stop();
  return finish_report(opts, report.get(), code);
}

} // namespace runner

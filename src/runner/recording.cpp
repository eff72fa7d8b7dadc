#include "runner/recording.h"

#include "core/error.h"
#include "core/inputs.h"
#include "core/log.h"
#include "core/redact.h"
#include "core/token.h"
#include "runner/engine.h"
#include "runner/run_plan.h"

#include <fmt/format.h>

namespace runner {

using core::Json;

namespace {

Json result_json(const net::SubmitResult& r) {
  const char* kind = r.kind == net::SubmitResult::Kind::accepted  ? "accepted"
                     : r.kind == net::SubmitResult::Kind::refused ? "refused"
                                                                  : "failed";
  return Json{{"kind", kind},
              {"task_id", r.task_id},
              {"error", r.error},
              {"http_status", r.http_status},
              {"unknown_outcome", r.unknown_outcome},
              {"unreachable", r.unreachable}};
}

net::SubmitResult result_from(const Json& j) {
  net::SubmitResult r;
  std::string kind = j.value("kind", "failed");
  r.kind = kind == "accepted"  ? net::SubmitResult::Kind::accepted
           : kind == "refused" ? net::SubmitResult::Kind::refused
                               : net::SubmitResult::Kind::failed;
  r.task_id = j.value("task_id", "");
  r.error = j.value("error", "");
  r.http_status = j.value("http_status", 0);
  r.unknown_outcome = j.value("unknown_outcome", false);
  r.unreachable = j.value("unreachable", false);
  return r;
}

Json reply_json(const net::StatusReply& r) {
  return Json{{"available", r.available},
              {"http_status", r.http_status},
              {"body", r.body},
              {"error", r.error}};
}

net::StatusReply reply_from(const Json& j) {
  net::StatusReply r;
  r.available = j.value("available", false);
  r.http_status = j.value("http_status", 0);
  r.body = j.contains("body") ? j["body"] : Json();
  r.error = j.value("error", "");
  return r;
}

} // namespace

Json redact_request(Json request) {
  return core::redact(request);
}

net::SubmitResult RecordingService::submit(const Json& request, std::stop_token stop) {
  net::SubmitResult result = m_inner.submit(request, stop);
  m_recorder.record("submit",
                    Json{{"request", redact_request(request)}, {"result", result_json(result)}});
  return result;
}

net::StatusReply RecordingService::task_status(const std::string& task_id) {
  net::StatusReply reply = m_inner.task_status(task_id);
  m_recorder.record(
      "status", Json{{"api", "task_status"}, {"task_id", task_id}, {"reply", reply_json(reply)}});
  return reply;
}

net::StatusReply RecordingService::callback_data(const std::string& task_id,
                                                 const std::string& endpoint) {
  net::StatusReply reply = m_inner.callback_data(task_id, endpoint);
  m_recorder.record(
      "status", Json{{"api", "callback_data"}, {"task_id", task_id}, {"reply", reply_json(reply)}});
  return reply;
}

ReplayService::ReplayService(const std::vector<Json>& events) {
  for (const Json& e : events) {
    std::string kind = e.value("kind", "");
    if (kind == "submit" && e.contains("request") && e.contains("result")) {
      // Redacted again: a recording made before `***` said "<redacted>".
      m_submits[core::dump_line(redact_request(e["request"]))].push_back(result_from(e["result"]));
    } else if (kind == "status" && e.contains("reply")) {
      m_status[e.value("api", "") + " " + e.value("task_id", "")].push_back(reply_from(e["reply"]));
    }
  }
}

net::SubmitResult ReplayService::submit(const Json& request, std::stop_token) {
  std::lock_guard lock(m_mutex);
  auto it = m_submits.find(core::dump_line(redact_request(request)));
  if (it == m_submits.end() || it->second.empty()) {
    return {net::SubmitResult::Kind::failed, {}, "replay: this request was not recorded", 0};
  }
  net::SubmitResult r = it->second.front();
  it->second.pop_front();
  return r;
}

net::StatusReply ReplayService::task_status(const std::string& task_id) {
  std::lock_guard lock(m_mutex);
  auto& q = m_status["task_status " + task_id];
  if (q.empty()) {
    return {false, 0, nullptr, "replay: no status check recorded"};
  }
  net::StatusReply r = q.front();
  q.pop_front();
  return r;
}

net::StatusReply ReplayService::callback_data(const std::string& task_id, const std::string&) {
  std::lock_guard lock(m_mutex);
  auto& q = m_status["callback_data " + task_id];
  if (q.empty()) {
    return {false, 0, nullptr, "replay: no result fetch recorded"};
  }
  net::StatusReply r = q.front();
  q.pop_front();
  return r;
}

int replay(const std::string& dir) {
  std::vector<Json> events = core::read_recording(dir);
  const Json* run = nullptr;
  std::vector<core::Input> inputs;
  for (const Json& e : events) {
    if (e["kind"] == "run" && !run) {
      run = &e;
    } else if (e["kind"] == "input") {
      core::Input in;
      in.params = e.value("params", Json::object());
      in.where = e.value("where", "");
      in.error = e.value("error", "");
      in.secure = e.contains("secure") ? e["secure"] : Json();
      in.passthrough = e.contains("passthrough") ? e["passthrough"] : Json();
      in.from = e.contains("from") ? e["from"] : Json();
      inputs.push_back(std::move(in));
    }
  }
  if (!run) {
    throw core::Error(fmt::format("replay: {} holds no recorded run", dir));
  }
  EngineConfig config;
  const Json& r = *run;
  config.request.endpoint = r.value("endpoint", "");
  config.request.unique = r.value("unique", std::vector<std::string>{});
  if (r.contains("priority") && r["priority"].is_number_integer()) {
    config.request.priority = r["priority"].get<int>();
  }
  if (r.contains("max_timeout_minutes") && r["max_timeout_minutes"].is_number_integer()) {
    config.request.max_timeout_minutes = r["max_timeout_minutes"].get<int>();
  }
  config.secure_params = r.contains("secure_params") ? r["secure_params"] : Json();
  config.token = r.value("token", "");
  std::string recorded_token = config.token;
  if (config.token == core::k_redacted) {
    // The recording does not hold the token: a stand-in, itself redacted, makes the replayed
    // requests and callback paths read as recorded (`***`).
    config.token = core::random_token();
    core::add_secret(config.token);
  }
  config.callback_base = r.value("callback_base", "");
  config.callback_path = r.value("callback_path", "/receive_callback");
  config.callback_key = r.value("callback_key", "");
  config.parallel = 1;
  // Every recorded callback is already here: a task with none gets its recorded status check.
  config.timeout = std::chrono::milliseconds(1);
  config.progress = EngineConfig::ProgressMode::none;
  config.summary = false;

  // The callbacks go through the listener's own validation and matching, in recorded order,
  // before anything is submitted: each waits in the tracker until its task is bound.
  core::Tracker tracker;
  core::CallbackConfig callbacks{config.callback_path, config.token, {}, {}};
  for (const Json& e : events) {
    if (e["kind"] == "callback" && !core::is_refused_callback(e)) {
      std::string body = core::event_body(e);
      std::string path = e.value("path", config.callback_path);
      if (recorded_token != config.token) {
        std::string seg = fmt::format("/{}/", recorded_token);
        if (auto at = path.find(seg); at != std::string::npos) {
          path.replace(at, seg.size(), "/" + config.token + "/");
        }
      }
      core::handle_callback(tracker, callbacks, core::CallbackRequest{path, body, {}, {}});
    }
  }
  ReplayService service(events);
  core::VectorSource source(std::move(inputs));
  RunPlanner planner(config);
  Engine engine(planner, config, source, tracker, service);
  return engine.execute();
}

} // namespace runner

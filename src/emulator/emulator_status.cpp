#include "emulator/emulator_status.h"

#include <fmt/format.h>

#include <chrono>
#include <memory>

namespace emulator {

namespace {

using Clock = TaskTable::Clock;
using Log = std::function<void(const std::string&)>;

// The routes' shared state; the handlers hold it by shared_ptr, as httplib copies them.
struct StatusApi {
  const TaskTable& tasks;
  std::string api_key;
  Log log_line;
  std::shared_ptr<const std::string> png; // final_screenshot.png

  template <typename... Args>
  void log(fmt::format_string<Args...> format, Args&&... args) const {
    if (log_line) {
      log_line(fmt::format(format, std::forward<Args>(args)...));
    }
  }

  bool authorized(const net::HttpRequest& req, net::HttpResponse& res, const char* what) const {
    int refused = check_api_key(req, res, api_key);
    if (refused == 0) {
      return true;
    }
    log("{} -> {} ({} x-api-key)", what, refused, refused == 422 ? "no" : "wrong");
    return false;
  }

  void task_status(const net::HttpRequest& req, net::HttpResponse& res) const {
    if (!authorized(req, res, "task_status")) {
      return;
    }
    if (!req.has_param("task_id")) {
      log("task_status -> 422 (no task_id)");
      reply_missing(res, "query", "task_id");
      return;
    }
    std::string task_id = req.param("task_id");
    auto now = Clock::now();
    auto record = tasks.find(task_id, now);
    if (!record) {
      log("task_status {} -> 404", task_id);
      reply_json(res, 404, {{"detail", "Task not found"}});
      return;
    }
    core::Json task = task_status_json(*record, now);
    log("task_status {} -> {}", task_id, task["status"].get<std::string>());
    reply_json(res, 200, {{"success", true}, {"task", std::move(task)}});
  }

  void callback_data(const net::HttpRequest& req, net::HttpResponse& res) const {
    if (!authorized(req, res, "get_callback_data")) {
      return;
    }
    core::Json body = core::parse_json(req.body());
    if (body.is_discarded()) {
      log("get_callback_data -> 422 (body is not JSON)");
      reply_not_json(res);
      return;
    }
    auto it = body.is_object() ? body.find("task_id") : body.end();
    if (!body.is_object() || it == body.end()) {
      log("get_callback_data -> 422 (no task_id)");
      reply_missing(res, "body", "task_id");
      return;
    }
    if (!it->is_string()) {
      log("get_callback_data -> 422 (task_id is not a string)");
      reply_json(res,
                 422,
                 {{"detail",
                   {{{"type", "string_type"},
                     {"loc", {"body", "task_id"}},
                     {"msg", "Input should be a valid string"}}}}});
      return;
    }
    // endpoint_name is not checked: the task id alone names the task.
    std::string task_id = it->get<std::string>();
    auto now = Clock::now();
    auto record = tasks.find(task_id, now);
    if (!record) {
      log("get_callback_data {} -> 404", task_id);
      reply_json(res, 404, {{"detail", "Task not found"}});
      return;
    }
    if (now < record->completes) {
      log("get_callback_data {} -> running, no data yet", task_id);
      reply_json(res, 200, {{"success", true}, {"data", nullptr}});
      return;
    }
    log("get_callback_data {} -> {}", task_id, outcome_status(record->outcome));
    // Spliced as text, not re-serialized, so `data` is the callback's body byte for byte.
    const CallbackBody& payload = *record->payload;
    std::string text = R"({"success":true,"data":)";
    text.reserve(text.size() + payload.size() + 1);
    text.append(payload.head).append(*payload.screenshot).append(payload.tail).append("}");
    res.set(200, std::move(text), "application/json");
  }

  void file(const net::HttpRequest& req, net::HttpResponse& res) const {
    std::string task_id = req.match(1);
    std::string filename = req.match(2);
    auto now = Clock::now();
    auto record = tasks.find(task_id, now);
    // Listed only in a finished task's callback, so only then served; failed and killed
    // tasks list none (their `downloads` count is 0).
    const bool ended = record && now >= record->completes;
    if (ended && record->screenshot_file && filename == k_screenshot_file && png) {
      log("file {}/{} -> 200", task_id, filename);
      res.set(200, *png, "image/png");
      return;
    }
    int index = ended ? download_index(filename, record->downloads) : 0;
    if (index == 0) {
      log("file {}/{} -> 404", task_id, filename);
      reply_json(res, 404, {{"detail", "Not Found"}});
      return;
    }
    log("file {}/{} -> 200", task_id, filename);
    res.set(200, download_csv(task_id, index), "text/csv");
  }
};

} // namespace

void reply_json(net::HttpResponse& res, int status, const core::Json& body) {
  res.set(status, core::dump_line(body), "application/json");
}

void reply_not_json(net::HttpResponse& res) {
  reply_json(res,
             422,
             {{"detail",
               {{{"type", "json_invalid"}, {"loc", {"body", 0}}, {"msg", "JSON decode error"}}}}});
}

void reply_missing(net::HttpResponse& res, const char* where, const char* field) {
  reply_json(
      res,
      422,
      {{"detail", {{{"type", "missing"}, {"loc", {where, field}}, {"msg", "Field required"}}}}});
}

int check_api_key(const net::HttpRequest& req, net::HttpResponse& res, const std::string& api_key) {
  if (api_key.empty()) {
    return 0;
  }
  const std::string given = req.header("x-api-key");
  if (given.empty()) {
    // x-api-key is a required header parameter of the service's FastAPI routes.
    reply_json(res,
               422,
               {{"detail",
                 {{{"type", "missing"},
                   {"loc", {"header", "x-api-key"}},
                   {"msg", "Field required"},
                   {"input", nullptr}}}}});
    return 422;
  }
  if (given == api_key) {
    return 0;
  }
  reply_json(res, 401, {{"detail", "Invalid or missing API key"}});
  return 401;
}

void add_status_routes(net::HttpServer& server,
                       const TaskTable& tasks,
                       std::string api_key,
                       std::function<void(const std::string&)> log,
                       std::shared_ptr<const std::string> png) {
  auto api = std::make_shared<const StatusApi>(
      StatusApi{tasks, std::move(api_key), std::move(log), std::move(png)});
  server.get("/api/v1/task_status", [api](const net::HttpRequest& req, net::HttpResponse& res) {
    api->task_status(req, res);
  });
  server.post(
      "/api/v1/get_callback_data",
      [api](const net::HttpRequest& req, net::HttpResponse& res) { api->callback_data(req, res); });
  // Task ids and file names never contain '/', so one segment each.
  server.get(R"(/files/([^/]+)/([^/]+))",
             [api](const net::HttpRequest& req, net::HttpResponse& res) { api->file(req, res); });
}

} // namespace emulator

#pragma once

// The emulator's status API (what a client asks when a callback is late or lost) and the JSON
// answers its routes share with the submit route.

#include "core/json.h"
#include "net/http_server.h"

#include <functional>
#include <string>

#include "emulator/emulator_tasks.h"

namespace emulator {

// Sets `status` and a one-line JSON body.
void reply_json(net::HttpResponse& res, int status, const core::Json& body);
// FastAPI's 422 for a body that is not JSON.
void reply_not_json(net::HttpResponse& res);
// FastAPI's 422 for a required field missing from `where` ("body" or "query").
void reply_missing(net::HttpResponse& res, const char* where, const char* field);
// 0 when `api_key` is empty or the request's x-api-key equals it; otherwise answers as the
// service does and returns the status: 422 (FastAPI's "missing" detail at ["header",
// "x-api-key"]) without the header, 401 `{"detail":"Invalid or missing API key"}` with another.
int check_api_key(const net::HttpRequest& req, net::HttpResponse& res, const std::string& api_key);

// Adds to `server`, answered from `tasks` (which must outlive the server's handlers):
// - GET /api/v1/task_status?task_id=ID: 200 {"success":true,"task":{...}}, 404 unknown id;
// - POST /api/v1/get_callback_data {"task_id","endpoint_name"}: 200 {"success":true,
//   "data":<the callback payload, byte for byte>} once the task has finished, "data":null
//   before; 404 unknown id, 422 without task_id;
// - GET /files/<task_id>/report-<i>.csv: a finished success task's download (no key needed,
//   like a signed URL), and /files/<task_id>/final_screenshot.png (`png`) for an ended task that
//   lists it; else 404.
// The first two need `api_key` like submits. `log`, unless empty, gets one line per request.
void add_status_routes(net::HttpServer& server,
                       const TaskTable& tasks,
                       std::string api_key,
                       std::function<void(const std::string&)> log,
                       std::shared_ptr<const std::string> png = nullptr);

} // namespace emulator

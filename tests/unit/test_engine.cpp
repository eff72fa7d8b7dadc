// The engine against a fake service: ordering, deadlines and status checks, refusals, lost
// answers and cancellation, with no network. Callbacks are handed to the tracker as the
// listener would.
#include "core/flow.h"
#include "core/journal.h"
#include "core/tracker.h"
#include "net/service.h"
#include "runner/engine.h"
#include "runner/flow_plan.h"
#include "runner/run_plan.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

TEST_SUITE_BEGIN("engine");

using core::Json;
using namespace std::chrono_literals;

namespace {

Json callback(const std::string& task_id, const std::string& status = "success") {
  return Json{{"task_id", task_id}, {"status", status}, {"output_data", Json::array({task_id})}};
}

// A service whose answers the test decides. Every wait in it is bounded.
class FakeService : public net::Service {
public:
  // What submit answers; by default, accepted with task ids t0, t1, ...
  std::function<net::SubmitResult(const Json&, size_t)> on_submit;
  // task_status: the status it reports ("" = no status API); blocks while `hold_checks`.
  std::string status = "running";
  // When set, the status of each check instead: (task id, how many checks of it came before).
  std::function<Json(const std::string&, size_t)> status_of;
  bool hold_checks = false;

  net::SubmitResult submit(const Json& request, std::stop_token) override {
    size_t n = 0;
    {
      std::lock_guard lock(m_mutex);
      n = m_requests.size();
      m_requests.push_back(request);
    }
    m_cv.notify_all();
    if (on_submit) {
      return on_submit(request, n);
    }
    return {net::SubmitResult::Kind::accepted, "t" + std::to_string(n)};
  }

  net::StatusReply task_status(const std::string& task_id) override {
    std::unique_lock lock(m_mutex);
    m_check_threads.push_back(std::this_thread::get_id());
    ++m_checks;
    m_cv.notify_all();
    if (hold_checks) {
      // Held until cancelled, as a request to a service that does not answer.
      m_cv.wait_for(lock, 30s, [&] { return m_cancelled; });
      return {false, 0, nullptr, "cancelled"};
    }
    const size_t before = m_checks_of[task_id]++;
    if (status_of) {
      Json task = status_of(task_id, before);
      m_last[task_id] = task.value("status", "");
      return {true, 200, Json{{"success", true}, {"task", task}}, ""};
    }
    if (status.empty()) {
      return {false, 0, nullptr, "no status API"};
    }
    return {true, 200, Json{{"task_id", task_id}, {"status", status}}, ""};
  }

  net::StatusReply callback_data(const std::string& task_id, const std::string&) override {
    std::lock_guard lock(m_mutex);
    ++m_fetches;
    return {true, 200, Json{{"data", callback(task_id, status_of ? m_last[task_id] : status)}}, ""};
  }

  size_t checks_of(const std::string& task_id) {
    std::lock_guard lock(m_mutex);
    return m_checks_of[task_id];
  }
  size_t fetches() {
    std::lock_guard lock(m_mutex);
    return m_fetches;
  }

  void cancel_all() override {
    std::lock_guard lock(m_mutex);
    m_cancelled = true;
    m_cv.notify_all();
  }

  // Waits (bounded) until `n` submits were made.
  bool wait_submits(size_t n) {
    std::unique_lock lock(m_mutex);
    return m_cv.wait_for(lock, 10s, [&] { return m_requests.size() >= n; });
  }
  bool wait_checks(size_t n) {
    std::unique_lock lock(m_mutex);
    return m_cv.wait_for(lock, 10s, [&] { return m_checks >= n; });
  }
  std::vector<Json> requests() {
    std::lock_guard lock(m_mutex);
    return m_requests;
  }
  std::vector<std::thread::id> check_threads() {
    std::lock_guard lock(m_mutex);
    return m_check_threads;
  }

private:
  std::mutex m_mutex;
  std::condition_variable m_cv;
  std::vector<Json> m_requests;
  std::vector<std::thread::id> m_check_threads;
  size_t m_checks = 0;
  std::map<std::string, size_t> m_checks_of;
  std::map<std::string, std::string> m_last; // the status each task's last check gave
  size_t m_fetches = 0;
  bool m_cancelled = false;
};

std::vector<core::Input> emails(size_t n) {
  std::vector<core::Input> inputs;
  for (size_t i = 0; i < n; ++i) {
    core::Input in;
    in.params = Json{{"email", Json::array({"user" + std::to_string(i) + "@x.com"})}};
    in.where = "in.txt:" + std::to_string(i + 1);
    inputs.push_back(std::move(in));
  }
  return inputs;
}

// A file that receives the engine's lines.
struct Output {
  char path[32] = "/tmp/engine-test-XXXXXX";
  int fd = mkstemp(path);
  ~Output() {
    close(fd);
    unlink(path);
  }
  std::vector<Json> lines() const {
    std::ifstream in(path);
    std::vector<Json> out;
    for (std::string line; std::getline(in, line);) {
      out.push_back(Json::parse(line));
    }
    return out;
  }
};

runner::EngineConfig quiet_config(int fd) {
  runner::EngineConfig config;
  config.request.endpoint = "demo";
  config.progress = runner::EngineConfig::ProgressMode::none;
  config.summary = false;
  config.output_fd = fd;
  config.timeout = 10s;
  return config;
}

// Runs `run` over `inputs` with `config` on a thread; `during` acts while it runs.
struct RunResult {
  int code = -1;
  std::vector<Json> lines;
  std::thread::id engine_thread;
};

RunResult run_engine(runner::EngineConfig config,
                     std::vector<core::Input> inputs,
                     FakeService& service,
                     core::Tracker& tracker,
                     const std::function<void(runner::Engine&)>& during = {}) {
  Output out;
  config.output_fd = out.fd;
  runner::RunPlanner planner(config);
  core::VectorSource source(std::move(inputs));
  runner::Engine engine(planner, config, source, tracker, service);
  RunResult result;
  std::thread t([&] {
    result.engine_thread = std::this_thread::get_id();
    result.code = engine.execute();
  });
  if (during) {
    during(engine);
  }
  t.join();
  result.lines = out.lines();
  return result;
}

} // namespace

TEST_CASE("engine: lines come in input order although callbacks arrive in reverse") {
  FakeService service;
  core::Tracker tracker;
  auto config = quiet_config(1);
  config.parallel = 3;
  auto r = run_engine(config, emails(3), service, tracker, [&](runner::Engine&) {
    REQUIRE(service.wait_submits(3));
    for (int i = 2; i >= 0; --i) {
      std::string id = "t" + std::to_string(i);
      // The submitter may not have bound its waiter yet: the tracker buffers early callbacks.
      tracker.deliver(id, callback(id));
    }
  });
  CHECK(r.code == 0);
  REQUIRE(r.lines.size() == 3);
  // Submits may go out in any order with 3 submitters: match lines to inputs by their input.
  for (size_t i = 0; i < 3; ++i) {
    CHECK(r.lines[i]["input"]["email"][0] == "user" + std::to_string(i) + "@x.com");
    CHECK(r.lines[i]["status"] == "success");
  }
}

TEST_CASE("engine: with unordered, lines come as tasks end") {
  FakeService service;
  core::Tracker tracker;
  auto config = quiet_config(1);
  config.parallel = 1;
  config.unordered = true;
  auto r = run_engine(config, emails(2), service, tracker, [&](runner::Engine&) {
    REQUIRE(service.wait_submits(1));
    tracker.deliver("t0", callback("t0", "failed"));
    REQUIRE(service.wait_submits(2));
    tracker.deliver("t1", callback("t1"));
  });
  CHECK(r.code == 1); // one failed
  REQUIRE(r.lines.size() == 2);
  CHECK(r.lines[0]["status"] == "failed");
  CHECK(r.lines[1]["status"] == "success");
}

TEST_CASE("engine: at a deadline the status is checked on a submitter, not the printing thread") {
  FakeService service;
  core::Tracker tracker;
  auto config = quiet_config(1);
  config.timeout = 50ms;
  SUBCASE("the service says the task ended: its result is fetched") {
    service.status = "success";
    auto r = run_engine(config, emails(1), service, tracker);
    CHECK(r.code == 0);
    REQUIRE(r.lines.size() == 1);
    CHECK(r.lines[0]["status"] == "success");
    CHECK(r.lines[0]["task_id"] == "t0");
    auto threads = service.check_threads();
    REQUIRE(threads.size() == 1);
    CHECK(threads[0] != r.engine_thread);
  }
  SUBCASE("the task still runs: a timeout line naming the task") {
    service.status = "running";
    auto r = run_engine(config, emails(2), service, tracker);
    CHECK(r.code == 1);
    REQUIRE(r.lines.size() == 2);
    for (size_t i = 0; i < 2; ++i) {
      CHECK(r.lines[i]["status"] == "timeout");
      CHECK(r.lines[i]["task_id"] == "t" + std::to_string(i));
    }
  }
}

TEST_CASE("engine: a task waiting in the service's queue is no timeout") {
  FakeService service;
  core::Tracker tracker;
  auto config = quiet_config(1);
  config.timeout = 50ms;
  config.straggler_floor = 1h;
  // Queued at the first deadline, then running since just now, then done: the timeout counts
  // from started_at, so the task is asked about again rather than given up.
  service.status_of = [](const std::string& id, size_t n) {
    if (n == 0) {
      return Json{{"task_id", id}, {"status", "queued"}, {"started_at", nullptr}};
    }
    return Json{{"task_id", id}, {"status", "success"}};
  };
  auto r = run_engine(config, emails(1), service, tracker);
  CHECK(r.code == 0);
  REQUIRE(r.lines.size() == 1);
  CHECK(r.lines[0]["status"] == "success");
  CHECK(service.checks_of("t0") == 2);
  CHECK(service.fetches() == 1);
}

TEST_CASE("engine: a task left allocated for ever ends as timeout at --max-wait") {
  FakeService service;
  core::Tracker tracker;
  auto config = quiet_config(1);
  config.timeout = 50ms;
  config.max_wait = 1200ms;
  config.straggler_floor = 1h;
  service.status_of = [](const std::string& id, size_t) {
    return Json{{"task_id", id}, {"status", "allocated"}};
  };
  auto r = run_engine(config, emails(1), service, tracker);
  CHECK(r.code == 1);
  REQUIRE(r.lines.size() == 1);
  CHECK(r.lines[0]["status"] == "timeout");
  CHECK(r.lines[0]["error"] == "no result within --max-wait 1.2 s (the service says allocated)");
  CHECK(service.checks_of("t0") >= 2); // at the first deadline, then at the end of --max-wait
  CHECK(service.fetches() == 0);
}

TEST_CASE("engine: a straggler among finished peers is checked and its result fetched") {
  FakeService service;
  core::Tracker tracker;
  auto config = quiet_config(1);
  config.parallel = 3;
  config.timeout = 1h;  // neither the deadline ...
  config.watchdog = 1h; // ... nor the watchdog: the straggler check
  config.straggler_floor = 100ms;
  service.status = "success";
  auto r = run_engine(config, emails(3), service, tracker, [&](runner::Engine&) {
    REQUIRE(service.wait_submits(3));
    tracker.deliver("t0", callback("t0"));
    tracker.deliver("t2", callback("t2")); // t1's callback is lost
  });
  CHECK(r.code == 0);
  REQUIRE(r.lines.size() == 3);
  // Ids follow the order submits arrive in, which 3 submitters do not fix: compare as a set.
  std::set<std::string> ids;
  for (size_t i = 0; i < 3; ++i) {
    CHECK(r.lines[i]["status"] == "success");
    ids.insert(r.lines[i]["task_id"].get<std::string>());
  }
  CHECK(ids == std::set<std::string>{"t0", "t1", "t2"});
  CHECK(service.checks_of("t1") >= 1);
  CHECK(service.fetches() == 1);
}

TEST_CASE("engine: --poll finds every ended task without callbacks") {
  FakeService service;
  core::Tracker tracker;
  auto config = quiet_config(1);
  config.parallel = 2;
  config.timeout = 1h;
  config.watchdog = 1h;
  config.straggler_floor = 1h;
  config.poll = 50ms;
  service.status = "success";
  auto r = run_engine(config, emails(2), service, tracker);
  CHECK(r.code == 0);
  REQUIRE(r.lines.size() == 2);
  CHECK(r.lines[0]["status"] == "success");
  CHECK(r.lines[1]["status"] == "success");
  CHECK(service.fetches() == 2);
}

TEST_CASE("engine: a status check stuck at a deadline is cut short by a signal") {
  FakeService service;
  service.hold_checks = true;
  core::Tracker tracker;
  auto config = quiet_config(1);
  config.timeout = 20ms;
  auto r = run_engine(config, emails(2), service, tracker, [&](runner::Engine& engine) {
    REQUIRE(service.wait_checks(1));
    engine.interrupt(SIGINT);
  });
  CHECK(r.code == 130);
  REQUIRE(r.lines.size() == 2); // nothing lost: one line per input
  CHECK(r.lines[0]["status"] == "interrupted");
  CHECK(r.lines[0]["task_id"] == "t0");
  CHECK(r.lines[1]["status"] == "interrupted");
}

TEST_CASE("engine: a refusal is said once and every input gets its line") {
  FakeService service;
  service.on_submit = [](const Json&, size_t) {
    return net::SubmitResult{net::SubmitResult::Kind::refused, {}, "HTTP 401: bad key", 401};
  };
  core::Tracker tracker;
  auto r = run_engine(quiet_config(1), emails(4), service, tracker);
  CHECK(r.code == 3);
  REQUIRE(r.lines.size() == 4);
  for (const auto& line : r.lines) {
    CHECK(line["status"] == "submit_failed");
  }
  CHECK(service.requests().size() == 1); // the others are not sent
}

TEST_CASE("engine: a submit whose answer was lost takes the result its callback URL received") {
  FakeService service;
  core::Tracker tracker;
  auto config = quiet_config(1);
  config.token = "tok";
  config.callback_base = "http://127.0.0.1:1";
  service.on_submit = [&](const Json& request, size_t) {
    // The service ran the task and called back, then the connection dropped before the answer.
    std::string url = request["task_callback_url"];
    std::string key = url.substr(url.rfind('/') + 1);
    tracker.deliver(key, callback("t-lost"));
    net::SubmitResult lost{net::SubmitResult::Kind::failed, {}, "connection closed", 0};
    lost.unknown_outcome = true;
    return lost;
  };
  auto r = run_engine(config, emails(1), service, tracker);
  CHECK(r.code == 0);
  REQUIRE(r.lines.size() == 1);
  CHECK(r.lines[0]["status"] == "success");
  CHECK(r.lines[0]["task_id"] == "t-lost");
}

namespace {

// A callback as the service sends it: it echoes what the request submitted.
Json echoing_callback(const std::string& task_id, const Json& request) {
  Json payload = callback(task_id);
  payload["endpoint_name"] = request["endpoint_name"];
  payload["input_parameters"] = request["input_parameters"];
  payload["unique_parameter_names"] = request.value("unique_parameter_names", Json::array());
  return payload;
}

net::SubmitResult unknown_outcome(const std::string& error) {
  net::SubmitResult r{net::SubmitResult::Kind::failed, {}, error, 0};
  r.unknown_outcome = true;
  return r;
}

std::string temp_path(const char* name) {
  return (std::filesystem::temp_directory_path() /
          fmt::format("engine-test-{}-{}", ::getpid(), name))
      .string();
}

} // namespace

TEST_CASE("engine: an unknown outcome is completed by a callback matching its content") {
  FakeService service;
  core::Tracker tracker;
  auto config = quiet_config(1);
  config.parallel = 2;
  SUBCASE("the callback comes after the failed answer") {
    // By content, not by arrival order: with --parallel 2 either submit may arrive first.
    service.on_submit = [](const Json& request, size_t) {
      bool first = request["input_parameters"]["email"][0] == "user0@x.com";
      return first ? unknown_outcome("connection reset after the request was sent")
                   : net::SubmitResult{net::SubmitResult::Kind::accepted, "t1"};
    };
    auto r = run_engine(config, emails(2), service, tracker, [&](runner::Engine&) {
      REQUIRE(service.wait_submits(2));
      auto requests = service.requests();
      // Input 1's own task (unknown id) and input 2's, each echoing its parameters.
      for (const auto& request : requests) {
        bool first = request["input_parameters"]["email"][0] == "user0@x.com";
        std::string id = first ? "t-hidden" : "t1";
        // Until input 1 waits by content, its callback is kept (buffered), then matched.
        tracker.deliver(id, echoing_callback(id, request));
      }
    });
    CHECK(r.code == 0);
    REQUIRE(r.lines.size() == 2);
    CHECK(r.lines[0]["status"] == "success");
    CHECK(r.lines[0]["task_id"] == "t-hidden");
    CHECK(r.lines[1]["task_id"] == "t1");
    CHECK(service.requests().size() == 2); // never resubmitted
  }
  SUBCASE("a callback for other parameters does not complete it: reported at the deadline") {
    config.timeout = 100ms;
    service.on_submit = [](const Json&, size_t) { return unknown_outcome("answer timed out"); };
    auto r = run_engine(config, emails(1), service, tracker, [&](runner::Engine&) {
      REQUIRE(service.wait_submits(1));
      Json other = service.requests()[0];
      other["input_parameters"]["email"] = Json::array({"someone-else@x.com"});
      tracker.deliver("t-other", echoing_callback("t-other", other));
    });
    CHECK(r.code == 1);
    REQUIRE(r.lines.size() == 1);
    CHECK(r.lines[0]["status"] == "submit_failed");
    CHECK(r.lines[0]["error"].get<std::string>().find("may have run") != std::string::npos);
    CHECK(service.requests().size() == 1);
  }
}

TEST_CASE("engine: a task id answered for a second input is reported, naming the first") {
  FakeService service;
  service.on_submit = [](const Json&, size_t) {
    return net::SubmitResult{net::SubmitResult::Kind::accepted, "same"};
  };
  core::Tracker tracker;
  auto config = quiet_config(1);
  config.timeout = 2s;
  auto r = run_engine(config, emails(3), service, tracker, [&](runner::Engine&) {
    REQUIRE(service.wait_submits(1));
    tracker.deliver("same", callback("same")); // then inputs 2 and 3 get the same id
  });
  CHECK(r.code == 1);
  REQUIRE(r.lines.size() == 3);
  CHECK(r.lines[0]["status"] == "success");
  for (size_t i = 1; i < 3; ++i) {
    CHECK(r.lines[i]["status"] == "submit_failed");
    auto error = r.lines[i]["error"].get<std::string>();
    CHECK(error.find("already the task of in.txt:1") != std::string::npos);
  }
}

TEST_CASE("engine: a journal that cannot be written stops the run, exit 74, nothing unjournaled "
          "printed as final") {
  FakeService service;
  core::Tracker tracker;
  auto path = temp_path("full.jnl");
  std::filesystem::remove(path);
  std::mutex mutex;
  int syncs = 0;
  off_t durable = 0; // the file's size at the last sync that worked
  core::JournalHooks hooks;
  bool full_at_start = false;
  SUBCASE("full from the start: nothing is submitted") {
    full_at_start = true;
  }
  SUBCASE("full after a few records") {}
  hooks.sync = [&](int fd) {
    std::lock_guard lock(mutex);
    if (full_at_start || ++syncs > 3) {
      return ENOSPC;
    }
    struct stat st {};
    ::fstat(fd, &st);
    durable = st.st_size;
    return 0;
  };
  core::Journal journal(path, hooks);
  auto config = quiet_config(1);
  config.journal = &journal;
  config.parallel = 2;
  auto r = run_engine(config, emails(4), service, tracker, [&](runner::Engine&) {
    if (!full_at_start) {
      REQUIRE(service.wait_submits(2));
      tracker.deliver("t0", callback("t0"));
      tracker.deliver("t1", callback("t1"));
    }
  });
  CHECK(r.code == 74);
  if (full_at_start) {
    CHECK(service.requests().empty()); // the intent could not be journaled: nothing sent
  }
  REQUIRE(r.lines.size() == 4); // every input has its line
  // Every success printed is in the part of the journal a sync made durable.
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream kept(text.substr(0, static_cast<size_t>(durable)));
  auto state = core::read_journal(kept, path);
  for (const auto& line : r.lines) {
    if (line["status"] != "success") {
      continue;
    }
    bool journaled = false;
    for (const auto& [key, entry] : state.entries) {
      journaled = journaled || (entry.status == std::optional<std::string>("success") &&
                                entry.task_id == line["task_id"].get<std::string>());
    }
    CHECK_MESSAGE(journaled, line.dump());
  }
  CHECK(service.requests().size() <= 2);
  std::filesystem::remove(path);
}

TEST_CASE("engine: stdout that cannot be written stops the run (exit 74), no hang") {
  FakeService service;
  core::Tracker tracker;
  int full = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
  REQUIRE(full >= 0);
  auto config = quiet_config(full);
  config.parallel = 2;
  runner::RunPlanner planner(config);
  core::VectorSource source(emails(5));
  runner::Engine engine(planner, config, source, tracker, service);
  int code = -1;
  std::thread t([&] { code = engine.execute(); });
  REQUIRE(service.wait_submits(1));
  tracker.deliver("t0", callback("t0"));
  t.join(); // bounded: the engine stops on the write error
  ::close(full);
  CHECK(code == 74);
  CHECK(service.requests().size() <= 2); // no new submits after the failure
}

TEST_CASE("engine: a flow runs its steps in order, one line per item") {
  core::Flow flow = core::parse_flow(R"({"name": "f", "steps": [
      {"id": "login", "endpoint": "login", "input": {"email": "{{item.email}}"}},
      {"id": "fetch", "endpoint": "fetch", "needs": ["login"],
       "input": {"account": "{{login:/output_data/0}}"}}]})",
                                     "f.json");
  FakeService service;
  core::Tracker tracker;
  Output out;
  auto config = quiet_config(out.fd);
  std::vector<core::Input> items(1);
  items[0].params = Json{{"email", "a@x.com"}};
  items[0].where = "items.csv:2";
  runner::FlowPlanner planner(flow, config);
  core::VectorSource source(std::move(items));
  runner::Engine engine(planner, config, source, tracker, service);
  int code = -1;
  std::thread t([&] { code = engine.execute(); });
  REQUIRE(service.wait_submits(1));
  tracker.deliver("t0", callback("t0"));
  REQUIRE(service.wait_submits(2));
  tracker.deliver("t1", callback("t1"));
  t.join();
  CHECK(code == 0);
  auto requests = service.requests();
  REQUIRE(requests.size() == 2);
  CHECK(requests[0]["endpoint_name"] == "login");
  CHECK(requests[1]["endpoint_name"] == "fetch");
  CHECK(requests[1]["input_parameters"]["account"] == Json::array({"t0"}));
  auto lines = out.lines();
  REQUIRE(lines.size() == 1);
  CHECK(lines[0]["status"] == "success");
  CHECK(lines[0]["steps"]["fetch"]["task_id"] == "t1");
}

TEST_CASE("engine: a flow interrupted with jobs still queued prints every item as interrupted") {
  // Two items of two independent steps and --parallel 2: two jobs run, two wait in the queue.
  core::Flow flow = core::parse_flow(R"({"name": "g", "steps": [
      {"id": "a", "endpoint": "a", "input": {"email": "{{item.email}}"}},
      {"id": "b", "endpoint": "b", "input": {"email": "{{item.email}}"}}]})",
                                     "g.json");
  FakeService service;
  core::Tracker tracker;
  Output out;
  auto config = quiet_config(out.fd);
  config.parallel = 2;
  std::vector<core::Input> items(2);
  for (size_t i = 0; i < 2; ++i) {
    items[i].params = Json{{"email", fmt::format("{}@x.com", i)}};
    items[i].where = fmt::format("items.csv:{}", i + 2);
  }
  runner::FlowPlanner planner(flow, config);
  core::VectorSource source(std::move(items));
  runner::Engine engine(planner, config, source, tracker, service);
  int code = -1;
  std::thread t([&] { code = engine.execute(); });
  REQUIRE(service.wait_submits(2));
  engine.interrupt(SIGINT);
  t.join();
  CHECK(code == 130);
  CHECK(service.requests().size() == 2); // the queued ones were never sent
  auto lines = out.lines();
  REQUIRE(lines.size() == 2);
  for (const auto& line : lines) {
    CHECK(line["status"] == "interrupted");
  }
}

// --- operators' controls -----------------------------------------------------------------------

namespace {

// Every task the service accepts ends at once with `status` (its callback is buffered until its
// waiter is bound).
void ends_at_once(FakeService& service, core::Tracker& tracker, const std::string& status) {
  service.on_submit = [&tracker, status](const Json&, size_t n) {
    std::string id = "t" + std::to_string(n);
    tracker.deliver(id, callback(id, status));
    return net::SubmitResult{net::SubmitResult::Kind::accepted, id};
  };
}

size_t count_status(const std::vector<Json>& lines, const std::string& status) {
  return static_cast<size_t>(std::count_if(
      lines.begin(), lines.end(), [&](const Json& l) { return l["status"] == status; }));
}

} // namespace

TEST_CASE("engine: --halt soon,fail=3 submits at most 3 + --parallel, the rest say skipped") {
  FakeService service;
  core::Tracker tracker;
  ends_at_once(service, tracker, "failed");
  auto config = quiet_config(1);
  config.parallel = 2;
  config.halt = core::parse_halt("soon,fail=3");
  auto r = run_engine(config, emails(20), service, tracker);
  CHECK(r.code == 1);
  REQUIRE(r.lines.size() == 20);
  const size_t submits = service.requests().size();
  CHECK(submits >= 3);
  CHECK(submits <= 5);
  CHECK(count_status(r.lines, "failed") == submits);
  CHECK(count_status(r.lines, "skipped") == 20 - submits);
  for (const auto& line : r.lines) {
    if (line["status"] == "skipped") {
      CHECK(line["error"] == "not submitted: --halt soon,fail=3: 3 tasks failed");
      CHECK(line.value("task_id", Json()).is_null());
      CHECK(line["input"].is_object()); // the input it was
    }
  }
}

TEST_CASE("engine: --halt now stops waiting: tasks in flight are interrupted with their ids") {
  FakeService service;
  core::Tracker tracker;
  // The first task fails at once; the others never end.
  service.on_submit = [&](const Json&, size_t n) {
    std::string id = "t" + std::to_string(n);
    if (n == 0) {
      tracker.deliver(id, callback(id, "failed"));
    }
    return net::SubmitResult{net::SubmitResult::Kind::accepted, id};
  };
  auto config = quiet_config(1);
  config.parallel = 4;
  config.timeout = 120s; // far beyond the test: only the halt ends the waits
  config.halt = core::parse_halt("now,fail=1");
  auto r = run_engine(config, emails(10), service, tracker);
  CHECK(r.code == 1);
  REQUIRE(r.lines.size() == 10);
  const size_t submits = service.requests().size();
  CHECK(count_status(r.lines, "failed") == 1);
  CHECK(count_status(r.lines, "interrupted") == submits - 1);
  CHECK(count_status(r.lines, "skipped") == 10 - submits);
  for (const auto& line : r.lines) {
    if (line["status"] == "interrupted") {
      CHECK(line["task_id"].is_string());
      CHECK(line["error"].get<std::string>().starts_with("--halt now,fail=1: 1 task failed: "
                                                         "stopped waiting"));
    }
  }
}

TEST_CASE("engine: a halt ends the wait of submitters for their --rate turn; none is sent") {
  FakeService service;
  core::Tracker tracker;
  ends_at_once(service, tracker, "failed");
  auto config = quiet_config(1);
  config.parallel = 3;
  config.rate = 1.0 / 600; // one submit per 10 minutes: only the halt ends the others' wait
  config.halt = core::parse_halt("soon,fail=1");
  auto r = run_engine(config, emails(6), service, tracker);
  CHECK(r.code == 1);
  CHECK(service.requests().size() == 1);
  REQUIRE(r.lines.size() == 6);
  CHECK(count_status(r.lines, "skipped") == 5);
}

TEST_CASE("engine: --limit runs the first N inputs, the others neither submitted nor printed") {
  FakeService service;
  core::Tracker tracker;
  ends_at_once(service, tracker, "success");
  auto config = quiet_config(1);
  config.parallel = 2;
  config.limit = 3;
  auto r = run_engine(config, emails(10), service, tracker);
  CHECK(r.code == 0);
  CHECK(service.requests().size() == 3);
  REQUIRE(r.lines.size() == 3);
  for (size_t i = 0; i < 3; ++i) {
    CHECK(r.lines[i]["input"]["email"][0] == "user" + std::to_string(i) + "@x.com");
  }
}

TEST_CASE("engine: --shard 1/3..3/3 split the inputs: disjoint, covering, --tag names each") {
  std::multiset<std::string> seen;
  for (unsigned shard = 1; shard <= 3; ++shard) {
    FakeService service;
    core::Tracker tracker;
    ends_at_once(service, tracker, "success");
    auto config = quiet_config(1);
    config.parallel = 4;
    config.shard = core::Shard{shard, 3};
    config.tag = true;
    auto r = run_engine(config, emails(30), service, tracker);
    CHECK(r.code == 0);
    CHECK(service.requests().size() == r.lines.size());
    for (const auto& line : r.lines) {
      const std::string email = line["input"]["email"][0];
      seen.insert(email);
      // "source" names the input's line: userK@x.com is in.txt:K+1.
      const int k = std::stoi(email.substr(4));
      CHECK(line["source"] == "in.txt:" + std::to_string(k + 1));
    }
  }
  CHECK(seen.size() == 30);
  CHECK(std::set<std::string>(seen.begin(), seen.end()).size() == 30);
}

TEST_SUITE_END();

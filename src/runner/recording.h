#pragma once

#include "core/callback_handler.h"
#include "core/recorder.h"
#include "core/tracker.h"
#include "net/service.h"

#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace runner {

// Records every submit and status exchange of a run (`--record`), then forwards to `inner`.
class RecordingService : public net::Service {
public:
  RecordingService(net::Service& inner, core::Recorder& recorder)
      : m_inner(inner), m_recorder(recorder) {}
  net::SubmitResult submit(const core::Json& request, std::stop_token stop) override;
  net::StatusReply task_status(const std::string& task_id) override;
  net::StatusReply callback_data(const std::string& task_id, const std::string& endpoint) override;
  void cancel_all() override { m_inner.cancel_all(); }

private:
  net::Service& m_inner;
  core::Recorder& m_recorder;
};

// Plays a recording back: submits get the recorded answers (matched by request), status
// checks the recorded replies; nothing touches the network.
class ReplayService : public net::Service {
public:
  explicit ReplayService(const std::vector<core::Json>& events);
  net::SubmitResult submit(const core::Json& request, std::stop_token stop) override;
  net::StatusReply task_status(const std::string& task_id) override;
  net::StatusReply callback_data(const std::string& task_id, const std::string& endpoint) override;
  void cancel_all() override {}

private:
  std::mutex m_mutex;
  std::map<std::string, std::deque<net::SubmitResult>> m_submits; // by request text
  std::map<std::string, std::deque<net::StatusReply>> m_status;   // by "api task_id"
};

// The request text recorded and matched: secrets redacted.
core::Json redact_request(core::Json request);

// Replays `dir` (a `run --record` directory) through the same matching and output code and
// prints what the run printed. Returns the exit code.
int replay(const std::string& dir);

} // namespace runner

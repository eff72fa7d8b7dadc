#pragma once

#include "core/inputs.h"
#include "core/journal.h"
#include "core/recorder.h"
#include "core/tracker.h"
#include "net/client.h"
#include "net/listener.h"
#include "runner/engine_config.h"
#include "runner/recording.h"
#include "runner/run_options.h"

#include <memory>
#include <string>

#include "emulator/emulator.h"

namespace runner {

// The items of a run or a flow: --emails, --input (any format) or records (--map ...). A file is
// read whole first, so every problem in it is reported before anything is submitted; stdin
// streams.
std::unique_ptr<core::InputSource> load_inputs(const RunOptions& opts);

// The engine settings shared by `run` and `flow`.
EngineConfig engine_config(const RunOptions& opts, const core::Json& secure);

// --state: reads what an earlier run journaled (warning when its last record was cut short) and
// opens the journal for appending.
std::unique_ptr<core::Journal> open_journal(const std::string& path, core::JournalState& journaled);

// --public-url: the per-run token (reused from the journal) and the base of callback URLs.
void set_callback_urls(const RunOptions& opts,
                       const core::JournalState& journaled,
                       EngineConfig& config);

// What a run talks through: the callback listener, the embedded emulator (--emulate) and the
// HTTP client (wrapped by the recorder with --record). Starting it binds the listener, journals
// the run's start, starts the emulator and, with --public-url, checks that the URL reaches the
// listener. Stopping (or destroying) it stops the emulator first, then the listener.
class Session {
public:
  Session(const RunOptions& opts,
          const EngineConfig& config,
          core::Tracker& tracker,
          const core::JournalState& journaled,
          core::Journal* journal,
          core::Recorder* recorder,
          const std::string& label); // what the journal's start record names (endpoint, flow)
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  net::Service& service() {
    if (m_recording) {
      return *m_recording;
    }
    return *m_client;
  }
  void stop();

private:
  std::unique_ptr<net::Listener> m_listener;
  std::unique_ptr<emulator::Emulator> m_emulator;
  std::unique_ptr<net::Client> m_client;
  std::unique_ptr<RecordingService> m_recording;
};

// A client for `api_url` with the run's key, timeouts and retry policy.
net::ClientOptions client_options(const RunOptions& opts, const std::string& api_url);

// A request as --dry-run and --plan show it: {method, url, headers, body}, secrets redacted.
core::Json describe_request(const RunOptions& opts, const core::ApiEndpoints& api, core::Json body);

// --public-url without trailing slashes: the callback path follows it.
std::string callback_base(std::string url);

} // namespace runner

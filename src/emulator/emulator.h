#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace emulator {

// Settings of the embedded fake Optexity service (see shared/docs/optexity-api.md).
struct EmulatorOptions {
  std::string host = "127.0.0.1";
  int port = 0;                       // 0 picks a free port
  std::string callback_url;           // where callbacks are POSTed (the dashboard URL)
  std::string api_key;                // when set, `x-api-key` must match (else 401)
  std::vector<std::string> endpoints; // when set, other endpoint names get 404
  int delay_ms = 100;                 // submit -> callback delay
  int jitter_ms = 0;                  // +- uniformly random
  double fail_rate = 0;               // share of the tasks not killed whose callback is `failed`
  double drop_callback_rate = 0;      // share of tasks that never call back
  int duplicate_callbacks = 0;        // extra copies of each callback
  double duplicate_rate = 0;          // share of tasks whose callback is sent once more
  bool early_callback = false;        // callback sent before the 202 answer
  // Share of accepted submits that get no answer at all: the task is created and run, and once
  // its callback has been delivered (or given up) the connection is closed without a status
  // line, as when a proxy or the network loses the 202.
  double lost_answer_rate = 0;
  int transient_503 = 0; // the first K submits of each distinct input get 503
  // Share of accepted submits whose answer carries no usable task_id although the task is
  // created, runs and calls back: alternately 200 text/html "<html><body>OK</body></html>" and
  // 202 {"ok":true} (as a proxy or a changed service might answer).
  double bad_answer_rate = 0;
  // The answers to the next N submits after the first name the first submit's task_id instead
  // of their own (each task still runs and calls back under its own task_id).
  int repeat_task_id = 0;
  // Share of valid submits refused with 422 the way FastAPI reports a model-level error: a
  // `detail` item whose `msg` and `input` echo the whole request (callback key, callback URL,
  // secure parameters included). No task is created. Drawn from its own generator, so seeds
  // recorded without it replay the same runs.
  double echo_422_rate = 0;
  uint64_t seed = 0;  // 0: random
  bool quiet = false; // no per-request log lines on stderr
  // Share of tasks whose callback says `killed` ("Automation timed out after N minutes in
  // process", no output). Decided first: fail_rate then applies to the tasks not killed.
  double kill_rate = 0;
  // Decoded size of each callback's final_screenshot PNG; 0 keeps the built-in 1x1 (70 bytes).
  size_t screenshot_bytes = 0;
  // Files listed in each success callback (`downloads` and `downloads_with_metadata`) and
  // served by the emulator at GET /files/<task_id>/report-<i>.csv, i = 1..downloads.
  int downloads = 0;
  // A JSON script (format in emulator/script.h) mapping each endpoint to its delay, rates and
  // templated output_data; an endpoint it does not answer gets 404. Read and validated by
  // start(), which throws core::Error (exit 2) naming the file and the place of each problem.
  std::string script_path;

  // --- the service's queue, attempts and lapses (docs/optexity-api.md §2, §3.3, §4) ----------
  // Tasks allocated or running at once (the workspace's capacity); 0: unlimited. Tasks with
  // equal unique-parameter values run one after another in any case.
  int capacity = 0;
  // The recording's max_retries: a failed or killed attempt is retried (10 s * 2^n apart, times
  // time_scale) up to this many times; one callback at the end.
  int max_retries = 0;
  // Share of attempts that fail (on top of fail_rate, which settles the first attempt).
  double attempt_fail_rate = 0;
  // Share of tasks left `allocated` for ever with no callback (a worker whose browser did not
  // start, Optexity issue #237); their place and key are freed.
  double stuck_rate = 0;
  // The K-th accepted submits (1-based, in acceptance order) that are stuck / never call back.
  std::vector<int> stuck_at;
  std::vector<int> drop_callback_at;
  // Where the final screenshot goes: "download" (a final_screenshot.png entry of `downloads`,
  // as the cloud most likely sends it), "inline" (the final_screenshot field) or "both".
  std::string screenshot = "download";
  // Shrinks every service duration: the pauses between attempts, a killed attempt's limit
  // (max_timeout_in_minutes; at 1 a killed attempt runs delay_ms like any other), the 5
  // minutes of callback delivery retries and their backoff. Not delay_ms.
  double time_scale = 1.0;
};

// The fake service: `POST /api/v1/inference` and `POST /inference` validate the body like the
// real service (422 with a FastAPI `detail` list), answer 202 with a fresh `task_id`, and POST
// the full callback payload to `callback_url` after the delay, with the faults asked for.
// `GET /api/v1/task_status?task_id=` and `POST /api/v1/get_callback_data` answer for each task
// for an hour after its callback time, whether or not the callback was delivered (dropped
// callbacks are recovered this way); they need the same x-api-key as submits.
class Emulator {
public:
  explicit Emulator(EmulatorOptions options);
  ~Emulator(); // stops
  Emulator(const Emulator&) = delete;
  Emulator& operator=(const Emulator&) = delete;

  // Binds (throws core::Error naming the address on failure) and serves on background threads.
  void start();
  // The bound port (after start).
  int port() const;
  // Stops serving and sending; idempotent.
  void stop();

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

} // namespace emulator

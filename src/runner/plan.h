#pragma once

#include "core/inputs.h"
#include "core/json.h"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace runner {

// One submit an item asks the engine for, then a wait for its result.
struct Job {
  size_t id = 0;        // the plan's own number for it
  std::string key;      // names it in the journal and in a per-run callback URL
  std::string endpoint; // the automation it runs
  std::string step;     // the flow step it belongs to ("" for `run`: one job per input)
  std::string where;    // names it in messages: "items.csv:3" or "items.csv:3: step login"
  core::Json request;   // the inference request, without the callback fields
  core::Json params;    // its input_parameters (for failure lines)
  std::chrono::milliseconds timeout{0};
};

// How an item's line reads once it is done.
struct ItemLine {
  enum class Origin {
    ran,       // its jobs ran in this run (or ended here: timeout, interrupted, ...)
    journaled, // reprinted as an earlier run journaled it
    passed_on, // a record of another run passed on unchanged: its success is not ours
  };
  std::string text;   // the JSON line, as printed
  std::string status; // its status
  std::string error;  // what went wrong ("" when nothing did)
  Origin origin = Origin::ran;
};

// What one item runs: `run` gives every input one job, `flow` the steps of a flow file. A plan
// is owned by the engine's coordinating thread: network-free, single-threaded.
class ItemPlan {
public:
  virtual ~ItemPlan() = default;
  // The jobs that can be submitted now; each is handed out once.
  virtual std::vector<Job> take_ready() = 0;
  // Whether a job handed out should still be submitted (not once the item has stopped).
  virtual bool wants(const Job& job) const = 0;
  // The result of a job that was not submitted because the item stopped.
  virtual core::Json skipped_result() const = 0;
  // Makes a job's result what the item keeps, journals and prints (adds its inputs, writes
  // screenshots): called once per result that did not come from the journal.
  virtual void finish_result(const Job& job, core::Json& result) = 0;
  // A job's final result; may make more jobs ready. `journaled` holds the bytes an earlier run
  // journaled when the result came from there.
  virtual void complete(const Job& job, core::Json result, const std::string* journaled) = 0;
  // Ends everything not yet ended with `status` (interrupted), saying `why`.
  virtual void abandon(const std::string& status, const std::string& why) = 0;
  virtual bool done() const = 0;
  virtual ItemLine line() = 0;
};

// Makes the plan of each input.
class Planner {
public:
  virtual ~Planner() = default;
  // Called once per input as it is read: may complete it (--set parameters); returns what names
  // its content, from which the engine derives the item's key.
  virtual std::string admit(core::Input& input) = 0;
  // The plan of an input; `key` names the item (content hash and occurrence), "" when the input
  // could not be read.
  virtual std::unique_ptr<ItemPlan> plan(const core::Input& input, const std::string& key) = 0;
  // What the progress line counts ("input", "item").
  virtual const char* unit() const = 0;
  // Names the stage on the live line: the endpoint (run) or the flow's name.
  virtual std::string label() const = 0;
  // What an interrupted item had not reached: "the task finished", "the step ended".
  virtual const char* unfinished() const = 0;
};

} // namespace runner

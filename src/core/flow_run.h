#pragma once

#include "core/flow.h"
#include "core/json.h"

#include <optional>
#include <string>
#include <vector>

namespace core {

// One submit a flow asks for: a step (or one element of a foreach step) for one item.
struct FlowJob {
  size_t step = 0;    // index into Flow::steps
  size_t element = 0; // foreach: the element's index
  int attempt = 0;    // 0 first, then one more per retry
  Json params;        // input_parameters
  Json secure;        // secure_parameters, or null
};

// The flow of one item: which steps can run, what their results are, and the item's line.
// Network-free and single-threaded: the caller submits the jobs it hands out and reports each
// result back (a callback payload, or a failure line from the tool).
//
// A step starts once every step it depends on has ended: with `when`, if the condition holds
// (else it is skipped); without, if every one of them succeeded (else it is skipped, which
// counts as a failure of the item). A failure (after the step's retries) with on_failure "stop"
// starts nothing more for the item; jobs already submitted still end.
class ItemRun {
public:
  ItemRun(const Flow& flow, Json item);

  // The jobs that can be submitted now; each is handed out once.
  std::vector<FlowJob> take_ready();
  // Whether a job handed out should still be submitted: not once the item has stopped or was
  // abandoned (complete it with skipped_result() instead).
  bool wants(const FlowJob& job) const;
  Json skipped_result() const;
  // A job's final result; may make more jobs ready (or the same one again, for a retry).
  void complete(const FlowJob& job, Json result);
  // Ends everything not yet ended with `status` (e.g. interrupted): jobs handed out and not
  // completed, and steps not started.
  void abandon(const std::string& status, const std::string& why);

  // Every step has ended (or was skipped).
  bool done() const;
  size_t outstanding() const { return m_outstanding; } // jobs handed out, not completed
  bool succeeded() const;
  // {"status", "error"?, "item", "steps": {id: result | [element results]}}
  Json line() const;
  const Json& item() const { return m_item; }

private:
  enum class State { waiting, running, ended };
  struct StepRun {
    State state = State::waiting;
    std::string status;      // when ended
    Json result;             // the payload, a failure line, or a list (foreach)
    bool failure = false;    // counts against the item (failed, or skipped because of a failure)
    bool after_stop = false; // a failure handler started after the item stopped
    // foreach
    std::vector<Json> elements;
    std::vector<std::optional<Json>> element_results;
    size_t next_element = 0; // next element to hand out
    size_t element_done = 0;
  };

  void advance();
  bool when_holds(const FlowStep& step) const;
  void start(size_t index);
  void end_step(size_t index, std::string status, Json result, bool failure);
  void fail_item(size_t index);
  void maybe_finish_foreach(size_t index);
  const Json* result_of(const std::string& id) const;
  FlowJob make_job(size_t index, size_t element, std::string* error) const;

  const Flow& m_flow;
  Json m_item;
  std::vector<StepRun> m_steps;
  std::vector<FlowJob> m_ready;
  size_t m_outstanding = 0;
  std::optional<size_t> m_stopped_by; // the step whose failure stopped the item
  std::string m_first_error;
  std::string m_abandoned; // status given to everything by abandon()
};

// Statuses after which a step with retries left is submitted again.
bool is_retryable_status(const std::string& status);

} // namespace core

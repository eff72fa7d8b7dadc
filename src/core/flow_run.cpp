#include "core/flow_run.h"

#include "core/api.h"
#include "core/output.h"
#include "core/status.h"

#include <fmt/format.h>

#include <algorithm>

namespace core {

namespace {

Json skipped(const std::string& reason) {
  return Json{{"status", status::skipped}, {"reason", reason}};
}

std::string error_of(const Json& result) {
  if (auto it = result.find("error"); it != result.end() && it->is_string()) {
    return it->get<std::string>();
  }
  if (auto it = result.find("reason"); it != result.end() && it->is_string()) {
    return it->get<std::string>();
  }
  return {};
}

} // namespace

bool is_retryable_status(const std::string& status) {
  return status == status::failed || status == status::killed || status == status::timeout ||
         status == status::submit_failed;
}

ItemRun::ItemRun(const Flow& flow, Json item)
    : m_flow(flow), m_item(std::move(item)), m_steps(flow.steps.size()) {
  advance();
}

std::vector<FlowJob> ItemRun::take_ready() {
  std::vector<FlowJob> out;
  out.swap(m_ready);
  m_outstanding += out.size();
  return out;
}

bool ItemRun::wants(const FlowJob& job) const {
  // After a stop, only the jobs of failure handlers (started after it on purpose).
  return m_abandoned.empty() &&
         (!m_stopped_by || (job.step < m_steps.size() && m_steps[job.step].after_stop));
}

Json ItemRun::skipped_result() const {
  if (!m_abandoned.empty()) {
    return failure_line(m_abandoned, "the item was abandoned before this step started", nullptr);
  }
  return skipped(fmt::format("the flow stopped after step \"{}\" failed",
                             m_stopped_by ? m_flow.steps[*m_stopped_by].id : ""));
}

const Json* ItemRun::result_of(const std::string& id) const {
  size_t index = m_flow.index_of(id);
  if (index >= m_steps.size() || m_steps[index].state != State::ended) {
    return nullptr;
  }
  return &m_steps[index].result;
}

FlowJob ItemRun::make_job(size_t index, size_t element, std::string* error) const {
  const FlowStep& step = m_flow.steps[index];
  FlowJob job;
  job.step = index;
  job.element = element;
  TemplateScope scope;
  scope.item = &m_item;
  scope.each = step.foreach ? &m_steps[index].elements[element] : nullptr;
  scope.result = [this](const std::string& id) { return result_of(id); };
  try {
    job.params = to_input_parameters(render_template(step.input, scope));
    if (!step.secure.is_null()) {
      TemplateScope secure_scope = scope;
      secure_scope.unwrap_single_lists = true; // "item_name": "{{item.user}}" is a string
      job.secure = render_template(step.secure, secure_scope);
    }
  } catch (const TemplateError& e) {
    *error = e.what(); // the item's error names the step
  }
  return job;
}

void ItemRun::start(size_t index) {
  const FlowStep& step = m_flow.steps[index];
  StepRun& run = m_steps[index];
  run.state = State::running;
  if (!step.foreach) {
    std::string error;
    FlowJob job = make_job(index, 0, &error);
    if (!error.empty()) {
      end_step(
          index, status::invalid_input, failure_line(status::invalid_input, error, nullptr), true);
      return;
    }
    m_ready.push_back(std::move(job));
    return;
  }
  TemplateScope scope;
  scope.item = &m_item;
  scope.result = [this](const std::string& id) { return result_of(id); };
  std::string error;
  try {
    const Json& list = resolve_ref(*step.foreach, scope);
    if (!list.is_array()) {
      error = fmt::format("foreach: {} is {}, not a list", step.foreach->text, list.type_name());
    } else {
      run.elements.assign(list.begin(), list.end());
    }
  } catch (const TemplateError& e) {
    error = fmt::format("foreach: {}", e.what());
  }
  if (!error.empty()) {
    end_step(
        index, status::invalid_input, failure_line(status::invalid_input, error, nullptr), true);
    return;
  }
  if (run.elements.empty()) {
    end_step(index, status::success, Json::array(), false); // nothing to do is done
    return;
  }
  run.element_results.resize(run.elements.size());
  for (size_t e = 0; e < run.elements.size(); ++e) {
    std::string job_error;
    FlowJob job = make_job(index, e, &job_error);
    if (!job_error.empty()) {
      run.element_results[e] = failure_line(status::invalid_input, job_error, nullptr);
      ++run.element_done;
      if (m_first_error.empty()) {
        m_first_error = fmt::format(
            "step \"{}\" (element {}): {}: {}", step.id, e, status::invalid_input, job_error);
      }
      fail_item(index);
      continue;
    }
    m_ready.push_back(std::move(job));
  }
  maybe_finish_foreach(index);
}

void ItemRun::fail_item(size_t index) {
  if (m_flow.steps[index].on_failure == OnFailure::stop && !m_stopped_by) {
    m_stopped_by = index;
  }
}

void ItemRun::end_step(size_t index, std::string status, Json result, bool failure) {
  StepRun& run = m_steps[index];
  run.state = State::ended;
  run.status = std::move(status);
  run.result = std::move(result);
  run.failure = failure;
  if (failure && run.status != status::skipped) {
    if (m_first_error.empty()) {
      std::string error = error_of(run.result);
      m_first_error = fmt::format("step \"{}\": {}{}",
                                  m_flow.steps[index].id,
                                  run.status,
                                  error.empty() ? "" : ": " + error);
    }
    fail_item(index);
  }
}

void ItemRun::maybe_finish_foreach(size_t index) {
  StepRun& run = m_steps[index];
  if (run.state != State::running || run.element_done < run.elements.size()) {
    return;
  }
  Json list = Json::array();
  bool all_ok = true;
  for (auto& r : run.element_results) {
    all_ok = all_ok && line_status(*r) == status::success;
    list.push_back(std::move(*r));
  }
  run.element_results.clear();
  end_step(index, all_ok ? status::success : status::failed, std::move(list), !all_ok);
}

void ItemRun::complete(const FlowJob& job, Json result) {
  if (m_outstanding > 0) {
    --m_outstanding;
  }
  const FlowStep& step = m_flow.steps[job.step];
  StepRun& run = m_steps[job.step];
  const std::string got = line_status(result);
  if (got != status::success && is_retryable_status(got) && job.attempt < step.retries &&
      wants(job)) {
    FlowJob again = job;
    ++again.attempt;
    m_ready.push_back(std::move(again));
    return;
  }
  if (!step.foreach) {
    end_step(job.step, got, std::move(result), got != status::success);
  } else if (run.state == State::running && job.element < run.element_results.size() &&
             !run.element_results[job.element]) {
    if (got != status::success && got != status::skipped) {
      if (m_first_error.empty()) {
        std::string error = error_of(result);
        m_first_error = fmt::format("step \"{}\" (element {}): {}{}",
                                    step.id,
                                    job.element,
                                    got,
                                    error.empty() ? "" : ": " + error);
      }
      fail_item(job.step);
    }
    run.element_results[job.element] = std::move(result);
    ++run.element_done;
    maybe_finish_foreach(job.step);
  }
  advance();
}

bool ItemRun::when_holds(const FlowStep& step) const {
  return std::all_of(step.when->begin(), step.when->end(), [&](const FlowStep::Condition& c) {
    const std::string& got = m_steps[c.step].status;
    return std::any_of(c.statuses.begin(), c.statuses.end(), [&](const std::string& w) {
      return when_matches(w, got);
    });
  });
}

void ItemRun::advance() {
  for (size_t index : m_flow.order) {
    StepRun& run = m_steps[index];
    if (run.state != State::waiting) {
      continue;
    }
    const FlowStep& step = m_flow.steps[index];
    bool deps_ended = std::all_of(step.deps.begin(), step.deps.end(), [&](size_t d) {
      return m_steps[d].state == State::ended;
    });
    if (!deps_ended) {
      continue;
    }
    if (!m_abandoned.empty()) {
      end_step(index, m_abandoned, skipped_result(), true);
      continue;
    }
    // After a stop only failure handlers start: steps whose `when` holds.
    if (m_stopped_by && !(step.when && when_holds(step))) {
      end_step(index, status::skipped, skipped_result(), true);
      continue;
    }
    if (step.when) {
      for (const auto& c : *step.when) {
        const std::string& got = m_steps[c.step].status;
        bool ok = std::any_of(c.statuses.begin(), c.statuses.end(), [&](const std::string& w) {
          return when_matches(w, got);
        });
        if (!ok) {
          end_step(index,
                   status::skipped,
                   skipped(fmt::format("when: step \"{}\" ended with {}, not {}",
                                       m_flow.steps[c.step].id,
                                       got,
                                       fmt::join(c.statuses, " or "))),
                   false);
          break;
        }
      }
      if (run.state == State::waiting) {
        run.after_stop = m_stopped_by.has_value();
        start(index);
      }
      continue;
    }
    auto bad = std::find_if(step.deps.begin(), step.deps.end(), [&](size_t d) {
      return m_steps[d].status != status::success;
    });
    if (bad == step.deps.end()) {
      start(index);
      continue;
    }
    const StepRun& dep = m_steps[*bad];
    end_step(index,
             status::skipped,
             skipped(fmt::format(
                 "needs step \"{}\", which ended with {}", m_flow.steps[*bad].id, dep.status)),
             dep.failure);
  }
}

void ItemRun::abandon(const std::string& how, const std::string& why) {
  if (m_abandoned.empty()) {
    m_abandoned = how;
  }
  if (m_first_error.empty()) {
    m_first_error = why;
  }
  // Jobs not handed out yet end here; jobs handed out are completed by the caller.
  std::vector<FlowJob> ready;
  ready.swap(m_ready);
  for (const FlowJob& job : ready) {
    ++m_outstanding;
    complete(job, failure_line(how, why, nullptr));
  }
  advance();
}

bool ItemRun::done() const {
  return m_outstanding == 0 && m_ready.empty() &&
         std::all_of(m_steps.begin(), m_steps.end(), [](const StepRun& r) {
           return r.state == State::ended;
         });
}

bool ItemRun::succeeded() const {
  return m_abandoned.empty() && std::all_of(m_steps.begin(), m_steps.end(), [](const StepRun& r) {
           return r.state == State::ended && !r.failure;
         });
}

Json ItemRun::line() const {
  Json line = Json::object();
  line["status"] = succeeded()            ? std::string(status::success)
                   : !m_abandoned.empty() ? m_abandoned
                                          : std::string(status::failed);
  if (!succeeded()) {
    line["error"] = m_first_error.empty() ? std::string("a step did not succeed") : m_first_error;
  }
  line["item"] = m_item;
  Json steps = Json::object();
  for (size_t i = 0; i < m_steps.size(); ++i) {
    const StepRun& run = m_steps[i];
    steps[m_flow.steps[i].id] =
        run.state == State::ended ? run.result : Json{{"status", status::pending}};
  }
  line["steps"] = std::move(steps);
  return line;
}

} // namespace core

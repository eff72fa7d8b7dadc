#include "core/flow.h"

#include "core/files.h"
#include "core/json_places.h"
#include "core/names.h"
#include "core/status.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <set>

namespace core {

namespace {

const std::vector<std::string> k_top_keys = {"name", "description", "steps"};
const std::vector<std::string> k_step_keys = {"id",
                                              "endpoint",
                                              "input",
                                              "needs",
                                              "when",
                                              "foreach",
                                              "unique",
                                              "timeout",
                                              "retries",
                                              "priority",
                                              "secure_parameters",
                                              "on_failure",
                                              "description"};

// Collects problems with their places; thrown together at the end.
class Problems {
public:
  Problems(std::string file, const std::unordered_map<std::string, TextPlace>& places)
      : m_file(std::move(file)), m_places(places) {}

  void add(const std::string& pointer, const std::string& message) {
    TextPlace at = place_of(m_places, pointer);
    m_lines.emplace(at.line, m_lines.size(), place(at) + ": " + message);
  }
  std::string place(const std::string& pointer) const { return place(place_of(m_places, pointer)); }
  std::string place(TextPlace at) const {
    return at.line == 0 ? m_file : fmt::format("{}:{}", m_file, at.line);
  }
  void throw_if_any() const {
    if (m_lines.empty()) {
      return;
    }
    std::string all;
    for (const auto& [line, order, text] : m_lines) {
      all += (all.empty() ? "" : "\n") + text;
    }
    if (m_lines.size() > 1) {
      all += fmt::format("\n{}: {} problems; nothing was submitted", m_file, m_lines.size());
    }
    throw Error(all);
  }

private:
  std::string m_file;
  const std::unordered_map<std::string, TextPlace>& m_places;
  std::set<std::tuple<size_t, size_t, std::string>> m_lines; // by line, then as found
};

std::string did_you_mean(const std::string& word, const std::vector<std::string>& names) {
  std::string near = closest_name(word, names);
  return near.empty() ? "" : fmt::format(" (did you mean \"{}\"?)", near);
}

bool is_step_id(const std::string& id) {
  if (id.empty() || id.size() > 64) {
    return false;
  }
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

// A list of strings, or one string standing for a list of one.
std::optional<std::vector<std::string>> string_list(const Json& value) {
  std::vector<std::string> out;
  if (value.is_string()) {
    out.push_back(value.get<std::string>());
    return out;
  }
  if (!value.is_array()) {
    return std::nullopt;
  }
  for (const auto& v : value) {
    if (!v.is_string()) {
      return std::nullopt;
    }
    out.push_back(v.get<std::string>());
  }
  return out;
}

std::string json_error_text(std::string_view text) {
  try {
    Json ignored = Json::parse(text);
    (void)ignored;
  } catch (const nlohmann::json::exception& e) {
    std::string what = e.what();
    if (auto close = what.find("] ");
        what.rfind("[json.exception", 0) == 0 && close != std::string::npos) {
      what = what.substr(close + 2);
    }
    return what;
  }
  return fmt::format("nested deeper than {} levels", k_max_json_depth);
}

// Reads one step's own fields (references are checked once every id is known).
struct RawStep {
  FlowStep step;
  std::string pointer; // "/steps/3"
  std::vector<FoundRef> refs;
  std::string foreach_where;
  bool valid_id = false;
};

void read_step(const Json& s, RawStep& raw, Problems& p) {
  const std::string& at = raw.pointer;
  FlowStep& step = raw.step;
  auto label = [&] {
    return step.id.empty() ? fmt::format("step {}", at.substr(7)) : "step \"" + step.id + "\"";
  };
  if (auto it = s.find("id"); it == s.end()) {
    p.add(at, fmt::format("{}: no \"id\"", label()));
  } else if (!it->is_string() || !is_step_id(it->get<std::string>())) {
    p.add(at + "/id",
          fmt::format("{}: \"id\" must be a name of letters, digits, '_' and '-' (got {})",
                      label(),
                      dump_line(*it)));
  } else if (it->get<std::string>() == "item" || it->get<std::string>() == "each") {
    p.add(at + "/id",
          fmt::format("step id \"{}\" is reserved for templates", it->get<std::string>()));
  } else {
    step.id = it->get<std::string>();
    raw.valid_id = true;
  }
  step.place = p.place(at);
  for (const auto& [key, value] : s.items()) {
    if (std::find(k_step_keys.begin(), k_step_keys.end(), key) == k_step_keys.end()) {
      p.add(at + "/" + pointer_token(key),
            fmt::format("{}: unknown key \"{}\"{}", label(), key, did_you_mean(key, k_step_keys)));
    }
  }
  if (auto it = s.find("endpoint"); it == s.end()) {
    p.add(at, fmt::format("{}: no \"endpoint\"", label()));
  } else if (!it->is_string() || it->get<std::string>().empty()) {
    p.add(at + "/endpoint", fmt::format("{}: \"endpoint\" must be a non-empty string", label()));
  } else {
    step.endpoint = it->get<std::string>();
  }
  std::vector<TemplateProblem> template_problems;
  if (auto it = s.find("input"); it != s.end()) {
    if (!it->is_object()) {
      p.add(at + "/input",
            fmt::format("{}: \"input\" must be an object of parameters (name: value or list)",
                        label()));
    } else {
      step.input = *it;
      for (auto& ref : template_refs(step.input, template_problems)) {
        ref.where = "/input" + ref.where;
        raw.refs.push_back(std::move(ref));
      }
      for (auto& problem : template_problems) {
        p.add(at + "/input" + problem.where, label() + ": " + problem.message);
      }
    }
  }
  if (auto it = s.find("secure_parameters"); it != s.end()) {
    bool ok = it->is_object() &&
              std::all_of(it->begin(), it->end(), [](const Json& refs) { return refs.is_array(); });
    if (!ok) {
      p.add(at + "/secure_parameters",
            fmt::format("{}: \"secure_parameters\" must be an object of lists", label()));
    } else {
      step.secure = *it;
      template_problems.clear();
      for (auto& ref : template_refs(step.secure, template_problems)) {
        ref.where = "/secure_parameters" + ref.where;
        raw.refs.push_back(std::move(ref));
      }
      for (auto& problem : template_problems) {
        p.add(at + "/secure_parameters" + problem.where, label() + ": " + problem.message);
      }
    }
  }
  if (auto it = s.find("needs"); it != s.end()) {
    if (auto list = string_list(*it)) {
      step.needs = *list;
    } else {
      p.add(at + "/needs", fmt::format("{}: \"needs\" must be a list of step ids", label()));
    }
  }
  if (auto it = s.find("unique"); it != s.end()) {
    if (auto list = string_list(*it)) {
      step.unique = *list;
    } else {
      p.add(at + "/unique",
            fmt::format("{}: \"unique\" must be a list of parameter names", label()));
    }
  }
  if (auto it = s.find("timeout"); it != s.end()) {
    if (!it->is_number() || it->get<double>() <= 0 || it->get<double>() > 7 * 24 * 3600) {
      p.add(at + "/timeout",
            fmt::format(
                "{}: \"timeout\" must be a number of seconds above 0 and at most 604800 (7 days) "
                "(got {})",
                label(),
                dump_line(*it)));
    } else {
      step.timeout =
          std::chrono::milliseconds(static_cast<long long>(std::ceil(it->get<double>() * 1000)));
    }
  }
  if (auto it = s.find("retries"); it != s.end()) {
    if (!it->is_number_integer() || it->get<long long>() < 0 || it->get<long long>() > 100) {
      p.add(at + "/retries",
            fmt::format("{}: \"retries\" must be a whole number from 0 to 100 (got {})",
                        label(),
                        dump_line(*it)));
    } else {
      step.retries = it->get<int>();
    }
  }
  if (auto it = s.find("priority"); it != s.end()) {
    if (!it->is_number_integer() || std::llabs(it->get<long long>()) > 1000000000LL) {
      p.add(
          at + "/priority",
          fmt::format("{}: \"priority\" must be a whole number (got {})", label(), dump_line(*it)));
    } else {
      step.priority = it->get<int>();
    }
  }
  if (auto it = s.find("on_failure"); it != s.end()) {
    if (*it == "stop") {
      step.on_failure = OnFailure::stop;
    } else if (*it == "continue") {
      step.on_failure = OnFailure::continue_;
    } else {
      p.add(at + "/on_failure",
            fmt::format("{}: \"on_failure\" must be \"stop\" or \"continue\" (got {})",
                        label(),
                        dump_line(*it)));
    }
  }
  if (auto it = s.find("foreach"); it != s.end()) {
    std::string text = it->is_string() ? it->get<std::string>() : "";
    if (!it->is_string() || text.empty()) {
      text = "{{each}}"; // refused below with the value shown
    } else if (text.rfind("{{", 0) != 0) {
      text = "{{" + text + "}}";
    }
    try {
      TemplateString t = parse_template(text);
      if (!it->is_string() || !t.is_single_ref() ||
          t.parts[0].ref->source == TemplateRef::Source::each) {
        throw TemplateError(fmt::format(
            "must name a list: \"STEP:/pointer\" or \"item:/pointer\" (got {})", dump_line(*it)));
      }
      step.foreach = *t.parts[0].ref;
      raw.foreach_where = at + "/foreach";
    } catch (const TemplateError& e) {
      p.add(at + "/foreach", fmt::format("{}: foreach: {}", label(), e.what()));
    }
  }
  if (auto it = s.find("description"); it != s.end() && !it->is_string()) {
    p.add(at + "/description", fmt::format("{}: \"description\" must be a string", label()));
  }
}

} // namespace

size_t Flow::index_of(std::string_view id) const {
  for (size_t i = 0; i < steps.size(); ++i) {
    if (steps[i].id == id) {
      return i;
    }
  }
  return steps.size();
}

const std::vector<std::string>& when_status_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> list;
    for (Status s : k_line_statuses) {
      list.emplace_back(to_text(s));
    }
    list.emplace_back(status::skipped);
    list.emplace_back("any");
    return list;
  }();
  return names;
}

bool when_matches(const std::string& wanted, const std::string& status) {
  if (wanted == "any") {
    return true;
  }
  if (wanted == status::failed) { // any failure, not only the status "failed"
    return status != status::success && status != status::skipped;
  }
  return wanted == status;
}

Flow parse_flow(std::string_view text, const std::string& file_name) {
  Json doc = parse_json(text);
  if (doc.is_discarded()) {
    // nlohmann says "parse error at line 3, column 33: ...": FILE:3:33: like every problem.
    std::string what = json_error_text(text);
    size_t line = 0;
    size_t column = 0;
    int used = 0;
    if (auto at = what.find(" at line ");
        at != std::string::npos &&
        std::sscanf(what.c_str() + at, " at line %zu, column %zu: %n", &line, &column, &used) ==
            2 &&
        used > 0) {
      throw Error(
          fmt::format("{}:{}:{}: not JSON: {}", file_name, line, column, what.substr(at + used)));
    }
    throw Error(fmt::format("{}: not JSON: {}", file_name, what));
  }
  auto places = json_places(text);
  Problems p(file_name, places);
  Flow flow;
  if (!doc.is_object()) {
    p.add("", "a flow is a JSON object with \"steps\": a list of steps");
    p.throw_if_any();
  }
  for (const auto& [key, value] : doc.items()) {
    if (std::find(k_top_keys.begin(), k_top_keys.end(), key) == k_top_keys.end()) {
      p.add("/" + pointer_token(key),
            fmt::format("unknown key \"{}\"{}", key, did_you_mean(key, k_top_keys)));
    }
  }
  for (const char* key : {"name", "description"}) {
    if (auto it = doc.find(key); it != doc.end()) {
      if (!it->is_string()) {
        p.add(std::string("/") + key, fmt::format("\"{}\" must be a string", key));
      } else {
        (std::string_view(key) == "name" ? flow.name : flow.description) = it->get<std::string>();
      }
    }
  }
  auto steps_it = doc.find("steps");
  if (steps_it == doc.end() || !steps_it->is_array() || steps_it->empty()) {
    p.add(steps_it == doc.end() ? "" : "/steps", "\"steps\" must be a non-empty list of steps");
    p.throw_if_any();
  }

  std::vector<RawStep> raws;
  std::map<std::string, size_t> ids;
  for (size_t i = 0; i < steps_it->size(); ++i) {
    const Json& s = (*steps_it)[i];
    RawStep raw;
    raw.pointer = "/steps/" + std::to_string(i);
    if (!s.is_object()) {
      p.add(raw.pointer,
            fmt::format("step {}: a step is an object with \"id\" and \"endpoint\"", i));
      raws.push_back(std::move(raw));
      continue;
    }
    read_step(s, raw, p);
    if (raw.valid_id) {
      if (auto [it, fresh] = ids.emplace(raw.step.id, i); !fresh) {
        p.add(raw.pointer + "/id",
              fmt::format("step \"{}\": the id is already used by the step at {}",
                          raw.step.id,
                          raws[it->second].step.place));
        raw.valid_id = false;
      }
    }
    raws.push_back(std::move(raw));
  }
  std::vector<std::string> id_names;
  for (const auto& [id, index] : ids) {
    id_names.push_back(id);
  }

  // References: every step named must exist, and not be the step itself.
  for (size_t i = 0; i < raws.size(); ++i) {
    RawStep& raw = raws[i];
    FlowStep& step = raw.step;
    std::string label = raw.valid_id ? "step \"" + step.id + "\"" : fmt::format("step {}", i);
    std::set<size_t> deps;
    auto depend = [&](const std::string& id, const std::string& where, const std::string& what) {
      auto it = ids.find(id);
      if (it == ids.end()) {
        p.add(where,
              fmt::format(
                  "{}: {}: unknown step \"{}\"{}", label, what, id, did_you_mean(id, id_names)));
        return false;
      }
      if (it->second == i) {
        p.add(where, fmt::format("{}: {}: a step cannot depend on itself", label, what));
        return false;
      }
      deps.insert(it->second);
      return true;
    };
    for (size_t n = 0; n < step.needs.size(); ++n) {
      depend(step.needs[n], raw.pointer + "/needs/" + std::to_string(n), "needs");
    }
    for (const auto& found : raw.refs) {
      const std::string where = raw.pointer + found.where;
      if (found.ref.source == TemplateRef::Source::each && !step.foreach) {
        p.add(where,
              fmt::format("{}: {}: {{{{each}}}} is the element of a foreach step, and this step "
                          "has no \"foreach\"",
                          label,
                          found.ref.text));
      } else if (found.ref.source == TemplateRef::Source::step && !ids.count(found.ref.step)) {
        // Neither item, each nor a step: an unknown template name.
        std::vector<std::string> names = id_names;
        names.push_back("item");
        names.push_back("each");
        p.add(where,
              fmt::format("{}: {}: unknown name \"{}\": a template names item, each or a step "
                          "id{}",
                          label,
                          found.ref.text,
                          found.ref.step,
                          did_you_mean(found.ref.step, names)));
      } else if (found.ref.source == TemplateRef::Source::step && found.ref.dotted) {
        p.add(where,
              fmt::format("{}: {}: a step's result is reached by JSON Pointer: {{{{{}:{}}}}}",
                          label,
                          found.ref.text,
                          found.ref.step,
                          found.ref.pointer.to_string()));
      } else if (found.ref.source == TemplateRef::Source::step) {
        depend(found.ref.step, where, found.ref.text);
      }
    }
    if (step.foreach && step.foreach->source == TemplateRef::Source::step) {
      depend(step.foreach->step, raw.foreach_where, "foreach");
    }
    const Json& s = (*steps_it)[i];
    if (auto it = s.is_object() ? s.find("when") : s.end(); s.is_object() && it != s.end()) {
      const std::string at = raw.pointer + "/when";
      if (!it->is_object() || it->empty()) {
        p.add(at,
              fmt::format("{}: \"when\" must be an object of step id: status (or list of "
                          "statuses), e.g. {{\"login\": \"success\"}}",
                          label));
      } else {
        std::vector<FlowStep::Condition> conditions;
        for (const auto& [id, wanted] : it->items()) {
          const std::string where = at + "/" + pointer_token(id);
          auto statuses = string_list(wanted);
          if (!statuses || statuses->empty()) {
            p.add(
                where,
                fmt::format("{}: when: \"{}\" must be a status or a list of statuses", label, id));
            continue;
          }
          for (const auto& status : *statuses) {
            const auto& known = when_status_names();
            if (std::find(known.begin(), known.end(), status) == known.end()) {
              p.add(where,
                    fmt::format("{}: when: unknown status \"{}\"{} (one of {})",
                                label,
                                status,
                                did_you_mean(status, known),
                                fmt::join(known, ", ")));
            }
          }
          if (depend(id, where, "when")) {
            conditions.push_back({ids.at(id), *statuses});
          }
        }
        step.when = std::move(conditions);
      }
    }
    step.deps.assign(deps.begin(), deps.end());
  }

  for (auto& raw : raws) {
    flow.steps.push_back(std::move(raw.step));
  }
  // Cycles: depth-first search, each cycle reported once at its first step.
  const size_t n = flow.steps.size();
  std::vector<int> state(n, 0); // 0 new, 1 on the path, 2 done
  std::vector<size_t> path;
  std::function<void(size_t)> visit = [&](size_t v) {
    state[v] = 1;
    path.push_back(v);
    for (size_t d : flow.steps[v].deps) {
      if (state[d] == 1) {
        auto from = std::find(path.begin(), path.end(), d);
        std::vector<std::string> names;
        for (auto it = from; it != path.end(); ++it) {
          names.push_back(flow.steps[*it].id);
        }
        names.push_back(flow.steps[d].id);
        std::reverse(names.begin(), names.end()); // in the order steps wait for each other
        p.add("/steps/" + std::to_string(d),
              fmt::format("steps wait for each other in a cycle: {}", fmt::join(names, " -> ")));
      } else if (state[d] == 0) {
        visit(d);
      }
    }
    path.pop_back();
    state[v] = 2;
  };
  for (size_t v = 0; v < n; ++v) {
    if (state[v] == 0) {
      visit(v);
    }
  }
  p.throw_if_any();

  // A stable order: the first step (in file order) whose dependencies are all placed.
  std::vector<bool> placed(n, false);
  while (flow.order.size() < n) {
    for (size_t v = 0; v < n; ++v) {
      if (!placed[v] && std::all_of(flow.steps[v].deps.begin(),
                                    flow.steps[v].deps.end(),
                                    [&](size_t d) { return placed[d]; })) {
        placed[v] = true;
        flow.order.push_back(v);
        break;
      }
    }
  }
  if (flow.name.empty()) {
    std::string base = file_name.substr(file_name.find_last_of('/') + 1);
    size_t from = base.find_first_not_of('.');
    flow.name = from == std::string::npos ? base : base.substr(0, base.find('.', from));
  }
  return flow;
}

Flow load_flow(const std::string& path) {
  return parse_flow(read_file(path, "flow"), path);
}

} // namespace core

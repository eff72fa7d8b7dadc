#include "emulator/script.h"

#include "core/error.h"
#include "core/json_places.h"
#include "core/names.h"
#include "core/template.h"
#include "core/text.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace emulator {

namespace {

// An hour: far above any automation a test waits for, and well inside an int.
constexpr int64_t k_max_delay_ms = 3'600'000;
// Value indexes beyond this are surely typos, and stay far from size_t overflow.
constexpr size_t k_max_index_digits = 6;

const std::vector<std::string> k_top_keys = {"description", "endpoints", "default"};
const std::vector<std::string> k_entry_keys = {"description",
                                               "delay_ms",
                                               "jitter_ms",
                                               "fail_rate",
                                               "kill_rate",
                                               "drop_callback_rate",
                                               "duplicate_rate",
                                               "error",
                                               "output_data"};

// --- templates ----------------------------------------------------------------------------------

// One `{{...}}`: hash:NAME[INDEX], each part optional but the name.
struct Expr {
  bool hash = false;
  std::string name;
  std::optional<size_t> index;
};

// Placeholders allow spaces and tabs around what they hold.
std::string_view trim(std::string_view s) {
  return core::trim(s, " \t");
}

// The expression inside `{{` `}}`, or a problem (returned through `problem`).
std::optional<Expr> parse_expr(std::string_view inner, std::string& problem) {
  std::string_view text = trim(inner);
  std::string shown = fmt::format("{{{{{}}}}}", inner);
  if (text.empty()) {
    problem = fmt::format("empty template \"{}\"", shown);
    return std::nullopt;
  }
  Expr expr;
  if (size_t colon = text.find(':'); colon != std::string_view::npos) {
    std::string_view function = trim(text.substr(0, colon));
    if (function != "hash") {
      problem =
          fmt::format("unknown function \"{}\" in \"{}\" (the only one is hash:)", function, shown);
      return std::nullopt;
    }
    expr.hash = true;
    text = trim(text.substr(colon + 1));
  }
  if (!text.empty() && text.back() == ']') {
    size_t open = text.rfind('[');
    std::string_view digits =
        open == std::string_view::npos ? std::string_view{} : text.substr(open + 1);
    digits.remove_suffix(digits.empty() ? 0 : 1);
    digits = trim(digits);
    bool numeric =
        !digits.empty() && digits.size() <= k_max_index_digits &&
        std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!numeric) {
      problem = fmt::format("bad index in \"{}\" (expected NAME[0], NAME[1], ...)", shown);
      return std::nullopt;
    }
    expr.index = std::stoul(std::string(digits));
    text = trim(text.substr(0, open));
  }
  if (text.empty() || text.find_first_of("{}[]:") != std::string_view::npos) {
    problem = fmt::format("bad parameter name in \"{}\"", shown);
    return std::nullopt;
  }
  expr.name = std::string(text);
  return expr;
}

// The script's language for the engine: a "}}" before any "{{" is refused, and every
// expression must read (parse_expr).
const core::TemplateSyntax& script_syntax() {
  static const core::TemplateSyntax syntax = [] {
    core::TemplateSyntax s;
    s.stray_close_is_error = true;
    s.check = [](const core::Placeholder& p) {
      std::string problem;
      if (!parse_expr(p.inner, problem)) {
        throw core::TemplateError(problem);
      }
    };
    return s;
  }();
  return syntax;
}

// The problem of the template `text` the engine refused (of Kind::syntax or ::expression).
std::string problem_text(const core::TemplateError& e, std::string_view text) {
  switch (e.syntax) {
  case core::TemplateError::Syntax::unclosed:
    return fmt::format("unclosed \"{{{{\" in \"{}\"", text);
  case core::TemplateError::Syntax::stray_close:
    return fmt::format("\"}}}}\" without \"{{{{\" in \"{}\"", text);
  case core::TemplateError::Syntax::none:
    break;
  }
  return e.what();
}

std::string value_text(const core::Json& v) {
  return v.is_string() ? v.get<std::string>() : core::dump_line(v);
}

// The text an expression stands for; throws core::TemplateError saying what is missing.
std::string resolve(const Expr& expr, const TemplateInputs& inputs) {
  std::string value;
  if (!expr.index && expr.name == "endpoint") {
    value = inputs.endpoint;
  } else if (!expr.index && expr.name == "task_id") {
    value = inputs.task_id;
  } else {
    size_t index = expr.index.value_or(0);
    auto it = inputs.params.is_object() ? inputs.params.find(expr.name) : inputs.params.end();
    if (it == inputs.params.end() || !it->is_array()) {
      throw core::TemplateError(fmt::format("input parameter \"{}\" is missing", expr.name));
    }
    if (index >= it->size()) {
      throw core::TemplateError(fmt::format(
          "input parameter \"{}\" has no value [{}] (it has {})", expr.name, index, it->size()));
    }
    value = value_text((*it)[index]);
  }
  return expr.hash ? stable_hash8(value) : value;
}

// --- validation ---------------------------------------------------------------------------------

// Collects every problem of one script, each naming the file and the JSON Pointer.
class Validator {
public:
  explicit Validator(std::string name) : m_name(std::move(name)) {}

  void problem(const std::string& at, const std::string& what) {
    m_problems.push_back(fmt::format("{}: {}: {}", m_name, at.empty() ? "top level" : at, what));
  }

  void unknown_key(const std::string& at,
                   const std::string& key,
                   const std::vector<std::string>& known) {
    std::string best = core::closest_name(key, known);
    std::string list;
    for (const std::string& k : known) {
      list += (list.empty() ? "" : ", ") + k;
    }
    problem(at,
            best.empty() ? fmt::format("unknown key \"{}\" (expected one of {})", key, list)
                         : fmt::format("unknown key \"{}\"; did you mean \"{}\"?", key, best));
  }

  std::optional<int> delay(const core::Json& v, const std::string& at) {
    if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > k_max_delay_ms) {
      problem(at,
              fmt::format("expected a whole number of milliseconds from 0 to {}, got {}",
                          k_max_delay_ms,
                          core::dump_line(v)));
      return std::nullopt;
    }
    return static_cast<int>(v.get<int64_t>());
  }

  std::optional<double> rate(const core::Json& v, const std::string& at) {
    if (!v.is_number() || v.get<double>() < 0 || v.get<double>() > 1) {
      problem(at, fmt::format("expected a share from 0 to 1, got {}", core::dump_line(v)));
      return std::nullopt;
    }
    return v.get<double>();
  }

  // Every string must be a valid template; keys are never filled, so a template there is a
  // mistake worth naming.
  void templates(const core::Json& v, const std::string& at) {
    if (v.is_string()) {
      if (std::string p = template_problem(v.get_ref<const std::string&>()); !p.empty()) {
        problem(at, p);
      }
    } else if (v.is_array()) {
      for (size_t i = 0; i < v.size(); ++i) {
        templates(v[i], fmt::format("{}/{}", at, i));
      }
    } else if (v.is_object()) {
      for (const auto& [key, item] : v.items()) {
        std::string item_at = fmt::format("{}/{}", at, core::pointer_token(key));
        if (key.find("{{") != std::string::npos || key.find("}}") != std::string::npos) {
          problem(item_at, fmt::format("templates are not filled in object keys: \"{}\"", key));
        }
        templates(item, item_at);
      }
    }
  }

  ScriptEndpoint entry(const core::Json& v, const std::string& at) {
    ScriptEndpoint e;
    if (!v.is_object()) {
      problem(at, fmt::format("expected an object, got {}", v.type_name()));
      return e;
    }
    for (const auto& [key, item] : v.items()) {
      std::string item_at = fmt::format("{}/{}", at, core::pointer_token(key));
      if (key == "description") {
        if (!item.is_string()) {
          problem(item_at, fmt::format("expected a string, got {}", item.type_name()));
        }
      } else if (key == "delay_ms") {
        e.delay_ms = delay(item, item_at);
      } else if (key == "jitter_ms") {
        e.jitter_ms = delay(item, item_at);
      } else if (key == "fail_rate") {
        e.fail_rate = rate(item, item_at);
      } else if (key == "kill_rate") {
        e.kill_rate = rate(item, item_at);
      } else if (key == "drop_callback_rate") {
        e.drop_callback_rate = rate(item, item_at);
      } else if (key == "duplicate_rate") {
        e.duplicate_rate = rate(item, item_at);
      } else if (key == "error") {
        if (!item.is_string()) {
          problem(item_at, fmt::format("expected a string, got {}", item.type_name()));
        } else {
          templates(item, item_at);
          e.error = item.get<std::string>();
        }
      } else if (key == "output_data") {
        if (!item.is_array()) {
          problem(item_at,
                  fmt::format("expected an array (the callback's output_data), got {}",
                              item.type_name()));
        } else {
          templates(item, item_at);
          e.output_data = item;
        }
      } else {
        unknown_key(item_at, key, k_entry_keys);
      }
    }
    return e;
  }

  Script script(const core::Json& doc) {
    Script s;
    if (!doc.is_object()) {
      problem("", fmt::format("expected an object with \"endpoints\", got {}", doc.type_name()));
      return s;
    }
    for (const auto& [key, item] : doc.items()) {
      std::string at = "/" + core::pointer_token(key);
      if (key == "description") {
        if (!item.is_string()) {
          problem(at, fmt::format("expected a string, got {}", item.type_name()));
        }
      } else if (key == "endpoints") {
        if (!item.is_object()) {
          problem(
              at,
              fmt::format("expected an object (endpoint name -> entry), got {}", item.type_name()));
          continue;
        }
        for (const auto& [endpoint, entry_json] : item.items()) {
          std::string entry_at = fmt::format("{}/{}", at, core::pointer_token(endpoint));
          if (endpoint.empty()) {
            problem(entry_at, "an endpoint name cannot be empty");
          }
          s.endpoints[endpoint] = entry(entry_json, entry_at);
        }
      } else if (key == "default") {
        s.fallback = entry(item, at);
      } else {
        unknown_key(at, key, k_top_keys);
      }
    }
    if (m_problems.empty() && s.endpoints.empty() && !s.fallback) {
      problem("", "no \"endpoints\" and no \"default\": every endpoint would be 404");
    }
    return s;
  }

  void check() const {
    if (!m_problems.empty()) {
      std::string all;
      for (const std::string& p : m_problems) {
        all += (all.empty() ? "" : "\n") + p;
      }
      throw core::Error(all);
    }
  }

private:
  std::string m_name;
  std::vector<std::string> m_problems;
};

// "NAME:LINE:COLUMN: not valid JSON: <nlohmann's reason>", the position counted here so the
// message does not depend on the library version's wording.
[[noreturn]] void throw_parse_error(std::string_view text,
                                    const std::string& name,
                                    const core::Json::parse_error& e) {
  size_t end = std::min(e.byte == 0 ? 0 : e.byte - 1, text.size());
  size_t line = 1 + std::count(text.begin(), text.begin() + end, '\n');
  size_t line_start = text.rfind('\n', end == 0 ? 0 : end - 1);
  size_t column = line_start == std::string_view::npos || end == 0 ? end + 1 : end - line_start;
  std::string reason = e.what();
  // "[json.exception.parse_error.101] parse error at line 3, column 5: syntax error ..."
  if (size_t p = reason.find("parse error"); p != std::string::npos) {
    if (size_t colon = reason.find(": ", p); colon != std::string::npos) {
      reason = reason.substr(colon + 2);
    }
  }
  throw core::Error(fmt::format("{}:{}:{}: not valid JSON: {}", name, line, column, reason));
}

} // namespace

const ScriptEndpoint* Script::find(const std::string& endpoint) const {
  if (auto it = endpoints.find(endpoint); it != endpoints.end()) {
    return &it->second;
  }
  return fallback ? &*fallback : nullptr;
}

Script parse_script(std::string_view text, const std::string& name) {
  core::Json doc;
  try {
    doc = core::Json::parse(text);
  } catch (const core::Json::parse_error& e) {
    throw_parse_error(text, name, e);
  }
  Validator v(name);
  Script s = v.script(doc);
  v.check();
  return s;
}

Script load_script(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw core::Error(fmt::format("cannot read {}: is a directory", path));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw core::Error(fmt::format("cannot open {}: {}", path, std::strerror(errno)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    throw core::Error(fmt::format("{}: read error: {}", path, std::strerror(errno)));
  }
  return parse_script(text.str(), path);
}

std::string template_problem(std::string_view text) {
  try {
    core::check_template(text, script_syntax());
  } catch (const core::TemplateError& e) {
    return problem_text(e, text);
  }
  return {};
}

Filled
fill_templates(const core::Json& value, const TemplateInputs& inputs, const std::string& at) {
  core::TemplateRender how;
  how.syntax = script_syntax(); // untyped: every filled string stays a string
  try {
    return {core::render_template_json(
                value,
                [&inputs](const core::Placeholder& p) -> core::Json {
                  std::string problem;
                  // The check has read every expression already.
                  return resolve(*parse_expr(p.inner, problem), inputs);
                },
                how),
            {}};
  } catch (const core::TemplateError& e) {
    std::string where = at + e.where;
    if (e.kind == core::TemplateError::Kind::resolve) {
      return {core::Json(),
              fmt::format("{} (needed by \"{}\" at {})", e.what(), e.placeholder, where)};
    }
    const core::Json& text = value.at(core::Json::json_pointer(e.where));
    return {core::Json(),
            fmt::format("{} at {}", problem_text(e, text.get_ref<const std::string&>()), where)};
  }
}

std::string stable_hash8(std::string_view text) {
  // FNV-1a: stable across runs and platforms, unlike std::hash.
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return fmt::format("{:08x}", h & 0xffffffffull);
}

} // namespace emulator

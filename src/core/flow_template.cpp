#include "core/flow_template.h"

#include "core/json_places.h"
#include "core/names.h"

#include <fmt/format.h>

namespace core {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

Json::json_pointer make_pointer(std::string_view text, std::string_view expr) {
  try {
    return Json::json_pointer(std::string(text));
  } catch (const nlohmann::json::exception&) {
    throw TemplateError(fmt::format(
        "{{{{{}}}}}: \"{}\" is not a JSON Pointer (it starts with '/'; write ~0 for '~' and ~1 for "
        "'/')",
        expr,
        text));
  }
}

TemplateRef parse_ref(std::string_view expr) {
  TemplateRef ref;
  ref.text = fmt::format("{{{{{}}}}}", expr);
  if (expr.empty()) {
    throw TemplateError("{{}}: an empty reference (write {{item.NAME}}, {{each}} or "
                        "{{STEP:/pointer}})");
  }
  // NAME, NAME.FIELD or NAME:/POINTER
  size_t cut = expr.find_first_of(".:");
  std::string_view name = expr.substr(0, cut);
  std::string_view rest = cut == std::string_view::npos ? std::string_view() : expr.substr(cut);
  ref.source = name == "item"   ? TemplateRef::Source::item
               : name == "each" ? TemplateRef::Source::each
                                : TemplateRef::Source::step;
  if (ref.source == TemplateRef::Source::step) {
    if (name.empty()) {
      throw TemplateError(fmt::format("{}: no step id before '{}'", ref.text, rest.substr(0, 1)));
    }
    ref.step = std::string(name);
  }
  if (rest.empty()) {
    return ref;
  }
  if (rest.front() == '.') {
    std::string_view field = rest.substr(1);
    if (field.empty()) {
      throw TemplateError(fmt::format("{}: no field name after '.'", ref.text));
    }
    // For a step this is a mistake (its result is reached by JSON Pointer); the flow's
    // validation says so once it knows whether NAME is a step at all.
    ref.dotted = true;
    ref.pointer = Json::json_pointer("/" + pointer_token(field));
    return ref;
  }
  ref.pointer = make_pointer(rest.substr(1), expr);
  return ref;
}

// The text a value takes inside a longer string.
std::string as_text(const Json& value) {
  if (value.is_string()) {
    return value.get<std::string>();
  }
  if (value.is_array() && value.size() == 1 && !value[0].is_structured()) {
    return as_text(value[0]);
  }
  return dump_line(value);
}

// With keep_unresolved: a reference to a step without a result, or to the element outside a
// foreach, stays as written.
bool unresolved(const TemplateRef& ref, const TemplateScope& scope) {
  if (!scope.keep_unresolved) {
    return false;
  }
  return (ref.source == TemplateRef::Source::step && (!scope.result || !scope.result(ref.step))) ||
         (ref.source == TemplateRef::Source::each && !scope.each) ||
         (ref.source == TemplateRef::Source::item && !scope.item);
}

Json render_string(const std::string& text, const TemplateScope& scope, bool* single) {
  TemplateString t = parse_template(text);
  *single = false;
  if (!t.has_refs()) {
    return text;
  }
  if (t.is_single_ref()) {
    if (unresolved(*t.parts[0].ref, scope)) {
      return text;
    }
    *single = true;
    const Json& value = resolve_ref(*t.parts[0].ref, scope);
    if (scope.unwrap_single_lists && value.is_array() && value.size() == 1 &&
        !value[0].is_structured()) {
      return value[0];
    }
    return value;
  }
  std::string out;
  for (const auto& part : t.parts) {
    out += part.literal;
    if (part.ref) {
      if (unresolved(*part.ref, scope)) {
        out += part.ref->text;
      } else {
        out += as_text(resolve_ref(*part.ref, scope));
      }
    }
  }
  return out;
}

Json render_value(const Json& tmpl, const TemplateScope& scope) {
  if (tmpl.is_string()) {
    bool single = false;
    return render_string(tmpl.get<std::string>(), scope, &single);
  }
  if (tmpl.is_object()) {
    Json out = Json::object();
    for (const auto& [key, value] : tmpl.items()) {
      out[key] = render_value(value, scope);
    }
    return out;
  }
  if (tmpl.is_array()) {
    Json out = Json::array();
    for (const auto& element : tmpl) {
      if (element.is_string()) {
        bool single = false;
        Json value = render_string(element.get<std::string>(), scope, &single);
        if (single && value.is_array()) {
          for (auto& inner : value) {
            out.push_back(std::move(inner));
          }
          continue;
        }
        out.push_back(std::move(value));
      } else {
        out.push_back(render_value(element, scope));
      }
    }
    return out;
  }
  return tmpl;
}

void collect_refs(const Json& tmpl,
                  const std::string& where,
                  std::vector<FoundRef>& out,
                  std::vector<TemplateProblem>& problems) {
  if (tmpl.is_string()) {
    TemplateString t;
    try {
      t = parse_template(tmpl.get<std::string>());
    } catch (const TemplateError& e) {
      problems.push_back({where, e.what()});
      return;
    }
    for (auto& part : t.parts) {
      if (part.ref) {
        out.push_back(FoundRef{std::move(*part.ref), where});
      }
    }
  } else if (tmpl.is_object()) {
    for (const auto& [key, value] : tmpl.items()) {
      collect_refs(value, where + "/" + pointer_token(key), out, problems);
    }
  } else if (tmpl.is_array()) {
    for (size_t i = 0; i < tmpl.size(); ++i) {
      collect_refs(tmpl[i], where + "/" + std::to_string(i), out, problems);
    }
  }
}

} // namespace

bool TemplateString::has_refs() const {
  for (const auto& part : parts) {
    if (part.ref) {
      return true;
    }
  }
  return false;
}

TemplateString parse_template(std::string_view text) {
  TemplateString out;
  std::string literal;
  size_t i = 0;
  while (i < text.size()) {
    size_t open = text.find("{{", i);
    if (open == std::string_view::npos) {
      literal += text.substr(i);
      break;
    }
    literal += text.substr(i, open - i);
    size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) {
      throw TemplateError(fmt::format("\"{}\": '{{{{' without its '}}}}'", text.substr(open, 40)));
    }
    TemplateRef ref = parse_ref(trim(text.substr(open + 2, close - open - 2)));
    out.parts.push_back({std::move(literal), std::move(ref)});
    literal.clear();
    i = close + 2;
  }
  if (!literal.empty() || out.parts.empty()) {
    out.parts.push_back({std::move(literal), std::nullopt});
  }
  return out;
}

std::vector<FoundRef> template_refs(const Json& tmpl, std::vector<TemplateProblem>& problems) {
  std::vector<FoundRef> out;
  collect_refs(tmpl, "", out, problems);
  return out;
}

const Json& resolve_ref(const TemplateRef& ref, const TemplateScope& scope) {
  const Json* base = nullptr;
  std::string whose;
  switch (ref.source) {
  case TemplateRef::Source::item:
    base = scope.item;
    whose = "the item";
    break;
  case TemplateRef::Source::each:
    base = scope.each;
    whose = "the foreach element";
    break;
  case TemplateRef::Source::step:
    if (ref.dotted) {
      throw TemplateError(fmt::format("{}: a step's result is reached by JSON Pointer: "
                                      "{{{{{}:{}}}}}",
                                      ref.text,
                                      ref.step,
                                      ref.pointer.to_string()));
    }
    base = scope.result ? scope.result(ref.step) : nullptr;
    if (!base) {
      throw TemplateError(fmt::format("{}: step \"{}\" has no result", ref.text, ref.step));
    }
    whose = fmt::format("the result of step \"{}\"", ref.step);
    break;
  }
  if (!base) {
    throw TemplateError(fmt::format("{}: there is no {}", ref.text, whose.substr(4)));
  }
  if (ref.pointer.empty()) {
    return *base;
  }
  if (!base->contains(ref.pointer)) {
    std::string hint;
    if (ref.source == TemplateRef::Source::item && base->is_object() &&
        ref.pointer.parent_pointer().empty()) {
      std::vector<std::string> names;
      for (const auto& [key, value] : base->items()) {
        names.push_back(key);
      }
      if (std::string near = closest_name(ref.pointer.back(), names); !near.empty()) {
        hint = fmt::format(" (did you mean \"{}\"?)", near);
      }
    }
    throw TemplateError(
        fmt::format("{}: {} has nothing at {}{}", ref.text, whose, ref.pointer.to_string(), hint));
  }
  return base->at(ref.pointer);
}

Json render_template(const Json& tmpl, const TemplateScope& scope) {
  return render_value(tmpl, scope);
}

Json to_input_parameters(const Json& rendered) {
  if (!rendered.is_object()) {
    throw TemplateError("the input is not an object of parameters");
  }
  auto element = [](const Json& v) -> Json { return v.is_structured() ? Json(dump_line(v)) : v; };
  Json out = Json::object();
  for (const auto& [name, value] : rendered.items()) {
    Json list = Json::array();
    if (value.is_array()) {
      for (const auto& v : value) {
        if (!v.is_null()) {
          list.push_back(element(v));
        }
      }
    } else if (!value.is_null()) {
      list.push_back(element(value));
    }
    out[name] = std::move(list);
  }
  return out;
}

} // namespace core

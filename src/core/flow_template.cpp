#include "core/flow_template.h"

#include "core/json_places.h"
#include "core/names.h"

#include <fmt/format.h>

namespace core {

namespace {

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
  for (const TemplatePart& part : scan_template(text)) {
    out.parts.push_back(
        {std::string(part.literal),
         part.placeholder ? std::optional(parse_ref(part.placeholder->expr)) : std::nullopt});
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
  TemplateRender how;
  // Every reference of a string is read before any is resolved.
  how.syntax.check = [](const Placeholder& p) { parse_ref(p.expr); };
  how.typed = true;
  how.splice_lists = true;
  how.text = as_text;
  return render_template_json(
      tmpl,
      [&scope](const Placeholder& p) -> Json {
        TemplateRef ref = parse_ref(p.expr);
        if (unresolved(ref, scope)) {
          // Kept as written: a lone reference exactly, inside a longer string without its spaces.
          return p.whole ? std::string(p.source) : ref.text;
        }
        const Json& value = resolve_ref(ref, scope);
        if (p.whole && scope.unwrap_single_lists && value.is_array() && value.size() == 1 &&
            !value[0].is_structured()) {
          return value[0];
        }
        return value;
      },
      how);
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

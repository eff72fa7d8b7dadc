#include "core/template.h"

#include "core/json_places.h"
#include "core/text.h"

#include <fmt/format.h>

namespace core {

namespace {

[[noreturn]] void syntax_error(std::string message, TemplateError::Syntax syntax, size_t offset) {
  TemplateError e(message, TemplateError::Kind::syntax);
  e.syntax = syntax;
  e.offset = offset;
  throw e;
}

// Runs `fill` for placeholder `p`; a TemplateError it throws gets `kind` and where `p` is.
template <class Fill>
auto at_placeholder(const Placeholder& p, TemplateError::Kind kind, Fill fill) {
  try {
    return fill();
  } catch (TemplateError& e) {
    e.kind = kind;
    if (!e.offset) {
      e.offset = p.offset;
    }
    if (e.placeholder.empty()) {
      e.placeholder = std::string(p.source);
    }
    throw;
  }
}

// The parts of `text`, every placeholder checked.
std::vector<TemplatePart> checked_parts(std::string_view text, const TemplateSyntax& syntax) {
  std::vector<TemplatePart> parts = scan_template(text, syntax);
  if (syntax.check) {
    for (const TemplatePart& part : parts) {
      if (part.placeholder) {
        at_placeholder(*part.placeholder, TemplateError::Kind::expression, [&] {
          syntax.check(*part.placeholder);
          return 0;
        });
      }
    }
  }
  return parts;
}

std::string default_text(const Json& value) {
  return value.is_string() ? value.get<std::string>() : dump_line(value);
}

// One string; `*whole` tells whether it was exactly one placeholder, filled (typed).
Json render_string(std::string_view text,
                   const TemplateResolver& resolve,
                   const TemplateRender& how,
                   bool* whole) {
  *whole = false;
  std::vector<TemplatePart> parts = checked_parts(text, how.syntax);
  if (parts.size() == 1 && !parts[0].placeholder) {
    return std::string(text);
  }
  if (how.typed && parts[0].placeholder && parts[0].placeholder->whole) {
    *whole = true;
    const Placeholder& p = *parts[0].placeholder;
    return at_placeholder(p, TemplateError::Kind::resolve, [&] { return resolve(p); });
  }
  std::string out;
  for (const TemplatePart& part : parts) {
    out += part.literal;
    if (part.placeholder) {
      const Placeholder& p = *part.placeholder;
      Json value = at_placeholder(p, TemplateError::Kind::resolve, [&] { return resolve(p); });
      out += how.text ? how.text(value) : default_text(value);
    }
  }
  return out;
}

Json render_at(const Json& tmpl,
               const TemplateResolver& resolve,
               const TemplateRender& how,
               const std::string& where,
               bool* whole) {
  *whole = false;
  if (tmpl.is_string()) {
    try {
      return render_string(tmpl.get_ref<const std::string&>(), resolve, how, whole);
    } catch (TemplateError& e) {
      e.where = where;
      throw;
    }
  }
  if (tmpl.is_object()) {
    Json out = Json::object();
    for (const auto& [key, value] : tmpl.items()) {
      bool inner = false;
      out[key] = render_at(value, resolve, how, where + "/" + pointer_token(key), &inner);
    }
    return out;
  }
  if (tmpl.is_array()) {
    Json out = Json::array();
    for (size_t i = 0; i < tmpl.size(); ++i) {
      bool inner = false;
      Json value = render_at(tmpl[i], resolve, how, where + "/" + std::to_string(i), &inner);
      if (inner && how.splice_lists && value.is_array()) {
        for (auto& element : value) {
          out.push_back(std::move(element));
        }
      } else {
        out.push_back(std::move(value));
      }
    }
    return out;
  }
  return tmpl;
}

} // namespace

std::vector<TemplatePart> scan_template(std::string_view text, const TemplateSyntax& syntax) {
  std::vector<TemplatePart> parts;
  size_t pos = 0;
  size_t literal_start = 0;
  while (pos < text.size()) {
    size_t open = text.find("{{", pos);
    if (syntax.stray_close_is_error) {
      if (size_t close = text.find("}}", pos); close < open) {
        syntax_error(fmt::format("\"{}\": '}}}}' without its '{{{{'", text.substr(0, close + 2)),
                     TemplateError::Syntax::stray_close,
                     close);
      }
    }
    if (open == std::string_view::npos) {
      break;
    }
    size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) {
      syntax_error(fmt::format("\"{}\": '{{{{' without its '}}}}'", text.substr(open, 40)),
                   TemplateError::Syntax::unclosed,
                   open);
    }
    Placeholder p;
    p.source = text.substr(open, close + 2 - open);
    p.inner = text.substr(open + 2, close - open - 2);
    p.expr = trim(p.inner, " \t");
    p.offset = open;
    p.whole = open == 0 && close + 2 == text.size();
    parts.push_back({text.substr(literal_start, open - literal_start), p});
    pos = literal_start = close + 2;
  }
  if (literal_start < text.size() || parts.empty()) {
    parts.push_back({text.substr(literal_start), std::nullopt});
  }
  return parts;
}

void check_template(std::string_view text, const TemplateSyntax& syntax) {
  checked_parts(text, syntax);
}

Json render_template_string(std::string_view text,
                            const TemplateResolver& resolve,
                            const TemplateRender& how) {
  bool whole = false;
  return render_string(text, resolve, how, &whole);
}

Json render_template_json(const Json& tmpl,
                          const TemplateResolver& resolve,
                          const TemplateRender& how) {
  bool whole = false;
  return render_at(tmpl, resolve, how, "", &whole);
}

} // namespace core

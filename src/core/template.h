#pragma once

// The one `{{...}}` template engine: it finds the placeholders of a string and fills a string, or
// every string of a JSON value, through a resolver the caller supplies. It knows no names: what
// a placeholder means is the language's business (the flow templates, core/flow_template.h; the
// emulator's script, emulator/script.h).
//
// A placeholder is `{{`, then anything up to the first `}}` after it, then `}}`; its expression
// is what is between the braces without the spaces and tabs around it. There is no escape: a
// literal "{{" cannot appear in a template.

#include "core/json.h"

#include <cstddef>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace core {

// A template that cannot be read, or a placeholder that cannot be filled. what() is the message
// as the language words it; the engine adds where it happened (it never changes the message).
class TemplateError : public std::runtime_error {
public:
  enum class Kind {
    syntax,     // scanning: a "{{" without its "}}" (or, if refused, a "}}" before any "{{")
    expression, // TemplateSyntax::check refused a placeholder's expression
    resolve,    // the resolver could not fill a placeholder
  };
  enum class Syntax { none, unclosed, stray_close };

  using std::runtime_error::runtime_error;
  TemplateError(const std::string& message, Kind of) : std::runtime_error(message), kind(of) {}

  Kind kind = Kind::resolve;
  Syntax syntax = Syntax::none; // Kind::syntax: which problem
  std::string where;            // JSON Pointer of the string within the rendered value ("" top)
  std::optional<size_t> offset; // in that string: the placeholder's "{{" (or the stray "}}")
  std::string placeholder;      // the placeholder as written, braces included, when known
};

// One `{{...}}` of a string.
struct Placeholder {
  std::string_view source; // as written, braces included
  std::string_view inner;  // between the braces, as written
  std::string_view expr;   // `inner` without the spaces and tabs around it
  size_t offset = 0;       // of its "{{" in the string
  bool whole = false;      // the string is exactly this placeholder
};

// A string cut at its placeholders: literal text (maybe empty) before each placeholder, and a last
// part with only text when the string does not end with a placeholder (or has none at all: a
// string without placeholders is one part, even when empty).
struct TemplatePart {
  std::string_view literal;
  std::optional<Placeholder> placeholder;
};

// How a language's templates read.
struct TemplateSyntax {
  // A "}}" before any "{{" is an error (else it is literal text).
  bool stray_close_is_error = false;
  // Checks one placeholder's expression; throws TemplateError (its message) to refuse it. Called
  // for every placeholder of a string before any of them is resolved.
  std::function<void(const Placeholder&)> check;
};

// Cuts `text` at its placeholders (the parts view `text`). Throws TemplateError of Kind::syntax
// with its offset: "\"{{abc...\": '{{' without its '}}'" (40 characters from the "{{") or
// "\"abc}}...\": '}}' without its '{{'" (from the start of the string). Does not call `check`.
std::vector<TemplatePart> scan_template(std::string_view text, const TemplateSyntax& syntax = {});

// Scans `text` and checks each placeholder with `syntax.check`: the first problem is thrown
// (TemplateError of Kind::syntax or Kind::expression, with its offset and placeholder).
void check_template(std::string_view text, const TemplateSyntax& syntax);

// What a placeholder stands for; throws TemplateError (its message) when it cannot be filled.
using TemplateResolver = std::function<Json(const Placeholder&)>;

struct TemplateRender {
  TemplateSyntax syntax;
  // A string that is exactly one placeholder becomes the resolved value itself, whatever its
  // type; else every string stays a string.
  bool typed = false;
  // With `typed`, such a value that is a list, inside a list, is spliced into it.
  bool splice_lists = false;
  // The text of a value inside a longer string; unset: a string as is, anything else as compact
  // JSON.
  std::function<std::string(const Json&)> text;
};

// Fills one string: a string without placeholders is returned as is.
Json render_template_string(std::string_view text,
                            const TemplateResolver& resolve,
                            const TemplateRender& how);

// Fills every string of `tmpl` (values, not object keys); other values are kept. The first
// failure is thrown, with `where` (the string's JSON Pointer within `tmpl`), `offset` and
// `placeholder` set.
Json render_template_json(const Json& tmpl,
                          const TemplateResolver& resolve,
                          const TemplateRender& how);

} // namespace core

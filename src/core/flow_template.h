#pragma once

#include "core/json.h"
#include "core/template.h" // TemplateError: a template that cannot be read, or a reference
                           // that cannot be resolved (the message names the reference)

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace core {

// One {{...}} reference of a flow template.
struct TemplateRef {
  enum class Source {
    item, // {{item.NAME}}, {{item:/pointer}}, {{item}}: the flow's input item
    each, // {{each}}, {{each.NAME}}, {{each:/pointer}}: the element of a foreach step
    step, // {{ID:/pointer}}, {{ID}}: a finished step's result (its callback payload)
  };
  Source source = Source::item;
  std::string step;           // Source::step: the step id
  Json::json_pointer pointer; // into the item, the element or the result ("" is all of it)
  std::string text;           // as written, with the braces: for messages
  bool dotted = false;        // written NAME.FIELD (a step's result needs NAME:/FIELD)
};

// A template string split at its references: literal text and references alternate.
struct TemplateString {
  struct Part {
    std::string literal;
    std::optional<TemplateRef> ref;
  };
  std::vector<Part> parts;
  // The string is exactly one reference (its value replaces the string, keeping its type).
  bool is_single_ref() const {
    return parts.size() == 1 && parts[0].ref.has_value() && parts[0].literal.empty();
  }
  bool has_refs() const;
};

// Splits `text` at {{...}}. Inside the braces, spaces around the expression are ignored;
// `item` and `each` are the item and the foreach element; any other name is a step id.
// Throws TemplateError for an unclosed "{{", an empty expression, or a bad JSON Pointer. The
// placeholders are found by core/template.h (scan_template), which render_template fills through.
TemplateString parse_template(std::string_view text);

// Every reference in the strings of `tmpl` (values only, not keys), with the JSON Pointer of the
// string that holds it (relative to `tmpl`). A string that is not a template adds a problem.
struct FoundRef {
  TemplateRef ref;
  std::string where; // pointer to the string within the template
};
struct TemplateProblem {
  std::string where;
  std::string message;
};
std::vector<FoundRef> template_refs(const Json& tmpl, std::vector<TemplateProblem>& problems);

// What references resolve against.
struct TemplateScope {
  const Json* item = nullptr;
  const Json* each = nullptr; // set in a foreach step
  // The result of a finished step, or nullptr when it has none.
  std::function<const Json*(const std::string& step)> result;
  // Leave references to steps without a result, and to the element when there is none, as
  // written (for --plan) instead of failing.
  bool keep_unresolved = false;
  // A string that is exactly one reference to a one-element list of a scalar gets the scalar
  // (secure_parameters hold strings, where input_parameters hold lists).
  bool unwrap_single_lists = false;
};

// Resolves one reference; throws TemplateError naming it when it does not resolve.
const Json& resolve_ref(const TemplateRef& ref, const TemplateScope& scope);

// Fills every string of `tmpl`: a string that is exactly one reference becomes the referenced
// value (any JSON type); inside a list, such a value that is itself a list is spliced in;
// otherwise each reference is replaced by its text (a string as is, a one-element list by its
// element, anything else as compact JSON). Throws TemplateError.
Json render_template(const Json& tmpl, const TemplateScope& scope);

// Optexity's input_parameters from a rendered `input`: every value becomes a list of strings,
// numbers and booleans (the types the service accepts): a scalar s gives [s], null gives [], and
// an object or a nested list becomes its compact JSON text. Throws TemplateError when `rendered`
// is not an object.
Json to_input_parameters(const Json& rendered);

} // namespace core

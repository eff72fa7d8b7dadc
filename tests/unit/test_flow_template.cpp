#include "core/flow_template.h"
#include "core/template.h"

#include <doctest/doctest.h>

#include <map>
#include <stdexcept>
#include <string>

TEST_SUITE_BEGIN("flow_template");

using core::Json;
using core::TemplateError;
using core::TemplateRef;
using Source = core::TemplateRef::Source;

namespace {
// A scope over an item, an optional foreach element and some step results.
struct Scope {
  Json item;
  std::optional<Json> each;
  std::map<std::string, Json> results;
  bool keep_unresolved = false;

  core::TemplateScope get() const {
    core::TemplateScope s;
    s.item = &item;
    s.each = each ? &*each : nullptr;
    s.result = [this](const std::string& step) -> const Json* {
      auto it = results.find(step);
      return it == results.end() ? nullptr : &it->second;
    };
    s.keep_unresolved = keep_unresolved;
    return s;
  }
  Json render(const Json& tmpl) const { return core::render_template(tmpl, get()); }
};

Json login_result() {
  return Json::parse(
      R"({"status":"success","output_data":[{"json_data":{"account":"ACC-7","ids":[1,2]}}]})");
}
} // namespace

// --- parse_template ---------------------------------------------------------------------------

TEST_CASE("flow_template::parse_template keeps a string without references as one literal") {
  auto t = core::parse_template("plain text { not } a ref");
  REQUIRE(t.parts.size() == 1);
  CHECK(t.parts[0].literal == "plain text { not } a ref");
  CHECK_FALSE(t.parts[0].ref.has_value());
  CHECK_FALSE(t.has_refs());
  CHECK_FALSE(t.is_single_ref());

  auto empty = core::parse_template("");
  REQUIRE(empty.parts.size() == 1);
  CHECK(empty.parts[0].literal.empty());
  CHECK_FALSE(empty.has_refs());
}

TEST_CASE("flow_template::parse_template splits literals and several references") {
  auto t = core::parse_template("Dear {{item.name}}, account {{login:/output_data/0}}!");
  REQUIRE(t.parts.size() == 3);
  CHECK(t.parts[0].literal == "Dear ");
  REQUIRE(t.parts[0].ref);
  CHECK(t.parts[0].ref->source == Source::item);
  CHECK(t.parts[0].ref->pointer.to_string() == "/name");
  CHECK(t.parts[0].ref->text == "{{item.name}}");
  CHECK(t.parts[1].literal == ", account ");
  REQUIRE(t.parts[1].ref);
  CHECK(t.parts[1].ref->source == Source::step);
  CHECK(t.parts[1].ref->step == "login");
  CHECK(t.parts[1].ref->pointer.to_string() == "/output_data/0");
  CHECK(t.parts[2].literal == "!");
  CHECK_FALSE(t.parts[2].ref);
  CHECK(t.has_refs());
  CHECK_FALSE(t.is_single_ref());
}

TEST_CASE("flow_template::parse_template reads every reference form") {
  auto one = [](const std::string& text) {
    auto t = core::parse_template(text);
    REQUIRE(t.is_single_ref());
    CHECK(t.parts[0].literal.empty());
    return *t.parts[0].ref;
  };
  SUBCASE("item") {
    auto r = one("{{item}}");
    CHECK(r.source == Source::item);
    CHECK(r.pointer.empty());
    CHECK(r.step.empty());
  }
  SUBCASE("item pointer") {
    auto r = one("{{item:/a/0/b~1c}}");
    CHECK(r.source == Source::item);
    CHECK(r.pointer.to_string() == "/a/0/b~1c");
  }
  SUBCASE("item field with a slash is one key") {
    auto r = one("{{item.a/b}}");
    CHECK(r.pointer.to_string() == "/a~1b");
  }
  SUBCASE("each") {
    auto r = one("{{each}}");
    CHECK(r.source == Source::each);
    CHECK(r.pointer.empty());
  }
  SUBCASE("each field") {
    auto r = one("{{each.name}}");
    CHECK(r.source == Source::each);
    CHECK(r.pointer.to_string() == "/name");
  }
  SUBCASE("a whole step result") {
    auto r = one("{{login}}");
    CHECK(r.source == Source::step);
    CHECK(r.step == "login");
    CHECK(r.pointer.empty());
  }
  SUBCASE("spaces inside the braces are ignored") {
    auto r = one("{{  login:/x \t}}");
    CHECK(r.source == Source::step);
    CHECK(r.step == "login");
    CHECK(r.pointer.to_string() == "/x");
    CHECK(r.text == "{{login:/x}}");
  }
}

TEST_CASE("flow_template::parse_template errors") {
  CHECK_THROWS_WITH_AS(core::parse_template("hello {{item.name"),
                       doctest::Contains("'{{' without its '}}'"),
                       TemplateError);
  CHECK_THROWS_WITH_AS(
      core::parse_template("hello {{item.name"), doctest::Contains("{{item.name"), TemplateError);
  CHECK_THROWS_WITH_AS(
      core::parse_template("a {{}} b"), doctest::Contains("empty reference"), TemplateError);
  CHECK_THROWS_WITH_AS(
      core::parse_template("{{   }}"), doctest::Contains("empty reference"), TemplateError);
  CHECK_THROWS_WITH_AS(core::parse_template("{{login:x}}"),
                       doctest::Contains("\"x\" is not a JSON Pointer"),
                       TemplateError);
  CHECK_THROWS_WITH_AS(core::parse_template("{{item:/a~2}}"),
                       doctest::Contains("is not a JSON Pointer"),
                       TemplateError);
  CHECK_THROWS_WITH_AS(core::parse_template("{{item.}}"),
                       doctest::Contains("no field name after '.'"),
                       TemplateError);
  CHECK_THROWS_WITH_AS(
      core::parse_template("{{:/x}}"), doctest::Contains("no step id"), TemplateError);
}

TEST_CASE("flow_template::{{step.field}} parses, and resolving it suggests {{step:/field}}") {
  auto t = core::parse_template("{{login.account}}");
  REQUIRE(t.is_single_ref());
  const TemplateRef& ref = *t.parts[0].ref;
  CHECK(ref.source == Source::step);
  CHECK(ref.step == "login");
  CHECK(ref.dotted);
  CHECK(ref.pointer.to_string() == "/account");
  CHECK_FALSE(core::parse_template("{{login:/account}}").parts[0].ref->dotted);

  Scope s;
  s.results["login"] = login_result();
  CHECK_THROWS_WITH_AS(s.render("{{login.account}}"),
                       doctest::Contains("{{login.account}}: a step's result is reached by JSON "
                                         "Pointer: {{login:/account}}"),
                       TemplateError);
  // A field with a '/' is escaped in the suggestion.
  CHECK_THROWS_WITH_AS(
      s.render("{{login.a/b}}"), doctest::Contains("{{login:/a~1b}}"), TemplateError);
}

// --- render_template / resolve_ref ------------------------------------------------------------

TEST_CASE("flow_template::{{item.email}} where the item's value is a list") {
  Scope s;
  s.item = Json::parse(R"({"email":["a@x"],"name":"Ann"})");
  SUBCASE("a whole string gives the list itself") {
    CHECK(s.render(Json::parse(R"({"to":"{{item.email}}"})")).dump() == R"({"to":["a@x"]})");
  }
  SUBCASE("inside a list it is spliced in") {
    CHECK(s.render(Json::parse(R"({"to":["{{item.email}}"]})")).dump() == R"({"to":["a@x"]})");
    CHECK(s.render(Json::parse(R"({"to":["z@x","{{item.email}}","{{item.name}}"]})")).dump() ==
          R"({"to":["z@x","a@x","Ann"]})");
  }
  SUBCASE("inside a longer string a one-element list is its element") {
    CHECK(s.render(Json::parse(R"({"greet":"{{item.email}}, hi"})")).dump() ==
          R"({"greet":"a@x, hi"})");
    CHECK(s.render(Json::parse(R"({"greet":"hi {{item.email}}!"})")).dump() ==
          R"({"greet":"hi a@x!"})");
  }
}

// Text before a lone reference belongs to the string, not to the reference.
TEST_CASE("flow_template::text before a lone reference is kept") {
  CHECK_FALSE(core::parse_template("hi {{item.email}}").is_single_ref());
  CHECK(core::parse_template("{{item.email}}").is_single_ref());
  Scope s;
  s.item = Json::parse(R"({"email":["a@x"],"n":42,"b":true,"l":["a","b"],"o":{"k":1},"nul":null})");
  s.each = Json("e-1");
  s.results["login"] = login_result();
  CHECK(s.render(Json::parse(R"({"greet":"hi {{item.email}}"})")).dump() ==
        R"({"greet":"hi a@x"})");
  CHECK(s.render(Json::parse(R"(["to: {{item.email}}"])")).dump() == R"(["to: a@x"])");
  CHECK(s.render("n={{item.n}}") == "n=42");
  CHECK(s.render("b={{item.b}}") == "b=true");
  CHECK(s.render("l={{item.l}}") == R"(l=["a","b"])");
  CHECK(s.render("o={{item.o}}") == R"(o={"k":1})");
  CHECK(s.render("x={{item.nul}}") == "x=null");
  CHECK(s.render("id {{each}}") == "id e-1");
  CHECK(s.render("acct {{login:/output_data/0/json_data/account}}") == "acct ACC-7");
}

TEST_CASE("flow_template::values inside a longer string") {
  Scope s;
  s.item = Json::parse(R"({"n":42,"b":true,"l":["a","b"],"o":{"k":1},"nul":null,"s":"t"})");
  CHECK(s.render("{{item.n}}=n") == "42=n");
  CHECK(s.render("{{item.b}} b") == "true b");
  CHECK(s.render("{{item.l}}.") == R"(["a","b"].)");
  CHECK(s.render("{{item.o}}.") == R"({"k":1}.)");
  CHECK(s.render("{{item.nul}}.") == "null.");
  CHECK(s.render("{{item.s}}{{item.s}}") == "tt");
  CHECK(s.render("a{{item.s}}b{{item.n}}c") == "atb42c");
  CHECK(s.render("[{{ item.s }}]") == "[t]");
}

TEST_CASE("flow_template::a whole-string reference keeps the value's type") {
  Scope s;
  s.item = Json::parse(R"({"n":42,"o":{"k":[1,2]},"nul":null})");
  CHECK(s.render("{{item.n}}") == Json(42));
  CHECK(s.render("{{item.o}}").dump() == R"({"k":[1,2]})");
  CHECK(s.render("{{item.nul}}").is_null());
  CHECK(s.render("{{item}}").dump() == s.item.dump());
  // A non-list value in a list is an element, not spliced.
  CHECK(s.render(Json::parse(R"(["{{item.n}}","{{item.o}}"])")).dump() == R"([42,{"k":[1,2]}])");
  // Non-strings pass through, nested containers are rendered.
  CHECK(s.render(Json::parse(R"({"a":1,"b":[true,null,{"c":"{{item.n}}"}],"{{item.n}}":2})"))
            .dump() == R"({"a":1,"b":[true,null,{"c":42}],"{{item.n}}":2})");
}

TEST_CASE("flow_template::{{item:/pointer}}, {{each}} and {{each.name}}") {
  Scope s;
  s.item = Json::parse(R"({"users":[{"id":"u1"},{"id":"u2"}],"a/b":"slash"})");
  s.each = Json::parse(R"({"name":"Bob","tags":["x","y"]})");
  CHECK(s.render("{{item:/users/1/id}}") == "u2");
  CHECK(s.render("{{item:/a~1b}}") == "slash");
  CHECK(s.render("{{each.name}}") == "Bob");
  CHECK(s.render("{{each:/tags/1}}") == "y");
  CHECK(s.render("{{each}}").dump() == R"({"name":"Bob","tags":["x","y"]})");
  CHECK(s.render(Json::parse(R"(["{{each.tags}}"])")).dump() == R"(["x","y"])");

  Scope scalar;
  scalar.each = Json("e-1");
  CHECK(scalar.render("{{each}} id") == "e-1 id");
}

TEST_CASE("flow_template::a step result through scope.result") {
  Scope s;
  s.results["login"] = login_result();
  CHECK(s.render("{{login:/output_data/0/json_data/account}}") == "ACC-7");
  CHECK(s.render("{{login:/output_data/0/json_data/account}} acct") == "ACC-7 acct");
  CHECK(s.render(Json::parse(R"(["{{login:/output_data/0/json_data/ids}}"])")).dump() == "[1,2]");
  CHECK(s.render("{{login}}").dump() == login_result().dump());

  // resolve_ref returns a reference into the result itself.
  auto t = core::parse_template("{{login:/output_data/0/json_data/account}}");
  auto scope = s.get();
  const Json& v = core::resolve_ref(*t.parts[0].ref, scope);
  CHECK(&v == &s.results.at("login")["output_data"][0]["json_data"]["account"]);
}

TEST_CASE("flow_template::a missing item field names the reference and suggests a close name") {
  Scope s;
  s.item = Json::parse(R"({"email":"a@x","name":"Ann"})");
  CHECK_THROWS_WITH_AS(s.render("{{item.emial}}"),
                       doctest::Contains("{{item.emial}}: the item has nothing at /emial"),
                       TemplateError);
  CHECK_THROWS_WITH_AS(
      s.render("{{item.emial}}"), doctest::Contains("did you mean \"email\"?"), TemplateError);
  // Nothing close: no suggestion.
  try {
    s.render("hello {{item.zzzzzz}}");
    FAIL("no throw");
  } catch (const TemplateError& e) {
    CHECK(std::string(e.what()).find("{{item.zzzzzz}}") != std::string::npos);
    CHECK(std::string(e.what()).find("did you mean") == std::string::npos);
  }
  // Deeper pointers name the pointer.
  CHECK_THROWS_WITH_AS(
      s.render("{{item:/name/0}}"), doctest::Contains("nothing at /name/0"), TemplateError);
}

TEST_CASE("flow_template::a missing step result, element or item") {
  Scope s;
  s.results["login"] = login_result();
  CHECK_THROWS_WITH_AS(s.render("{{orders:/x}}"),
                       doctest::Contains("{{orders:/x}}: step \"orders\" has no result"),
                       TemplateError);
  CHECK_THROWS_WITH_AS(s.render("{{login:/output_data/3}}"),
                       doctest::Contains("the result of step \"login\" has nothing at "
                                         "/output_data/3"),
                       TemplateError);
  CHECK_THROWS_WITH_AS(
      s.render("{{each.name}}"), doctest::Contains("there is no foreach element"), TemplateError);

  core::TemplateScope empty; // no item, no result function
  auto item_ref = core::parse_template("{{item.a}}").parts[0].ref;
  CHECK_THROWS_WITH_AS(
      core::resolve_ref(*item_ref, empty), doctest::Contains("there is no item"), TemplateError);
  auto step_ref = core::parse_template("{{a:/x}}").parts[0].ref;
  CHECK_THROWS_WITH_AS(
      core::resolve_ref(*step_ref, empty), doctest::Contains("has no result"), TemplateError);
}

TEST_CASE("flow_template::keep_unresolved leaves step references verbatim (for --plan)") {
  Scope s;
  s.item = Json::parse(R"({"email":["a@x"]})");
  s.results["login"] = login_result();
  s.keep_unresolved = true;
  CHECK(s.render("{{orders:/x}}") == "{{orders:/x}}");
  CHECK(s.render("n {{ orders:/x }} {{item.email}}") == "n {{orders:/x}} a@x");
  CHECK(s.render(Json::parse(R"(["{{orders:/x}}","{{item.email}}"])")).dump() ==
        R"(["{{orders:/x}}","a@x"])");
  // A step that has a result is still filled in.
  CHECK(s.render("{{login:/output_data/0/json_data/account}}") == "ACC-7");
  // Item references are never kept: a missing field is still an error.
  CHECK_THROWS_AS(s.render("{{item.nope}}"), TemplateError);
  // A step that has a result but not the pointer is an error too.
  CHECK_THROWS_AS(s.render("{{login:/nope}}"), TemplateError);
}

TEST_CASE("flow_template::keep_unresolved without a result function or an element") {
  Json item = Json::parse(R"({"a":"x"})");
  core::TemplateScope scope;
  scope.item = &item;
  scope.keep_unresolved = true; // no scope.result at all, no element
  CHECK(core::render_template(Json("{{login:/t}}"), scope) == "{{login:/t}}");
  CHECK(core::render_template(Json("{{item.a}}-{{login:/t}}"), scope) == "x-{{login:/t}}");
  CHECK(core::render_template(Json("{{each.k}}"), scope) == "{{each.k}}");
  // Without keep_unresolved the same is an error.
  scope.keep_unresolved = false;
  CHECK_THROWS_WITH_AS(core::render_template(Json("{{login:/t}}"), scope),
                       doctest::Contains("step \"login\" has no result"),
                       TemplateError);
}

TEST_CASE("flow_template::unwrap_single_lists gives a lone reference's one scalar") {
  Json item = Json::parse(R"({"user":["u1"],"two":["a","b"],"objs":[{"k":1}],"s":"plain"})");
  core::TemplateScope scope;
  scope.item = &item;
  scope.unwrap_single_lists = true;
  auto render = [&](const char* tmpl) {
    return core::render_template(Json::parse(tmpl), scope).dump();
  };
  CHECK(render(R"({"u":"{{item.user}}"})") == R"({"u":"u1"})");
  CHECK(render(R"({"u":"{{item.two}}"})") == R"({"u":["a","b"]})");  // two: kept
  CHECK(render(R"({"u":"{{item.objs}}"})") == R"({"u":[{"k":1}]})"); // not a scalar: kept
  CHECK(render(R"({"u":"{{item.s}}"})") == R"({"u":"plain"})");
  CHECK(render(R"({"u":["{{item.user}}","z"]})") == R"({"u":["u1","z"]})");
  // Off (the default), the list stays a list.
  scope.unwrap_single_lists = false;
  CHECK(render(R"({"u":"{{item.user}}"})") == R"({"u":["u1"]})");
}

// --- to_input_parameters ----------------------------------------------------------------------

TEST_CASE("flow_template::to_input_parameters") {
  SUBCASE("each value type") {
    auto p = core::to_input_parameters(Json::parse(
        R"({"s":"x","n":3,"f":1.5,"b":false,"nul":null,"o":{"k":"v"},"l":["a",2,null,[1,2],{"z":1}]})"));
    CHECK(p.dump() == R"({"s":["x"],"n":[3],"f":[1.5],"b":[false],"nul":[],"o":["{\"k\":\"v\"}"],)"
                      R"("l":["a",2,"[1,2]","{\"z\":1}"]})");
    CHECK(p["n"][0].is_number_integer());
  }
  SUBCASE("an empty object and an empty list") {
    CHECK(core::to_input_parameters(Json::object()).dump() == "{}");
    CHECK(core::to_input_parameters(Json::parse(R"({"l":[]})")).dump() == R"({"l":[]})");
  }
  SUBCASE("keeps the parameters' order") {
    CHECK(core::to_input_parameters(Json::parse(R"({"z":1,"a":2})")).dump() ==
          R"({"z":[1],"a":[2]})");
  }
  SUBCASE("not an object") {
    CHECK_THROWS_WITH_AS(core::to_input_parameters(Json::array()),
                         doctest::Contains("not an object"),
                         TemplateError);
    CHECK_THROWS_AS(core::to_input_parameters(Json("x")), TemplateError);
    CHECK_THROWS_AS(core::to_input_parameters(Json()), TemplateError);
  }
}

// --- template_refs ----------------------------------------------------------------------------

TEST_CASE("flow_template::template_refs collects references with their pointer") {
  std::vector<core::TemplateProblem> problems;
  auto refs = core::template_refs(
      Json::parse(R"({"a":["x","{{item.b}} and {{each}}"],"c":{"d/e":"{{s:/p}}"},"n":5,)"
                  R"("{{k:/ey}}":"keys are not templates"})"),
      problems);
  CHECK(problems.empty());
  REQUIRE(refs.size() == 3);
  CHECK(refs[0].where == "/a/1");
  CHECK(refs[0].ref.source == Source::item);
  CHECK(refs[0].ref.pointer.to_string() == "/b");
  CHECK(refs[1].where == "/a/1");
  CHECK(refs[1].ref.source == Source::each);
  CHECK(refs[2].where == "/c/d~1e");
  CHECK(refs[2].ref.source == Source::step);
  CHECK(refs[2].ref.step == "s");
  CHECK(refs[2].ref.pointer.to_string() == "/p");
}

TEST_CASE("flow_template::template_refs on a lone string and on no references") {
  std::vector<core::TemplateProblem> problems;
  auto refs = core::template_refs(Json("{{a}}"), problems);
  REQUIRE(refs.size() == 1);
  CHECK(refs[0].where.empty());
  CHECK(refs[0].ref.step == "a");
  CHECK(core::template_refs(Json::parse(R"({"a":[1,true,null,"x"]})"), problems).empty());
  CHECK(problems.empty());
}

TEST_CASE("flow_template::template_refs reports a problem per bad string and goes on") {
  std::vector<core::TemplateProblem> problems;
  auto refs = core::template_refs(
      Json::parse(
          R"({"a":"{{item.x","b":["{{}}","{{ok:/y}}"],"c":"{{login:z}}","d":"{{login.z}}"})"),
      problems);
  REQUIRE(refs.size() == 2);
  CHECK(refs[0].where == "/b/1");
  CHECK(refs[0].ref.step == "ok");
  CHECK(refs[1].where == "/d"); // a dotted step reference is collected: the flow judges it
  CHECK(refs[1].ref.dotted);
  REQUIRE(problems.size() == 3);
  CHECK(problems[0].where == "/a");
  CHECK(problems[0].message.find("without its") != std::string::npos);
  CHECK(problems[1].where == "/b/0");
  CHECK(problems[1].message.find("empty reference") != std::string::npos);
  CHECK(problems[2].where == "/c");
  CHECK(problems[2].message.find("\"z\" is not a JSON Pointer") != std::string::npos);
}

// --- the shared engine (core/template.h) ------------------------------------------------------

TEST_SUITE_BEGIN("template");

namespace {
// The expression of every placeholder, in order; literals as "'text'".
std::string scanned(std::string_view text, const core::TemplateSyntax& syntax = {}) {
  std::string out;
  for (const auto& part : core::scan_template(text, syntax)) {
    out += "'" + std::string(part.literal) + "'";
    if (part.placeholder) {
      out += "<" + std::string(part.placeholder->expr) + ">";
    }
  }
  return out;
}

// The TemplateError `f` throws (a default one with the message "none" when it throws nothing).
template <class F>
core::TemplateError error_of(F f) {
  try {
    f();
  } catch (const core::TemplateError& e) {
    return e;
  }
  return core::TemplateError("none");
}

// A resolver over a map of names; "fail" and unknown names throw.
core::TemplateResolver from(const Json& names) {
  return [names](const core::Placeholder& p) -> Json {
    std::string name(p.expr);
    if (!names.contains(name)) {
      throw TemplateError("no " + name);
    }
    return names.at(name);
  };
}
} // namespace

TEST_CASE("template::scan_template cuts literals and placeholders") {
  CHECK(scanned("") == "''");
  CHECK(scanned("plain { text } }") == "'plain { text } }'");
  CHECK(scanned("{{a}}") == "''<a>");
  CHECK(scanned("x{{ a }}y{{b\t}}") == "'x'<a>'y'<b>");
  CHECK(scanned("{{a}}{{b}}") == "''<a>''<b>");
  CHECK(scanned("{{  }}") == "''<>");

  auto parts = core::scan_template("ab{{ c }}");
  REQUIRE(parts.size() == 1);
  REQUIRE(parts[0].placeholder);
  const core::Placeholder& p = *parts[0].placeholder;
  CHECK(p.source == "{{ c }}");
  CHECK(p.inner == " c ");
  CHECK(p.expr == "c");
  CHECK(p.offset == 2);
  CHECK_FALSE(p.whole);
  CHECK(core::scan_template("{{ c }}")[0].placeholder->whole);
  CHECK_FALSE(core::scan_template("{{c}} ")[0].placeholder->whole);
}

TEST_CASE("template::nested braces: a placeholder ends at the first }} after its {{") {
  CHECK(scanned("{{{a}}}") == "''<{a>'}'");
  CHECK(scanned("{{a{{b}}") == "''<a{{b>");
  CHECK(scanned("{{a}b}}") == "''<a}b>");
}

TEST_CASE("template::unterminated {{ and a stray }}, with their offset") {
  auto e = error_of([] { core::scan_template("ab {{x"); });
  CHECK(std::string(e.what()) == "\"{{x\": '{{' without its '}}'");
  CHECK(e.kind == TemplateError::Kind::syntax);
  CHECK(e.syntax == TemplateError::Syntax::unclosed);
  CHECK(e.offset == 3);
  // The message shows 40 characters from the "{{".
  std::string long_text = "{{" + std::string(100, 'x');
  CHECK(std::string(error_of([&] { core::scan_template(long_text); }).what()) ==
        "\"{{" + std::string(38, 'x') + "\": '{{' without its '}}'");
  // After a complete placeholder too.
  CHECK(error_of([] { core::scan_template("{{a}} {{b"); }).offset == 6);

  // A "}}" before any "{{" is text, unless the language refuses it.
  CHECK(scanned("a}} {{b}}") == "'a}} '<b>");
  core::TemplateSyntax strict;
  strict.stray_close_is_error = true;
  auto stray = error_of([&] { core::scan_template("{{a}} b}}", strict); });
  CHECK(stray.syntax == TemplateError::Syntax::stray_close);
  CHECK(stray.offset == 7);
  CHECK(std::string(stray.what()) == "\"{{a}} b}}\": '}}' without its '{{'");
  CHECK(scanned("{{a}}}", strict) == "''<a>'}'");
}

TEST_CASE("template::check refuses an expression before anything is resolved") {
  core::TemplateSyntax syntax;
  syntax.check = [](const core::Placeholder& p) {
    if (p.expr == "bad") {
      throw TemplateError("bad expression");
    }
  };
  CHECK_NOTHROW(core::check_template("{{a}} {{b}}", syntax));
  auto e = error_of([&] { core::check_template("x {{ bad }}", syntax); });
  CHECK(std::string(e.what()) == "bad expression");
  CHECK(e.kind == TemplateError::Kind::expression);
  CHECK(e.offset == 2);
  CHECK(e.placeholder == "{{ bad }}");

  core::TemplateRender how;
  how.syntax = syntax;
  // "missing" would fail to resolve, but the bad expression after it is found first.
  auto first = error_of(
      [&] { core::render_template_string("{{missing}} {{bad}}", from(Json::object()), how); });
  CHECK(first.kind == TemplateError::Kind::expression);
  CHECK(first.offset == 12);
}

TEST_CASE("template::a whole-string placeholder keeps its type only when typed") {
  Json names = Json::parse(R"({"n": 2, "l": [1, 2], "o": {"k": "v"}, "s": "text", "z": null})");
  core::TemplateRender typed;
  typed.typed = true;
  CHECK(core::render_template_string("{{n}}", from(names), typed) == Json(2));
  CHECK(core::render_template_string(" {{ o }}\t", from(names), typed) == " {\"k\":\"v\"}\t");
  CHECK(core::render_template_string("{{ o }}", from(names), typed) == names["o"]);
  CHECK(core::render_template_string("{{z}}", from(names), typed).is_null());
  core::TemplateRender strings;
  CHECK(core::render_template_string("{{n}}", from(names), strings) == Json("2"));
  CHECK(core::render_template_string("{{z}}", from(names), strings) == Json("null"));
  CHECK(core::render_template_string("{{s}}", from(names), strings) == Json("text"));
}

TEST_CASE("template::placeholders inside longer strings, and the text of a value") {
  Json names = Json::parse(R"({"n": 2, "l": [1, 2], "one": ["x"], "s": "text"})");
  core::TemplateRender how;
  CHECK(core::render_template_string("<{{s}}|{{n}}|{{l}}|{{one}}>", from(names), how) ==
        R"(<text|2|[1,2]|["x"]>)");
  CHECK(core::render_template_string("no placeholder }}", from(names), how) == "no placeholder }}");
  how.text = [](const Json& v) { return v.is_array() ? std::string("LIST") : v.dump(); };
  CHECK(core::render_template_string("{{l}} {{s}}", from(names), how) == "LIST \"text\"");
}

TEST_CASE("template::render_template_json fills values, not keys, and splices lists") {
  Json names = Json::parse(R"({"n": 2, "l": [1, 2]})");
  Json tmpl = Json::parse(R"({"{{n}}": ["{{l}}", "{{n}}", "x{{l}}", 5], "b": true})");
  core::TemplateRender how;
  how.typed = true;
  CHECK(core::render_template_json(tmpl, from(names), how).dump() ==
        R"({"{{n}}":[[1,2],2,"x[1,2]",5],"b":true})");
  how.splice_lists = true;
  CHECK(core::render_template_json(tmpl, from(names), how).dump() ==
        R"({"{{n}}":[1,2,2,"x[1,2]",5],"b":true})");
  // Only a whole-string list is spliced; the top level is never spliced.
  CHECK(core::render_template_json(Json("{{l}}"), from(names), how).dump() == "[1,2]");
}

TEST_CASE("template::resolver errors come back with their place") {
  Json names = Json::parse(R"({"a": "A"})");
  core::TemplateRender how;
  Json tmpl = Json::parse(R"({"k/1": [1, {"x": "{{a}} and {{ b }}"}]})");
  auto e = error_of([&] { core::render_template_json(tmpl, from(names), how); });
  CHECK(std::string(e.what()) == "no b"); // the resolver's message, unchanged
  CHECK(e.kind == TemplateError::Kind::resolve);
  CHECK(e.where == "/k~11/1/x");
  CHECK(e.offset == 10);
  CHECK(e.placeholder == "{{ b }}");

  // A syntax error in a nested string has its place too.
  auto s = error_of(
      [&] { core::render_template_json(Json::parse(R"(["ok", "x{{"])"), from(names), how); });
  CHECK(s.kind == TemplateError::Kind::syntax);
  CHECK(s.where == "/1");
  CHECK(s.offset == 1);

  // Other exceptions pass through untouched.
  CHECK_THROWS_AS(
      core::render_template_string(
          "{{a}}", [](const core::Placeholder&) -> Json { throw std::logic_error("boom"); }, how),
      std::logic_error);
}

TEST_SUITE_END();

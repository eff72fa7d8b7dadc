#include "core/error.h"
#include "core/flow.h"

#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

TEST_SUITE_BEGIN("flow");

using core::Flow;
using core::Json;
using namespace std::chrono_literals;

// Checks that `needle` is in `hay`; each is evaluated once (`hay` is often a parse_flow call).
#define CHECK_HAS(hay, needle)                                                                     \
  do {                                                                                             \
    const std::string check_has_hay = (hay);                                                       \
    const std::string check_has_needle = (needle);                                                 \
    CHECK_MESSAGE(check_has_hay.find(check_has_needle) != std::string::npos,                       \
                  "\"" << check_has_needle << "\" not in:\n"                                       \
                       << check_has_hay);                                                          \
  } while (false)

namespace {

// The message of the core::Error parse_flow throws for `text` ("" and a failed check if none).
std::string error_of(const std::string& text, const std::string& file = "f.json") {
  try {
    core::parse_flow(text, file);
  } catch (const core::Error& e) {
    CHECK(e.code() == core::ExitCode::usage);
    return e.what();
  } catch (const std::exception& e) {
    FAIL_CHECK("parse_flow threw something else than core::Error: " << e.what());
    return e.what();
  }
  FAIL_CHECK("parse_flow accepted:\n" << text);
  return "";
}

size_t line_count(const std::string& s) {
  return s.empty() ? 0 : static_cast<size_t>(std::count(s.begin(), s.end(), '\n')) + 1;
}

// An error with exactly one problem: one line, no "N problems" trailer.
std::string one_problem(const std::string& text) {
  std::string e = error_of(text);
  CHECK_MESSAGE(line_count(e) == 1, e);
  CHECK_MESSAGE(e.find("problems; nothing was submitted") == std::string::npos, e);
  return e;
}

// A flow whose step at line 4 is `step` (line 3 is a valid step "login"; `step` may span lines).
std::string with_step(const std::string& step) {
  return "{\n"                                                  // 1
         "  \"steps\": [\n"                                     // 2
         "    {\"id\": \"login\", \"endpoint\": \"/login\"},\n" // 3
         "    " +
         step +
         "\n" // 4
         "  ]\n"
         "}\n";
}

const char* k_valid = R"({
  "description": "sign up, then orders",
  "steps": [
    {"id": "report", "endpoint": "/report", "needs": ["orders"], "when": {"login": "any"}},
    {
      "id": "login",
      "endpoint": "/login",
      "input": {"email": "{{item.email}}", "n": 3},
      "secure_parameters": {"pw": ["{{item.pw}}"]},
      "timeout": 1.5,
      "retries": 2,
      "priority": -3,
      "on_failure": "continue",
      "unique": ["email"],
      "description": "logs in"
    },
    {"id": "orders", "endpoint": "/orders", "foreach": "login:/output_data/0/json_data/ids",
     "input": {"id": "{{each}}"}},
    {"id": "notify", "endpoint": "/notify",
     "input": {"acct": "{{login:/output_data/0/json_data/account}}"}},
    {"id": "cleanup", "endpoint": "/cleanup", "when": {"orders": ["failed", "skipped"]},
     "unique": "id"}
  ]
})";

} // namespace

// --- a valid flow -----------------------------------------------------------------------------

TEST_CASE("flow::parse_flow reads a valid flow") {
  Flow flow = core::parse_flow(k_valid, "dir.d/signup.json");
  CHECK(flow.name == "signup"); // the file name's stem
  CHECK(flow.description == "sign up, then orders");
  REQUIRE(flow.steps.size() == 5);
  CHECK(flow.index_of("report") == 0);
  CHECK(flow.index_of("login") == 1);
  CHECK(flow.index_of("cleanup") == 4);
  CHECK(flow.index_of("nope") == 5);

  const auto& report = flow.steps[0];
  CHECK(report.id == "report");
  CHECK(report.endpoint == "/report");
  CHECK(report.needs == std::vector<std::string>{"orders"});
  CHECK(report.deps == std::vector<size_t>{1, 2}); // orders, and login through `when`
  REQUIRE(report.when);
  REQUIRE(report.when->size() == 1);
  CHECK((*report.when)[0].step == 1);
  CHECK((*report.when)[0].statuses == std::vector<std::string>{"any"});
  CHECK(report.place == "dir.d/signup.json:4");

  const auto& login = flow.steps[1];
  CHECK(login.input.dump() == R"({"email":"{{item.email}}","n":3})");
  CHECK(login.secure.dump() == R"({"pw":["{{item.pw}}"]})");
  CHECK(login.deps.empty());
  REQUIRE(login.timeout);
  CHECK(*login.timeout == 1500ms);
  CHECK(login.retries == 2);
  REQUIRE(login.priority);
  CHECK(*login.priority == -3);
  CHECK(login.on_failure == core::OnFailure::continue_);
  CHECK(login.unique == std::vector<std::string>{"email"});
  CHECK_FALSE(login.when);
  CHECK_FALSE(login.foreach);
  CHECK(login.place == "dir.d/signup.json:5");

  const auto& orders = flow.steps[2];
  REQUIRE(orders.foreach);
  CHECK(orders.foreach->source == core::TemplateRef::Source::step);
  CHECK(orders.foreach->step == "login");
  CHECK(orders.foreach->pointer.to_string() == "/output_data/0/json_data/ids");
  CHECK(orders.deps == std::vector<size_t>{1}); // from the foreach

  const auto& notify = flow.steps[3];
  CHECK(notify.deps == std::vector<size_t>{1}); // from the template
  CHECK(notify.needs.empty());
  // Defaults.
  CHECK(notify.retries == 0);
  CHECK(notify.on_failure == core::OnFailure::stop);
  CHECK_FALSE(notify.timeout);
  CHECK_FALSE(notify.priority);
  CHECK(notify.secure.is_null());
  CHECK(notify.unique.empty());

  const auto& cleanup = flow.steps[4];
  CHECK(cleanup.deps == std::vector<size_t>{2});
  REQUIRE(cleanup.when);
  CHECK((*cleanup.when)[0].statuses == std::vector<std::string>{"failed", "skipped"});
  CHECK(cleanup.unique == std::vector<std::string>{"id"}); // one string is a list of one

  // Every step after those it depends on, file order otherwise.
  CHECK(flow.order == std::vector<size_t>{1, 2, 0, 3, 4});
}

TEST_CASE("flow::parse_flow defaults and small cases") {
  SUBCASE("no input is an empty object; a given name wins over the file name") {
    Flow flow =
        core::parse_flow(R"({"name":"mine","steps":[{"id":"a","endpoint":"/a"}]})", "x/other.json");
    CHECK(flow.name == "mine");
    CHECK(flow.description.empty());
    REQUIRE(flow.steps.size() == 1);
    CHECK(flow.steps[0].input == Json::object());
    CHECK(flow.steps[0].place == "x/other.json:1");
    CHECK(flow.order == std::vector<size_t>{0});
  }
  SUBCASE("the stem drops every extension and the directories") {
    CHECK(core::parse_flow(R"({"steps":[{"id":"a","endpoint":"/a"}]})", "../f/signup.flow.json")
              .name == "signup");
    CHECK(core::parse_flow(R"({"steps":[{"id":"a","endpoint":"/a"}]})", "plain").name == "plain");
  }
  SUBCASE("timeouts round up to whole milliseconds") {
    Flow flow = core::parse_flow(
        R"({"steps":[{"id":"a","endpoint":"/a","timeout":0.0001},{"id":"b","endpoint":"/b","timeout":2}]})",
        "f.json");
    CHECK(*flow.steps[0].timeout == 1ms);
    CHECK(*flow.steps[1].timeout == 2000ms);
  }
  SUBCASE("needs as one string, and deps merged and sorted") {
    Flow flow = core::parse_flow(R"({"steps":[
      {"id":"c","endpoint":"/c","needs":"b","input":{"x":"{{a:/x}}","y":"{{b:/y}}"}},
      {"id":"a","endpoint":"/a"},
      {"id":"b","endpoint":"/b","needs":["a","a"],"on_failure":"stop"}
    ]})",
                                 "f.json");
    CHECK(flow.steps[0].needs == std::vector<std::string>{"b"});
    CHECK(flow.steps[0].deps == std::vector<size_t>{1, 2});
    CHECK(flow.steps[2].deps == std::vector<size_t>{1});
    CHECK(flow.steps[2].on_failure == core::OnFailure::stop);
    CHECK(flow.order == std::vector<size_t>{1, 2, 0});
  }
  SUBCASE("foreach over the item, written with braces") {
    Flow flow = core::parse_flow(
        R"({"steps":[{"id":"a","endpoint":"/a","foreach":"{{item:/list}}","input":{"e":"{{each.k}}"}}]})",
        "f.json");
    REQUIRE(flow.steps[0].foreach);
    CHECK(flow.steps[0].foreach->source == core::TemplateRef::Source::item);
    CHECK(flow.steps[0].foreach->pointer.to_string() == "/list");
    CHECK(flow.steps[0].deps.empty());
  }
}

TEST_CASE("flow::when_matches and when_status_names") {
  const auto& names = core::when_status_names();
  CHECK(std::find(names.begin(), names.end(), "success") != names.end());
  CHECK(std::find(names.begin(), names.end(), "failed") != names.end());
  CHECK(std::find(names.begin(), names.end(), "any") != names.end());
  CHECK(std::find(names.begin(), names.end(), "skipped") != names.end());
  CHECK(core::when_matches("any", "success"));
  CHECK(core::when_matches("any", "skipped"));
  CHECK(core::when_matches("failed", "failed"));
  CHECK(core::when_matches("failed", "timeout"));
  CHECK(core::when_matches("failed", "invalid_input"));
  CHECK_FALSE(core::when_matches("failed", "success"));
  CHECK_FALSE(core::when_matches("failed", "skipped"));
  CHECK(core::when_matches("timeout", "timeout"));
  CHECK_FALSE(core::when_matches("timeout", "killed"));
  CHECK(core::when_matches("skipped", "skipped"));
}

// --- the document -----------------------------------------------------------------------------

TEST_CASE("flow::not JSON gives nlohmann's line and column") {
  std::string e = one_problem("{\n  \"steps\": [\n}");
  // nlohmann's line and column, as the file's place.
  CHECK_HAS(e, "f.json:3:1: not JSON: syntax error while parsing value");
  CHECK_HAS(one_problem("{\"steps\": [],\n  \"x\": tru}"), "f.json:2:");
  CHECK(e.find("[json.exception") == std::string::npos);

  std::string deep = std::string(300, '[') + std::string(300, ']');
  CHECK_HAS(one_problem(deep), "f.json: not JSON: nested deeper than 256 levels");
}

TEST_CASE("flow::the top level must be an object") {
  std::string e = one_problem("\n[1, 2]");
  CHECK_HAS(e, "f.json:2: a flow is a JSON object with \"steps\"");
  CHECK_HAS(one_problem("\"steps\""), "f.json:1: a flow is a JSON object");
}

TEST_CASE("flow::an unknown top-level key, with a suggestion") {
  std::string e = one_problem("{\n  \"steps\": [{\"id\": \"a\", \"endpoint\": \"/a\"}],\n"
                              "  \"nmae\": \"x\"\n}");
  CHECK_HAS(e, "f.json:3: unknown key \"nmae\" (did you mean \"name\"?)");
  CHECK_HAS(one_problem(R"({"steps": [{"id": "a", "endpoint": "/a"}], "zzzzzzzz": 1})"),
            "f.json:1: unknown key \"zzzzzzzz\"");
  CHECK(one_problem(R"({"steps": [{"id": "a", "endpoint": "/a"}], "zzzzzzzz": 1})")
            .find("did you mean") == std::string::npos);
}

TEST_CASE("flow::name and description must be strings") {
  std::string e = error_of("{\n  \"name\": 1,\n  \"description\": [],\n"
                           "  \"steps\": [{\"id\": \"a\", \"endpoint\": \"/a\"}]\n}");
  CHECK_HAS(e, "f.json:2: \"name\" must be a string");
  CHECK_HAS(e, "f.json:3: \"description\" must be a string");
  CHECK_HAS(e, "f.json: 2 problems; nothing was submitted");
}

TEST_CASE("flow::steps missing, empty or not a list") {
  CHECK_HAS(one_problem("{\n  \"name\": \"x\"\n}"),
            "f.json:1: \"steps\" must be a non-empty list of steps");
  CHECK_HAS(one_problem("{\n  \"name\": \"x\",\n  \"steps\": []\n}"),
            "f.json:3: \"steps\" must be a non-empty list of steps");
  CHECK_HAS(one_problem("{\n\n  \"steps\": {\"id\": \"a\"}\n}"),
            "f.json:3: \"steps\" must be a non-empty list");
  // With other problems: all reported.
  std::string e = error_of("{\n  \"stesp\": []\n}");
  CHECK_HAS(e, "f.json:2: unknown key \"stesp\" (did you mean \"steps\"?)");
  CHECK_HAS(e, "f.json:1: \"steps\" must be a non-empty list");
  CHECK_HAS(e, "f.json: 2 problems; nothing was submitted");
}

// --- a step's own fields ----------------------------------------------------------------------

TEST_CASE("flow::a step that is not an object") {
  CHECK_HAS(one_problem(with_step("5")),
            "f.json:4: step 1: a step is an object with \"id\" and \"endpoint\"");
  CHECK_HAS(one_problem(with_step("[\"id\"]")), "f.json:4: step 1: a step is an object");
}

TEST_CASE("flow::a step without an id") {
  CHECK_HAS(one_problem(with_step(R"({"endpoint": "/x"})")), "f.json:4: step 1: no \"id\"");
}

TEST_CASE("flow::a step id with bad characters") {
  CHECK_HAS(one_problem(with_step(R"({"id": "log in", "endpoint": "/x"})")),
            "f.json:4: step 1: \"id\" must be a name of letters, digits, '_' and '-' (got \"log "
            "in\")");
  CHECK_HAS(one_problem(with_step(R"({"id": "a.b", "endpoint": "/x"})")), "(got \"a.b\")");
  CHECK_HAS(one_problem(with_step(R"({"id": "", "endpoint": "/x"})")), "step 1: \"id\" must be");
  CHECK_HAS(one_problem(with_step(R"({"id": 7, "endpoint": "/x"})")), "(got 7)");
  CHECK_HAS(
      one_problem(with_step("{\"id\": \"" + std::string(65, 'a') + "\", \"endpoint\": \"/x\"}")),
      "\"id\" must be a name");
  // 64 characters, '_' and '-' are fine.
  std::string ok = std::string(62, 'a') + "_-";
  CHECK(core::parse_flow(with_step("{\"id\": \"" + ok + "\", \"endpoint\": \"/x\"}"), "f.json")
            .steps[1]
            .id == ok);
}

TEST_CASE("flow::item and each are reserved ids") {
  CHECK_HAS(one_problem(with_step(R"({"id": "item", "endpoint": "/x"})")),
            "f.json:4: step id \"item\" is reserved for templates");
  CHECK_HAS(one_problem(with_step(R"({"id": "each", "endpoint": "/x"})")),
            "f.json:4: step id \"each\" is reserved");
}

TEST_CASE("flow::a duplicate id names the first step's place") {
  std::string e = one_problem(with_step("\n    {\"id\": \"login\", \"endpoint\": \"/again\"}"));
  CHECK_HAS(e, "f.json:5: step \"login\": the id is already used by the step at f.json:3");
}

TEST_CASE("flow::an unknown step key, with did-you-mean") {
  std::string e =
      one_problem(with_step("{\"id\": \"a\", \"endpoint\": \"/x\",\n     \"retry\": 1}"));
  CHECK_HAS(e, "f.json:5: step \"a\": unknown key \"retry\" (did you mean \"retries\"?)");
  // A typo of a required key: both problems, in line order.
  std::string two = error_of(with_step("{\"id\": \"a\",\n     \"endpont\": \"/x\"}"));
  CHECK_HAS(two, "f.json:4: step \"a\": no \"endpoint\"\n");
  CHECK_HAS(two, "f.json:5: step \"a\": unknown key \"endpont\" (did you mean \"endpoint\"?)\n");
  CHECK_HAS(two, "f.json: 2 problems; nothing was submitted");
  CHECK(two.find("f.json:4") < two.find("f.json:5"));
}

TEST_CASE("flow::endpoint missing, not a string or empty") {
  CHECK_HAS(one_problem(with_step(R"({"id": "a"})")), "f.json:4: step \"a\": no \"endpoint\"");
  CHECK_HAS(one_problem(with_step("{\"id\": \"a\",\n  \"endpoint\": 5}")),
            "f.json:5: step \"a\": \"endpoint\" must be a non-empty string");
  CHECK_HAS(one_problem(with_step(R"({"id": "a", "endpoint": ""})")),
            "f.json:4: step \"a\": \"endpoint\" must be a non-empty string");
}

TEST_CASE("flow::input must be an object") {
  CHECK_HAS(one_problem(with_step("{\"id\": \"a\", \"endpoint\": \"/a\",\n  \"input\": [\"x\"]}")),
            "f.json:5: step \"a\": \"input\" must be an object of parameters");
  CHECK_HAS(one_problem(with_step(R"({"id": "a", "endpoint": "/a", "input": "x"})")),
            "f.json:4: step \"a\": \"input\" must be an object");
}

TEST_CASE("flow::secure_parameters must be an object of lists") {
  CHECK_HAS(
      one_problem(with_step(
          "{\"id\": \"a\", \"endpoint\": \"/a\",\n  \"secure_parameters\": {\"pw\": \"x\"}}")),
      "f.json:5: step \"a\": \"secure_parameters\" must be an object of lists");
  CHECK_HAS(one_problem(with_step(R"({"id": "a", "endpoint": "/a", "secure_parameters": ["x"]})")),
            "\"secure_parameters\" must be an object of lists");
  // Its templates are checked too.
  CHECK_HAS(one_problem(with_step(
                "{\"id\": \"a\", \"endpoint\": \"/a\",\n  \"secure_parameters\": {\"pw\": "
                "[\"{{item.pw\"]}}")),
            "f.json:5: step \"a\": \"{{item.pw\": '{{' without its '}}'");
}

TEST_CASE("flow::needs must be a list of known steps, not the step itself") {
  CHECK_HAS(one_problem(with_step("{\"id\": \"a\", \"endpoint\": \"/a\",\n  \"needs\": 5}")),
            "f.json:5: step \"a\": \"needs\" must be a list of step ids");
  CHECK_HAS(one_problem(with_step(R"({"id": "a", "endpoint": "/a", "needs": ["login", 2]})")),
            "\"needs\" must be a list of step ids");
  CHECK_HAS(
      one_problem(with_step("{\"id\": \"a\", \"endpoint\": \"/a\", \"needs\": [\n  \"logn\"]}")),
      "f.json:5: step \"a\": needs: unknown step \"logn\" (did you mean \"login\"?)");
  CHECK_HAS(one_problem(with_step("{\"id\": \"a\", \"endpoint\": \"/a\",\n  \"needs\": \"a\"}")),
            "f.json:5: step \"a\": needs: a step cannot depend on itself");
}

TEST_CASE("flow::unique must be a list of names") {
  CHECK_HAS(one_problem(with_step("{\"id\": \"a\", \"endpoint\": \"/a\",\n  \"unique\": [1]}")),
            "f.json:5: step \"a\": \"unique\" must be a list of parameter names");
}

// --- templates --------------------------------------------------------------------------------

TEST_CASE("flow::an unknown template name, with a suggestion") {
  std::string e = one_problem(with_step(
      "{\"id\": \"a\", \"endpoint\": \"/a\",\n  \"input\": {\"e\": \"{{iten:/email}}\"}}"));
  CHECK_HAS(e,
            "f.json:5: step \"a\": {{iten:/email}}: unknown name \"iten\": a template names item, "
            "each or a step id (did you mean \"item\"?)");
  // The pointer form to an unknown step suggests the step.
  CHECK_HAS(
      one_problem(with_step(R"({"id": "a", "endpoint": "/a", "input": {"x": "v={{logn:/x}}!"}})")),
      "f.json:4: step \"a\": {{logn:/x}}: unknown name \"logn\": a template names item, each or a "
      "step id (did you mean \"login\"?)");
  // A template naming its own step.
  CHECK_HAS(one_problem(with_step(R"({"id": "a", "endpoint": "/a", "input": {"x": "{{a:/x}}"}})")),
            "step \"a\": {{a:/x}}: a step cannot depend on itself");
}

TEST_CASE("flow::a dotted typo of item ({{itme.email}}) suggests item") {
  std::string e = one_problem(with_step(
      "{\"id\": \"a\", \"endpoint\": \"/a\",\n  \"input\": {\"e\": \"{{itme.email}}\"}}"));
  CHECK_HAS(e, "f.json:5: step \"a\": {{itme.email}}: unknown name \"itme\"");
  CHECK_HAS(e, "did you mean \"item\"?");
  // {{usr.email}} next to a step "user": the step is suggested.
  std::string usr = one_problem("{\"steps\": [\n"
                                "  {\"id\": \"user\", \"endpoint\": \"/u\"},\n"
                                "  {\"id\": \"a\", \"endpoint\": \"/a\",\n"
                                "   \"input\": {\"e\": \"{{usr.email}}\"}}\n"
                                "]}");
  CHECK_HAS(usr,
            "f.json:4: step \"a\": {{usr.email}}: unknown name \"usr\": a template names item, "
            "each or a step id (did you mean \"user\"?)");
}

TEST_CASE("flow::{{step.field}} in a flow suggests the pointer form") {
  CHECK_HAS(
      one_problem(with_step(
          "{\"id\": \"a\", \"endpoint\": \"/a\",\n  \"input\": {\"e\": \"{{login.account}}\"}}")),
      "f.json:5: step \"a\": {{login.account}}: a step's result is reached by JSON Pointer: "
      "{{login:/account}}");
}

TEST_CASE("flow::{{each}} needs a foreach") {
  CHECK_HAS(
      one_problem(with_step(
          "{\"id\": \"a\", \"endpoint\": \"/a\",\n  \"input\": {\"e\": [\"x\", \"{{each.k}}\"]}}")),
      "f.json:5: step \"a\": {{each.k}}: {{each}} is the element of a foreach step, and this "
      "step has no \"foreach\"");
}

TEST_CASE("flow::a bad JSON Pointer and an unclosed {{ in a template") {
  CHECK_HAS(one_problem(with_step(
                "{\"id\": \"a\", \"endpoint\": \"/a\",\n  \"input\": {\"e\": \"{{login:x}}\"}}")),
            "f.json:5: step \"a\": {{login:x}}: \"x\" is not a JSON Pointer");
  CHECK_HAS(one_problem(with_step(
                "{\"id\": \"a\", \"endpoint\": \"/a\",\n  \"input\": {\"e\": \"{{item:/a~9}}\"}}")),
            "f.json:5: step \"a\": {{item:/a~9}}: \"/a~9\" is not a JSON Pointer");
  CHECK_HAS(one_problem(with_step(
                "{\"id\": \"a\", \"endpoint\": \"/a\",\n  \"input\": {\"e\": \"hi {{item.x\"}}")),
            "f.json:5: step \"a\": \"{{item.x\": '{{' without its '}}'");
  CHECK_HAS(one_problem(with_step(
                "{\"id\": \"a\", \"endpoint\": \"/a\",\n  \"input\": {\"e\": \"{{ }}\"}}")),
            "f.json:5: step \"a\": {{}}: an empty reference");
}

// --- when -------------------------------------------------------------------------------------

TEST_CASE("flow::when must be an object of step: status") {
  CHECK_HAS(one_problem(with_step("{\"id\": \"a\", \"endpoint\": \"/a\",\n  \"when\": \"login\"}")),
            "f.json:5: step \"a\": \"when\" must be an object of step id: status");
  CHECK_HAS(one_problem(with_step(R"({"id": "a", "endpoint": "/a", "when": {}})")),
            "f.json:4: step \"a\": \"when\" must be an object");
  CHECK_HAS(
      one_problem(with_step("{\"id\": \"a\", \"endpoint\": \"/a\", \"when\": {\n  \"login\": 5}}")),
      "f.json:5: step \"a\": when: \"login\" must be a status or a list of statuses");
  CHECK_HAS(one_problem(with_step(R"({"id": "a", "endpoint": "/a", "when": {"login": []}})")),
            "when: \"login\" must be a status or a list of statuses");
}

TEST_CASE("flow::when with an unknown status, with a suggestion") {
  std::string e = one_problem(
      with_step("{\"id\": \"a\", \"endpoint\": \"/a\", \"when\": {\n  \"login\": \"sucess\"}}"));
  CHECK_HAS(e, "f.json:5: step \"a\": when: unknown status \"sucess\" (did you mean \"success\"?)");
  CHECK_HAS(e,
            "(one of success, failed, killed, cancelled, timeout, submit_failed, "
            "invalid_input, interrupted, skipped, any)");
  CHECK_HAS(one_problem(with_step(
                R"({"id": "a", "endpoint": "/a", "when": {"login": ["success", "faild"]}})")),
            "when: unknown status \"faild\" (did you mean \"failed\"?)");
}

TEST_CASE("flow::when naming an unknown step or itself") {
  CHECK_HAS(one_problem(with_step(
                "{\"id\": \"a\", \"endpoint\": \"/a\", \"when\": {\n  \"lgoin\": \"success\"}}")),
            "f.json:5: step \"a\": when: unknown step \"lgoin\" (did you mean \"login\"?)");
  CHECK_HAS(one_problem(with_step(R"({"id": "a", "endpoint": "/a", "when": {"a": "any"}})")),
            "step \"a\": when: a step cannot depend on itself");
}

// --- foreach ----------------------------------------------------------------------------------

TEST_CASE("flow::foreach must name a list") {
  CHECK_HAS(
      one_problem(with_step("{\"id\": \"a\", \"endpoint\": \"/a\",\n  \"foreach\": \"{{each}}\"}")),
      "f.json:5: step \"a\": foreach: must name a list: \"STEP:/pointer\" or "
      "\"item:/pointer\" (got \"{{each}}\")");
  CHECK_HAS(one_problem(
                with_step(R"({"id": "a", "endpoint": "/a", "foreach": "{{login:/l}} and more"})")),
            "step \"a\": foreach: must name a list");
  CHECK_HAS(one_problem(with_step(R"({"id": "a", "endpoint": "/a", "foreach": "login:x"})")),
            "step \"a\": foreach: {{login:x}}: \"x\" is not a JSON Pointer");
  // A number is refused at its place.
  CHECK_HAS(one_problem(with_step("{\"id\": \"a\", \"endpoint\": \"/a\",\n  \"foreach\": 5}")),
            "f.json:5: step \"a\": foreach: ");
}

TEST_CASE("flow::a foreach that is not a string says it must name a list") {
  std::string e =
      one_problem(with_step("{\"id\": \"a\", \"endpoint\": \"/a\",\n  \"foreach\": 5}"));
  CHECK_HAS(e, "f.json:5: step \"a\": foreach: must name a list");
  CHECK_HAS(e, "(got 5)");
  CHECK(e.find("empty reference") == std::string::npos);
}

TEST_CASE("flow::foreach naming an unknown step") {
  CHECK_HAS(one_problem(with_step(
                "{\"id\": \"a\", \"endpoint\": \"/a\",\n  \"foreach\": \"lgin:/output_data\"}")),
            "f.json:5: step \"a\": foreach: unknown step \"lgin\" (did you mean \"login\"?)");
}

// --- numbers and choices ----------------------------------------------------------------------

TEST_CASE("flow::timeout must be a number above 0") {
  CHECK_HAS(one_problem(with_step("{\"id\": \"a\", \"endpoint\": \"/a\",\n  \"timeout\": 0}")),
            "f.json:5: step \"a\": \"timeout\" must be a number of seconds above 0 and at most "
            "604800 (7 days) (got 0)");
  CHECK_HAS(one_problem(with_step(R"({"id": "a", "endpoint": "/a", "timeout": -2.5})")),
            "f.json:4: step \"a\": \"timeout\" must be a number of seconds above 0 and at most "
            "604800 (7 days) (got -2.5)");
  CHECK_HAS(
      one_problem(with_step(R"({"id": "a", "endpoint": "/a", "timeout": "10"})")),
      "\"timeout\" must be a number of seconds above 0 and at most 604800 (7 days) (got \"10\")");
  CHECK_HAS(one_problem(with_step(R"({"id": "a", "endpoint": "/a", "timeout": 1e9})")),
            "\"timeout\" must be a number of seconds above 0");
}

TEST_CASE("flow::a timeout above the limit names the limit") {
  std::string e = one_problem(with_step(R"({"id": "a", "endpoint": "/a", "timeout": 1e9})"));
  CHECK_HAS(e, "604800");
}

TEST_CASE("flow::a dot file's flow gets a name") {
  CHECK(core::parse_flow(R"({"steps":[{"id":"a","endpoint":"/a"}]})", "dir/.signup.json").name ==
        ".signup");
}

TEST_CASE("flow::retries and priority given as strings are refused") {
  CHECK_HAS(one_problem(with_step("{\"id\": \"a\", \"endpoint\": \"/a\",\n  \"retries\": \"1\"}")),
            "f.json:5: step \"a\": \"retries\" must be a whole number from 0 to 100");
  CHECK_HAS(
      one_problem(with_step("{\"id\": \"a\", \"endpoint\": \"/a\",\n  \"priority\": \"high\"}")),
      "f.json:5: step \"a\": \"priority\" must be a whole number");
  // Limits that are accepted.
  Flow flow = core::parse_flow(
      with_step(R"({"id": "a", "endpoint": "/a", "retries": 100, "priority": 1000000000})"),
      "f.json");
  CHECK(flow.steps[1].retries == 100);
  CHECK(*flow.steps[1].priority == 1000000000);
}

TEST_CASE("flow::retries negative, fractional or above 100 and priority non-integer are refused") {
  CHECK_HAS(one_problem(with_step("{\"id\": \"a\", \"endpoint\": \"/a\",\n  \"retries\": -1}")),
            "f.json:5: step \"a\": \"retries\" must be a whole number from 0 to 100 (got -1)");
  CHECK_HAS(one_problem(with_step(R"({"id": "a", "endpoint": "/a", "retries": 1.5})")),
            "\"retries\" must be a whole number from 0 to 100 (got 1.5)");
  CHECK_HAS(one_problem(with_step(R"({"id": "a", "endpoint": "/a", "retries": 101})")),
            "\"retries\" must be a whole number from 0 to 100 (got 101)");
  CHECK_HAS(one_problem(with_step(R"({"id": "a", "endpoint": "/a", "retries": "1"})")),
            "(got \"1\")");
  CHECK_HAS(one_problem(with_step("{\"id\": \"a\", \"endpoint\": \"/a\",\n  \"priority\": 1.5}")),
            "f.json:5: step \"a\": \"priority\" must be a whole number (got 1.5)");
  CHECK_HAS(one_problem(with_step(R"({"id": "a", "endpoint": "/a", "priority": 2000000000})")),
            "\"priority\" must be a whole number (got 2000000000)");
}

TEST_CASE("flow::on_failure must be stop or continue") {
  CHECK_HAS(
      one_problem(with_step("{\"id\": \"a\", \"endpoint\": \"/a\",\n  \"on_failure\": \"halt\"}")),
      "f.json:5: step \"a\": \"on_failure\" must be \"stop\" or \"continue\" (got \"halt\")");
  CHECK_HAS(one_problem(with_step(R"({"id": "a", "endpoint": "/a", "on_failure": 5})")),
            "\"on_failure\" must be \"stop\" or \"continue\" (got 5)");
}

TEST_CASE("flow::a step description must be a string") {
  CHECK_HAS(one_problem(with_step("{\"id\": \"a\", \"endpoint\": \"/a\",\n  \"description\": 5}")),
            "f.json:5: step \"a\": \"description\" must be a string");
}

// --- the graph --------------------------------------------------------------------------------

TEST_CASE("flow::a cycle is reported with its path") {
  std::string e = one_problem("{\"steps\": [\n"
                              "  {\"id\": \"a\", \"endpoint\": \"/a\", \"needs\": [\"b\"]},\n"
                              "  {\"id\": \"b\", \"endpoint\": \"/b\", \"needs\": [\"a\"]}\n"
                              "]}");
  CHECK_HAS(e, "f.json:2: steps wait for each other in a cycle: a -> b -> a");

  // Through a template, a foreach and a when: one cycle, reported once.
  std::string three =
      one_problem("{\"steps\": [\n"
                  "  {\"id\": \"a\", \"endpoint\": \"/a\", \"input\": {\"x\": \"{{b:/x}}\"}},\n"
                  "  {\"id\": \"b\", \"endpoint\": \"/b\", \"foreach\": \"c:/l\"},\n"
                  "  {\"id\": \"c\", \"endpoint\": \"/c\", \"when\": {\"a\": \"any\"}},\n"
                  "  {\"id\": \"d\", \"endpoint\": \"/d\", \"needs\": [\"c\"]}\n"
                  "]}");
  CHECK_HAS(three, "f.json:2: steps wait for each other in a cycle: ");
  // a waits for b, b for c, c for a: printed in the order they would run.
  CHECK_HAS(three, "a -> c -> b -> a");
}

TEST_CASE("flow::several problems are all reported in one error, in line order") {
  std::string e = error_of("{\n"                                                             // 1
                           "  \"steps\": [\n"                                                // 2
                           "    {\"id\": \"a\", \"endpoint\": \"/a\", \"needs\": \"zz\"},\n" // 3
                           "    {\"id\": \"a\", \"endpoint\": 3},\n"                         // 4
                           "    {\"endpoint\": \"/c\", \"timeout\": 0}\n"                    // 5
                           "  ],\n"
                           "  \"extra\": true\n" // 7
                           "}");
  CHECK_HAS(e, "f.json:3: step \"a\": needs: unknown step \"zz\"\n");
  CHECK_HAS(e, "f.json:4: step \"a\": \"endpoint\" must be a non-empty string\n");
  CHECK_HAS(e, "f.json:4: step \"a\": the id is already used by the step at f.json:3\n");
  CHECK_HAS(e, "f.json:5: step 2: no \"id\"\n");
  CHECK_HAS(e,
            "f.json:5: step 2: \"timeout\" must be a number of seconds above 0 and at most 604800 "
            "(7 days) (got 0)\n");
  CHECK_HAS(e, "f.json:7: unknown key \"extra\"\n");
  CHECK(line_count(e) == 7);
  // The trailer is the last line.
  CHECK(e.substr(e.rfind('\n') + 1) == "f.json: 6 problems; nothing was submitted");
  CHECK(e.find("f.json:3") < e.find("f.json:4"));
  CHECK(e.find("f.json:4") < e.find("f.json:5"));
  CHECK(e.find("f.json:5") < e.find("f.json:7"));
}

// --- load_flow --------------------------------------------------------------------------------

TEST_CASE("flow::load_flow reads a file and names a missing one") {
  CHECK_THROWS_WITH_AS(core::load_flow("/nonexistent-dir/nope.json"),
                       doctest::Contains("cannot open flow /nonexistent-dir/nope.json"),
                       core::Error);

  auto dir = std::filesystem::temp_directory_path() / ("flow-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto path = dir / "orders.json";
  {
    std::ofstream out(path);
    out << "{\n  \"steps\": [\n    {\"id\": \"a\", \"endpoint\": \"/a\"}\n  ]\n}\n";
  }
  Flow flow = core::load_flow(path.string());
  CHECK(flow.name == "orders");
  REQUIRE(flow.steps.size() == 1);
  CHECK(flow.steps[0].place == path.string() + ":3");
  {
    std::ofstream out(path);
    out << "{\n  \"steps\": [\n    {\"id\": \"a\"}\n  ]\n}\n";
  }
  try {
    core::load_flow(path.string());
    FAIL_CHECK("load_flow accepted a step without an endpoint");
  } catch (const core::Error& e) {
    CHECK_HAS(e.what(), path.string() + ":3: step \"a\": no \"endpoint\"");
  }
  std::filesystem::remove_all(dir);
}

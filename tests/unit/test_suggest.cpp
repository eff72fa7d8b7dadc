#include "cli/suggest.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace {

using Lines = std::vector<std::string>;

// A command line shaped like optexity-chain's: commands with required and numeric options.
struct TestApp {
  CLI::App app{"test", "optexity-chain"};
  std::string endpoint;
  std::string emails;
  int parallel = 1;
  int port = 0;

  TestApp() {
    app.set_version_flag("--version", "1.0");
    app.require_subcommand(1);
    CLI::App* run = app.add_subcommand("run", "run");
    run->add_option("--endpoint", endpoint)->required();
    run->add_option("--emails", emails);
    run->add_option("--parallel", parallel);
    run->add_flag("-q,--quiet");
    CLI::App* emulator = app.add_subcommand("emulator", "emulator");
    emulator->add_option("--port", port);
  }

  // The lines the parse error of `args` is reported with; {"parsed"} when there is none.
  Lines errors(const Lines& args) {
    Lines reversed(args.rbegin(), args.rend());
    try {
      app.parse(reversed);
    } catch (const CLI::ParseError& e) {
      return cli::describe_parse_error(app, args, e);
    }
    return {"parsed"};
  }
};

} // namespace

TEST_SUITE_BEGIN("suggest");

TEST_CASE("suggest::describe_parse_error names a misspelt command, and only that") {
  TestApp t;
  CHECK(t.errors({"rn"}) == Lines{"unknown command 'rn': did you mean 'run'?"});
  CHECK(t.errors({"emulatr", "--port", "0"}) ==
        Lines{"unknown command 'emulatr': did you mean 'emulator'?"});
  CHECK(t.errors({"frobnicate"}) ==
        Lines{"unknown command 'frobnicate' (commands: run and emulator)"});
  CHECK(t.errors({"hlep"}) == Lines{"unknown command 'hlep': did you mean 'help'?"});
}

TEST_CASE("suggest::describe_parse_error names a misspelt option, and only that") {
  TestApp t;
  SUBCASE("CLI11 would say: The following arguments were not expected: 5 --paralel") {
    CHECK(t.errors({"run", "--endpoint", "demo", "--paralel", "5"}) ==
          Lines{"unknown option --paralel: did you mean --parallel?"});
    CHECK(t.errors({"run", "--endpoint", "demo", "--paralel=5"}) ==
          Lines{"unknown option --paralel: did you mean --parallel?"});
  }
  SUBCASE("a top-level option") {
    CHECK(t.errors({"--verison"}) == Lines{"unknown option --verison: did you mean --version?"});
  }
  SUBCASE("a misspelt required option: not also '--endpoint is required'") {
    CHECK(t.errors({"run", "--endpiont", "demo"}) ==
          Lines{"unknown option --endpiont: did you mean --endpoint?"});
  }
  SUBCASE("nothing close: where to look") {
    CHECK(t.errors({"run", "--endpoint", "demo", "--zzzzzzzzzz"}) ==
          Lines{"unknown option --zzzzzzzzzz (see optexity-chain run --help)"});
    CHECK(t.errors({"run", "--endpoint", "demo", "-x"}) ==
          Lines{"unknown option -x (see optexity-chain run --help)"});
  }
  SUBCASE("two mistakes: the typo first, then the other") {
    CHECK(t.errors({"run", "--paralel", "5"}) ==
          Lines{"unknown option --paralel: did you mean --parallel?", "--endpoint is required"});
  }
}

TEST_CASE("suggest::describe_parse_error keeps CLI11's words for other errors") {
  TestApp t;
  CHECK(t.errors({"run"}) == Lines{"--endpoint is required"});
  CHECK(t.errors({}) ==
        Lines{"a command is required: run or emulator (see optexity-chain --help)"});
  CHECK(t.errors({"run", "--endpoint", "demo", "--parallel", "-5"}) == Lines{"parsed"});
}

TEST_CASE("suggest::rewrite_help makes help CMD into CMD --help") {
  TestApp t;
  CHECK(cli::rewrite_help(t.app, {"help"}) == Lines{"--help"});
  CHECK(cli::rewrite_help(t.app, {"help", "run"}) == Lines{"run", "--help"});
  CHECK(cli::rewrite_help(t.app, {"help", "run", "--endpoint"}) == Lines{"run", "--help"});
  CHECK(cli::rewrite_help(t.app, {"help", "--version"}) == Lines{"--help"});
  // An unknown command stays, to be reported with its suggestion.
  CHECK(cli::rewrite_help(t.app, {"help", "rn"}) == Lines{"rn"});
  CHECK(cli::rewrite_help(t.app, {"run", "help"}) == Lines{"run", "help"});
  CHECK(t.errors(cli::rewrite_help(t.app, {"help", "rn"})) ==
        Lines{"unknown command 'rn': did you mean 'run'?"});
}

TEST_SUITE_END();

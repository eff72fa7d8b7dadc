#include "cli/suggest.h"

#include "core/names.h"
#include "core/text.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <iterator>

namespace cli {

namespace {

constexpr const char* k_program = "optexity-chain";

std::vector<const CLI::App*> subcommands(const CLI::App& app) {
  return app.get_subcommands([](const CLI::App*) { return true; });
}

std::vector<std::string> command_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* sub : subcommands(app)) {
    names.push_back(sub->get_name());
  }
  return names;
}

const CLI::App* find_command(const CLI::App& app, const std::string& word) {
  for (const CLI::App* sub : subcommands(app)) {
    if (sub->get_name() == word) {
      return sub;
    }
  }
  return nullptr;
}

// Every "--long" and "-s" name of an app's options (help and version flags included).
std::vector<std::string> option_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::Option* opt : app.get_options()) {
    for (const std::string& name : opt->get_lnames()) {
      names.push_back("--" + name);
    }
    for (const std::string& name : opt->get_snames()) {
      names.push_back("-" + name);
    }
  }
  return names;
}

// A word that names an option rather than a value: "--x", "-x" (not "-5", "-", "--").
bool is_option_word(const std::string& word) {
  if (word.size() < 2 || word[0] != '-' || word == "--") {
    return false;
  }
  if (word[1] == '-') {
    return true;
  }
  return word.size() == 2 && std::isalpha(static_cast<unsigned char>(word[1]));
}

struct Typo {
  std::string message;
  std::string guess; // the option or command suggested, "" when none is
};

// The unknown options among `words` (stopping at "--"), each with its closest valid name.
std::vector<Typo> unknown_options(const std::vector<std::string>& words,
                                  const std::vector<std::string>& names,
                                  const std::string& help_command) {
  std::vector<Typo> typos;
  std::vector<std::string> long_names;
  std::copy_if(names.begin(),
               names.end(),
               std::back_inserter(long_names),
               [](const std::string& n) { return n.rfind("--", 0) == 0; });
  for (const std::string& word : words) {
    if (word == "--") {
      break;
    }
    if (!is_option_word(word)) {
      continue;
    }
    std::string name = word.substr(0, word.find('='));
    if (std::find(names.begin(), names.end(), name) != names.end()) {
      continue;
    }
    // A one-letter option has too many one-edit neighbours to guess from.
    std::string guess = name.rfind("--", 0) == 0 ? core::closest_name(name, long_names) : "";
    typos.push_back({guess.empty()
                         ? fmt::format("unknown option {} (see {} --help)", name, help_command)
                         : fmt::format("unknown option {}: did you mean {}?", name, guess),
                     guess});
  }
  return typos;
}

// The mistakes in `args` CLI11 reports as "not expected" or as a missing subcommand: an unknown
// command, unknown options.
std::vector<Typo> find_typos(const CLI::App& app, const std::vector<std::string>& args) {
  // The command: the first word that is not an option (the top level's options take no value).
  auto command = std::find_if(
      args.begin(), args.end(), [](const std::string& w) { return !is_option_word(w); });
  std::vector<Typo> typos = unknown_options(
      std::vector<std::string>(args.begin(), command), option_names(app), k_program);
  if (command == args.end() || *command == "--") {
    return typos;
  }
  const CLI::App* sub = find_command(app, *command);
  if (sub == nullptr) {
    std::vector<std::string> names = command_names(app);
    names.push_back("help");
    std::string guess = core::closest_name(*command, names);
    names.pop_back();
    typos.push_back({guess.empty()
                         ? fmt::format("unknown command '{}' (commands: {})",
                                       *command,
                                       core::join(names, ", ", " and "))
                         : fmt::format("unknown command '{}': did you mean '{}'?", *command, guess),
                     guess});
    return typos;
  }
  std::vector<Typo> more = unknown_options(std::vector<std::string>(command + 1, args.end()),
                                           option_names(*sub),
                                           fmt::format("{} {}", k_program, sub->get_name()));
  typos.insert(typos.end(), more.begin(), more.end());
  return typos;
}

// CLI11's error is only the consequence of the typos: "not expected", "A subcommand is
// required", or "--endpoint is required" when --endpiont was suggested as --endpoint.
bool caused_by(const CLI::Error& error, const std::vector<Typo>& typos) {
  if (dynamic_cast<const CLI::ExtrasError*>(&error) != nullptr) {
    return true;
  }
  if (dynamic_cast<const CLI::RequiredError*>(&error) == nullptr) {
    return false;
  }
  std::string what = error.what();
  if (what.rfind("A subcommand", 0) == 0) {
    return true;
  }
  return std::any_of(typos.begin(), typos.end(), [&](const Typo& t) {
    return !t.guess.empty() && what.rfind(t.guess + " ", 0) == 0;
  });
}

} // namespace

std::vector<std::string> rewrite_help(const CLI::App& app, std::vector<std::string> args) {
  if (args.empty() || args.front() != "help") {
    return args;
  }
  if (args.size() == 1 || is_option_word(args[1])) {
    return {"--help"};
  }
  if (find_command(app, args[1]) != nullptr) {
    return {args[1], "--help"};
  }
  return {args[1]};
}

std::vector<std::string> describe_parse_error(const CLI::App& app,
                                              const std::vector<std::string>& args,
                                              const CLI::Error& error) {
  std::vector<Typo> typos = find_typos(app, args);
  std::vector<std::string> lines;
  for (const Typo& typo : typos) {
    lines.push_back(typo.message);
  }
  if (typos.empty() || !caused_by(error, typos)) {
    std::string what = error.what();
    if (typos.empty() && dynamic_cast<const CLI::RequiredError*>(&error) != nullptr &&
        what.rfind("A subcommand", 0) == 0) {
      what = fmt::format("a command is required: {} (see {} --help)",
                         core::join(command_names(app), ", ", " or "),
                         k_program);
    }
    lines.push_back(what);
  }
  return lines;
}

} // namespace cli

#include "cli/suggest.h"

#include "core/names.h"

#include <fmt/format.h>

#include <algorithm>

namespace cli {

namespace {

std::vector<std::string> long_options(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::Option* opt : app.get_options()) {
    for (const std::string& name : opt->get_lnames()) {
      names.push_back("--" + name);
    }
  }
  return names;
}

} // namespace

std::string suggest_for_typo(const CLI::App& app, int argc, const char* const* argv) {
  // The subcommand the user meant: the first word that is not an option.
  const CLI::App* sub = nullptr;
  int first = 1;
  std::vector<std::string> subcommand_names;
  for (const CLI::App* s : app.get_subcommands([](const CLI::App*) { return true; })) {
    subcommand_names.push_back(s->get_name());
  }
  for (; first < argc; ++first) {
    std::string word = argv[first];
    if (!word.empty() && word[0] == '-') {
      continue;
    }
    for (const CLI::App* s : app.get_subcommands([](const CLI::App*) { return true; })) {
      if (s->get_name() == word) {
        sub = s;
      }
    }
    if (!sub) {
      std::string guess = core::closest_name(word, subcommand_names);
      return guess.empty()
                 ? ""
                 : fmt::format("unknown command \"{}\": did you mean \"{}\"?", word, guess);
    }
    break;
  }
  if (!sub) {
    return "";
  }
  std::vector<std::string> names = long_options(*sub);
  for (int i = first + 1; i < argc; ++i) {
    std::string word = argv[i];
    if (word.rfind("--", 0) != 0) {
      continue;
    }
    word = word.substr(0, word.find('='));
    if (std::find(names.begin(), names.end(), word) != names.end()) {
      continue;
    }
    std::string guess = core::closest_name(word, names);
    if (!guess.empty()) {
      return fmt::format("unknown option {}: did you mean {}?", word, guess);
    }
  }
  return "";
}

} // namespace cli

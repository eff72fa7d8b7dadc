#include "cli/suggest.h"

#include <fmt/format.h>

#include <algorithm>

namespace cli {

namespace {

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) {
    row[j] = j;
  }
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

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

std::string closest(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = 4;
  for (const std::string& c : candidates) {
    size_t d = edit_distance(word, c);
    if (d < best_distance && d < word.size()) {
      best = c;
      best_distance = d;
    }
  }
  return best;
}

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
      std::string guess = closest(word, subcommand_names);
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
    std::string guess = closest(word, names);
    if (!guess.empty()) {
      return fmt::format("unknown option {}: did you mean {}?", word, guess);
    }
  }
  return "";
}

} // namespace cli

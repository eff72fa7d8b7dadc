#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace cli {

// `help` as `--help`, and `help CMD ...` as `CMD --help` (what follows CMD is dropped). `help`
// followed by a word that names no command leaves that word alone, so it is reported as an
// unknown command (with its suggestion). Other arguments are returned unchanged. `args` excludes
// the program name.
std::vector<std::string> rewrite_help(const CLI::App& app, std::vector<std::string> args);

// What a parse error is reported with, one line per mistake (without the
// "optexity-chain: error: " prefix). An unknown command or option is named with the closest
// valid one first ("unknown command 'rn': did you mean 'run'?", "unknown option --paralel: did
// you mean --parallel?"), and CLI11's own message for that mistake ("A subcommand is required",
// "The following arguments were not expected: ...", "--endpoint is required" after a misspelt
// --endpoint) is left out. Any other error is CLI11's message. `args` excludes the program name.
std::vector<std::string> describe_parse_error(const CLI::App& app,
                                              const std::vector<std::string>& args,
                                              const CLI::Error& error);

} // namespace cli

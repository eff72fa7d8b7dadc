#pragma once

#include "core/exit_code.h"

#include <stdexcept>
#include <string>

namespace core {

// A run-level failure (bad flag, unreadable file, port in use): thrown, caught once in main,
// printed as one line `optexity-chain: error: <what>` and turned into its exit code.
class Error : public std::runtime_error {
public:
  explicit Error(const std::string& what, ExitCode code = ExitCode::usage)
      : std::runtime_error(what), m_code(code) {}
  ExitCode code() const { return m_code; }

private:
  ExitCode m_code;
};

} // namespace core

// Runs a program with an argument vector (never through a shell, so no argument is ever
// interpreted) and collects its exit status and output.
#pragma once

#include <string>
#include <vector>

namespace vitrine {

struct ProcessResult {
  int exit_code = -1;  // -1: did not start or was killed by a signal
  std::string out;
  std::string err;
};

// argv[0] is looked up in PATH. Throws std::runtime_error only when the program cannot be
// started at all; a failing program is a result, not an exception.
ProcessResult run_process(const std::vector<std::string>& argv);

}  // namespace vitrine

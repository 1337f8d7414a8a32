// Running the built binaries from tests, as a user would from a shell.
#pragma once

#include <string>
#include <vector>

namespace indafoto {

struct ProcessResult {
  int exit_code = -1;  // valid when !signaled
  bool signaled = false;
  int signal = 0;
  std::string output;  // stdout and stderr, interleaved
  long max_rss_kib = 0;  // peak resident set of this process alone (not of its children)
};

// Runs `argv` to completion with the current environment plus `extra_env`
// ("NAME=value" entries) and captures its output.
ProcessResult RunProcess(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env = {});

}  // namespace indafoto

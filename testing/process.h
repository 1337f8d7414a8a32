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
  // Peak resident set as wait4 reports it. Linux carries a forked child's
  // peak across exec, and a forked child starts with its parent's resident
  // set: this is at least the caller's size at the fork. For the program's
  // own peak, run it under MeasureChildMain.
  long max_rss_kib = 0;
};

// Runs `argv` to completion with the current environment plus `extra_env`
// ("NAME=value" entries) and captures its output.
ProcessResult RunProcess(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env = {});

// For a program that measures another: called in a freshly exec'd (so
// small) process, runs argv[0..] as its child, waits, and writes
// "measured: peak_rss_kib=N seconds=S" to stderr (the child's own peak,
// from wait4, and the time from fork to exit). Returns the child's exit
// code, or 128 + its signal.
int MeasureChildMain(char** argv);

}  // namespace indafoto

// A long-running child (the daemon under test): started in the background
// with its output in a log file, signalled, and waited for.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace indafoto {

class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();  // SIGKILL if still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Starts `argv` with the current environment plus `extra_env`, stdout and
  // stderr appended to `log`. Returns false when it could not be started.
  bool Start(const std::vector<std::string>& argv, const std::filesystem::path& log,
             const std::vector<std::string>& extra_env = {});
  void Signal(int sig);
  // Waits up to `timeout` for the child to exit. Returns its exit code, 128 +
  // signal when killed, or -1 when it is still running.
  int Wait(std::chrono::milliseconds timeout);
  bool Running();
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int status_ = -1;
};

// Reads a whole file (the daemon's log), "" when absent.
std::string ReadFile(const std::filesystem::path& path);

// Polls `condition` every `poll` until it holds or `timeout` passes.
template <typename F>
bool WaitFor(F condition, std::chrono::milliseconds timeout,
             std::chrono::milliseconds poll = std::chrono::milliseconds(100)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    // Any length: a timespec built from milliseconds would be invalid from
    // 1000 ms on, and nanosleep would then return at once (a busy loop).
    std::this_thread::sleep_for(poll);
  }
  return condition();
}

}  // namespace indafoto

// The command line: parsing, help texts, exit codes, and one function per
// command. Each command lives in its own daemon/cmd_*.cc file.
#pragma once

#include <string>
#include <vector>

#include <memory>

#include "lib/config/config.h"
#include "lib/import/instance.h"
#include "lib/util/status.h"

namespace indafoto {

// Exit codes (documented in --help, the man page and docs/operations.md).
enum ExitCode : int {
  kExitOk = 0,        // success; for status/verify: healthy
  kExitProblems = 1,  // verify found missing/corrupt files; status found failures or a stalled daemon
  kExitUsage = 2,     // bad command line or configuration
  kExitRuntime = 3,   // could not do the work (database cannot be opened, ...)
  kExitLocked = 4,    // another process holds the archive's writer lock (it is named); nothing was touched
};

struct CommandLine {
  std::string command;  // run, import, publish, status, plan, verify, trust
  std::string config_path;
  std::string source;
  bool json = false;
  bool help = false;
  bool wait = false;    // queue behind the writer lock's holder instead of exiting kExitLocked
  bool repair = false;  // verify --repair
  std::string query;    // whereis: ID, SHA256 or URL
  int64_t below = 2;    // copies --below N
};

// Parses argv; on error returns Invalid naming the offending argument.
Status ParseCommandLine(const std::vector<std::string>& args, CommandLine* out);
std::string HelpText(const std::string& command);

// Loads the configuration named by --config (required), or prints why not.
// Returns kExitOk when `config` is usable.
int LoadConfigOrExplain(const CommandLine& cl, Config* config);
// Opens the instance (read-write: takes the writer lock, then runs crash
// recovery), or logs why not. Returns kExitOk when `out` is usable,
// kExitLocked (after saying who holds the lock and what to do instead) or
// kExitRuntime. `wait` queues behind the lock's holder.
int OpenInstanceOrExplain(const std::string& command, const Config& config, Instance::Access access, bool wait,
                          std::unique_ptr<Instance>* out);
// Exit code for a Status from opening or running: config/input problems are
// usage errors, the rest runtime errors.
int ExitCodeFor(const Status& s);

int RunImport(const CommandLine& cl);
int RunPublish(const CommandLine& cl);
int RunTrust(const CommandLine& cl);
int RunStatus(const CommandLine& cl);
int RunPlan(const CommandLine& cl);
int RunVerify(const CommandLine& cl);
int RunDaemon(const CommandLine& cl);
int RunWhereis(const CommandLine& cl);
int RunCopies(const CommandLine& cl);
// Writes this instance's manifest (publish command and the daemon).
struct PublishReport;
Status PublishNow(const Config& config, PublishReport* report);

}  // namespace indafoto

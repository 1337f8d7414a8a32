// The command line: parsing, help texts, exit codes, and one function per
// command. Each command lives in its own daemon/cmd_*.cc file.
#pragma once

#include <string>
#include <vector>

#include "lib/config/config.h"
#include "lib/exchange/exchange.h"
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
// Writes this instance's manifest into image_root (publish command and the daemon).
Status PublishNow(const Config& config, PublishReport* report);

// Everything this instance publishes, the one code path of the daemon's
// publish job and of `indafoto-syncd publish`: its own manifest into
// image_root/.indafoto-sync when `own`, and, with peers, the exchange's
// (exchange_root/self, mirrored into every to-<peer>/; lib/exchange). Both
// are attempted; each one's Status is in the report, and the first error is
// returned.
struct PublishAllReport {
  bool own = false;  // own manifest attempted
  Status own_status;
  PublishReport own_report;
  bool exchange = false;  // exchange manifest attempted (peers configured)
  Status exchange_status;
  ExchangePublishReport exchange_report;
};
Status PublishAll(const Config& config, bool own, Exchange* exchange, PublishAllReport* report);
// Whether the daemon publishes its own manifest: `publish.enabled`. The
// `publish` command also does when the configuration has no peers (as it
// always did); with peers and no `publish`, it writes only what the
// daemon would.
inline bool PublishesOwnManifest(const Config& config, bool command) {
  return config.publish.enabled || (command && config.peers.empty());
}

}  // namespace indafoto

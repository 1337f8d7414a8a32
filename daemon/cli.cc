#include "daemon/cli.h"

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <cstdio>
#include <map>

namespace indafoto {

namespace {

const char* const kUsage = R"(indafoto-syncd — merges Indafoto archives that peers exchange with Syncthing.

Usage: indafoto-syncd [COMMAND] --config FILE [OPTIONS]

Commands:
  run       the daemon: import each file Syncthing delivers (default)
  import    one pass over the received folders without Syncthing, then exit
  publish   write this archive's signed manifest now
  status    per source: in catalog, delivered, imported, duplicates, pending, failed, bytes
  plan      dry run for one source: the status an import would record per file
  verify    check that every local image's file exists and matches its sha256
  trust     forget the pinned publisher key of --source NAME (an intended key change)
  whereis   which known archives hold an image: whereis ID|SHA256|URL
  copies    local images counted by how many known archives hold them; lists those below --below N

Options:
  --config FILE   configuration file (JSON; see docs/configuration.md)
  --source NAME   import: only this remote source; plan, trust: the source (required)
  --json          status/plan/verify/whereis/copies: machine-readable output on stdout
  --wait          writing commands: wait for the archive's writer lock instead of exiting 4
  --repair        verify: replace missing or corrupt local files from verified deliveries
  --below N       copies: list the local images held by fewer than N archives (default 2: here alone)
  -h, --help      this text; `indafoto-syncd COMMAND --help` for one command

Exit codes:
  0  success (status/verify: healthy)
  1  problems found (verify: missing or corrupt files; status: failed imports or a stalled daemon;
     whereis: no known archive holds the image; copies: some local images are held by fewer than N)
  2  bad command line or configuration
  3  runtime error (e.g. the database cannot be opened)
  4  another indafoto-syncd process is writing this archive (it is named; nothing was touched)

Writing commands (run, import, publish, trust, verify --repair) hold the
archive's writer lock for their whole life: one at a time. status, plan,
verify, whereis and copies only read and run beside anything.
)";

const std::map<std::string, std::string> kCommandHelp = {
    {"run", R"(indafoto-syncd run --config FILE

Runs the daemon beside Syncthing: long-polls Syncthing's events and imports
each finished file of a configured source; reconciles by scanning the
received folders at start, on reconnect, after missed events and every
reconcile_interval_seconds. SIGTERM: finish the import in flight, exit 0.
SIGHUP: reload the configuration. Speaks systemd's notify protocol.
)"},
    {"import", R"(indafoto-syncd import --config FILE [--source NAME]

One pass over the received folders, without Syncthing: loads each source's
catalog (its signed manifest, else remote_db_path), imports every delivered
file not yet accounted for, prints a summary per source, exits. Running it
again changes nothing. Exit 0, or 3 when a source could not be processed.
)"},
    {"publish", R"(indafoto-syncd publish --config FILE

Writes what the daemon publishes, now: the signed manifest of this archive
to <image_root>/.indafoto-sync/ (when "publish" is enabled, or when there
are no peers), and with peers the exchange's catalog to
<exchange_root>/self/, mirrored into every to-<peer>/ folder. Creates the
publisher key at key_path on first use. Outboxes are the daemon's (it
recomputes them once it knows Syncthing's device ID).
)"},
    {"status", R"(indafoto-syncd status --config FILE [--json]

Per source: entries in the catalog, files delivered, imported, merged,
duplicates, repaired, pending, failed, conflicts, skipped, bytes; and the
daemon's state when one runs. Safe while the daemon imports. Exit 1 when a
source has failed imports or the daemon's heartbeat is stale.
)"},
    {"plan", R"(indafoto-syncd plan --config FILE --source NAME [--json]

Dry run: for each delivered file of NAME, the status an import would
record (imported, merged, repaired, pending, failed, conflict, skipped;
"merged" also stands for "duplicate", which a dry run cannot tell apart),
"ignored" or "error". Changes nothing (the catalog is read into a temporary
store).
)"},
    {"trust", R"(indafoto-syncd trust --config FILE --source NAME

Forgets the publisher key pinned for NAME. Use it only after checking with
the publisher's operator that their key really changed: the next manifest
of NAME then pins the key that signed it.
)"},
    {"whereis", R"(indafoto-syncd whereis --config FILE [--json] ID|SHA256|URL

Which known archives hold an image: this archive (when a row of its
images table has that id, sha256 or url) and every catalog in the state
database (each remote source and peer whose manifest or database was
loaded) that lists the image by sha256 or by url, with the path there.
An argument of digits is a local image id, 64 hex digits a sha256, anything
else a url. Read-only: runs beside the daemon. Exit 0 when at least one
known archive holds it, 1 when none does.
)"},
    {"copies", R"(indafoto-syncd copies --config FILE [--below N] [--json]

The archive's survival map: counts the local images (rows of the images
table) by how many known archives hold them, this one included, where a
catalog in the state database holds an image when it lists its sha256 or
its url; then lists the images held by fewer than N archives (default 2:
held here alone), in id order. Read-only: runs beside the daemon. Exit 1
when at least one image is listed.
)"},
    {"verify", R"(indafoto-syncd verify --config FILE [--json] [--repair]

Checks that every local image's file exists and matches its sha256_hash,
and records the result for `status`. With --repair (a writing command: it
takes the writer lock), a missing or corrupt file is replaced by a delivery
in a received folder whose content has the sha256 the row records,
recorded as `repaired`. Exit 1 when a file is missing or does not match
(and was not healed).
)"},
};

}  // namespace

Status ParseCommandLine(const std::vector<std::string>& args, CommandLine* out) {
  CommandLine cl;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string* dst) -> Status {
      if (i + 1 >= args.size()) return Status::Invalid(a + " needs a value");
      *dst = args[++i];
      return Status::Ok();
    };
    if (a == "-h" || a == "--help") {
      cl.help = true;
    } else if (a == "--json") {
      cl.json = true;
    } else if (a == "--wait") {
      cl.wait = true;
    } else if (a == "--repair") {
      cl.repair = true;
    } else if (a == "--below" || a.rfind("--below=", 0) == 0) {
      std::string v;
      if (a == "--below") {
        if (Status s = value(&v); !s.ok()) return s;
      } else {
        v = a.substr(8);
      }
      if (v.empty() || v.size() > 9 || v.find_first_not_of("0123456789") != std::string::npos)
        return Status::Invalid("--below needs a whole number, not '" + v + "'");
      cl.below = std::stoll(v);
    } else if (a == "--config" || a == "-c") {
      if (Status s = value(&cl.config_path); !s.ok()) return s;
    } else if (a.rfind("--config=", 0) == 0) {
      cl.config_path = a.substr(9);
    } else if (a == "--source") {
      if (Status s = value(&cl.source); !s.ok()) return s;
    } else if (a.rfind("--source=", 0) == 0) {
      cl.source = a.substr(9);
    } else if (!a.empty() && a[0] == '-') {
      return Status::Invalid("unknown option " + a);
    } else if (cl.command.empty()) {
      if (!kCommandHelp.count(a)) return Status::Invalid("unknown command '" + a + "'");
      cl.command = a;
    } else if (cl.command == "whereis" && cl.query.empty() && !a.empty()) {
      cl.query = a;
    } else {
      return Status::Invalid("unexpected argument '" + a + "'");
    }
  }
  if (cl.command.empty()) cl.command = "run";
  *out = cl;
  return Status::Ok();
}

std::string HelpText(const std::string& command) {
  auto it = kCommandHelp.find(command);
  if (it == kCommandHelp.end()) return kUsage;
  return it->second +
         "\nExit codes: 0 ok, 1 problems found, 2 usage/configuration error, 3 runtime error, 4 another process is "
         "writing the archive.\n";
}

int LoadConfigOrExplain(const CommandLine& cl, Config* config) {
  if (cl.config_path.empty()) {
    std::fprintf(stderr, "indafoto-syncd %s: --config FILE is required (see --help)\n", cl.command.c_str());
    return kExitUsage;
  }
  Status s = LoadConfig(cl.config_path, config);
  if (!s.ok()) {
    std::fprintf(stderr, "indafoto-syncd: %s\n", s.message().c_str());
    return kExitUsage;
  }
  if (!cl.source.empty() && !config->FindSource(cl.source)) {
    std::fprintf(stderr, "indafoto-syncd: no source named '%s' in %s\n", cl.source.c_str(), cl.config_path.c_str());
    return kExitUsage;
  }
  return kExitOk;
}

namespace {

// What to do instead of writing beside `holder`.
std::string InsteadOf(const std::string& command, const LockHolder& holder) {
  if (holder.command == "run")
    return "The daemon imports and republishes by itself; `systemctl reload indafoto-syncd` (or SIGHUP) makes it "
           "re-scan the received folders and republish now. To run `" + command +
           "` anyway, stop the daemon first, or pass --wait to queue behind it.";
  return "Wait for it to finish, or pass --wait to queue behind it.";
}

}  // namespace

int OpenInstanceOrExplain(const std::string& command, const Config& config, Instance::Access access, bool wait,
                          std::unique_ptr<Instance>* out) {
  Instance::OpenOptions options;
  options.access = access;
  options.command = command;
  options.wait_for_lock = wait;
  options.on_wait = [&](const LockHolder& holder) {
    spdlog::warn("{}: waiting for {} to finish writing the archive", command, DescribeHolder(holder));
    // Under systemd (a no-op elsewhere): `systemctl status` says why we wait.
    std::string status = "STATUS=waiting for the archive's writer lock, held by " + DescribeHolder(holder);
    sd_notify(0, status.c_str());
  };
  if (Status s = Instance::Open(config, options, out); !s.ok()) {
    if (s.code() == Status::Code::kLocked) {
      LockHolder holder = WriterLock::Holder(WriterLockPath(config.database_path));
      spdlog::error("{}: not started: {}. {}", command, s.message(), InsteadOf(command, holder));
      return kExitLocked;
    }
    spdlog::error("{}: cannot open: {}", command, s.ToString());
    return kExitRuntime;
  }
  if (access == Instance::Access::kReadOnly) return kExitOk;
  int removed = 0;
  if (Status s = (*out)->importer().Recover(&removed); !s.ok()) {
    spdlog::error("{}: crash recovery failed: {}", command, s.ToString());
    return kExitRuntime;
  }
  if (removed > 0) spdlog::warn("crash recovery removed {} file(s) placed by an interrupted import", removed);
  return kExitOk;
}

int ExitCodeFor(const Status& s) {
  if (s.ok()) return kExitOk;
  if (s.code() == Status::Code::kInvalid) return kExitUsage;
  return kExitRuntime;
}

}  // namespace indafoto

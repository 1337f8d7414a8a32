// indafoto-syncd: entry point. Parses the command line and hands over to
// the command (daemon/cmd_*.cc).
#include <cstdio>
#include <string>
#include <vector>

#include "daemon/cli.h"
#include "lib/util/logging.h"

int main(int argc, char** argv) {
  using namespace indafoto;
  std::vector<std::string> args(argv + 1, argv + argc);
  InitLogging("info");  // until the configuration names a level
  CommandLine cl;
  if (Status s = ParseCommandLine(args, &cl); !s.ok()) {
    std::fprintf(stderr, "indafoto-syncd: %s (see --help)\n", s.message().c_str());
    return kExitUsage;
  }
  if (cl.help) {
    std::fputs(HelpText(args.empty() || args[0].rfind("-", 0) == 0 ? "" : cl.command).c_str(), stdout);
    return kExitOk;
  }
  if (cl.command == "import") return RunImport(cl);
  if (cl.command == "publish") return RunPublish(cl);
  if (cl.command == "status") return RunStatus(cl);
  if (cl.command == "plan") return RunPlan(cl);
  if (cl.command == "verify") return RunVerify(cl);
  if (cl.command == "trust") return RunTrust(cl);
  if (cl.command == "whereis") return RunWhereis(cl);
  if (cl.command == "copies") return RunCopies(cl);
  return RunDaemon(cl);
}

// `indafoto-syncd run`: the daemon (wired in daemon/daemon.cc).
#include <cstdio>

#include "daemon/cli.h"

namespace indafoto {

int RunDaemon(const CommandLine& cl) {
  std::fprintf(stderr, "indafoto-syncd run: not built yet\n");
  return kExitRuntime;
}

}  // namespace indafoto

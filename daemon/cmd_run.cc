// `indafoto-syncd run`: the daemon (daemon/daemon.cc).
#include "daemon/cli.h"
#include "daemon/daemon.h"
#include "lib/util/logging.h"

namespace indafoto {

int RunDaemon(const CommandLine& cl) {
  Config config;
  if (int rc = LoadConfigOrExplain(cl, &config); rc != kExitOk) return rc;
  InitLogging(config.log_level);
  return RunDaemonProcess(config);
}

}  // namespace indafoto

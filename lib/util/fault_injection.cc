#include "lib/util/fault_injection.h"

#include <csignal>
#include <cerrno>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>

namespace indafoto {

namespace {

std::mutex mu;
std::map<std::string, long> hits;

bool Parse(const char* env, std::string* point, std::string* mid, long* n) {
  std::string s(env);
  size_t a = s.find(':');
  if (a == std::string::npos) return false;
  *point = s.substr(0, a);
  std::string rest = s.substr(a + 1);
  size_t b = rest.find(':');
  if (mid) {
    *mid = rest.substr(0, b);
    *n = (b == std::string::npos) ? 1 : std::atol(rest.c_str() + b + 1);
  } else {
    *n = std::atol(rest.c_str());
  }
  return true;
}

}  // namespace

void CrashPoint(std::string_view point) {
  static const char* env = std::getenv("INDAFOTO_SYNCD_CRASH_AT");
  if (!env) return;
  std::string p;
  long n = 0;
  if (!Parse(env, &p, nullptr, &n) || p != point) return;
  std::lock_guard<std::mutex> l(mu);
  if (++hits["crash:" + p] == n) std::raise(SIGKILL);
}

int InjectedErrno(std::string_view point) {
  static const char* env = std::getenv("INDAFOTO_SYNCD_FAIL_AT");
  if (!env) return 0;
  std::string p, name;
  long n = 1;
  if (!Parse(env, &p, &name, &n) || p != point) return 0;
  std::lock_guard<std::mutex> l(mu);
  if (++hits["fail:" + p] < n) return 0;
  if (name == "ENOSPC") return ENOSPC;
  if (name == "EACCES") return EACCES;
  if (name == "EIO") return EIO;
  return EIO;
}

}  // namespace indafoto

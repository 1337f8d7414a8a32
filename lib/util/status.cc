#include "lib/util/status.h"

#include <cerrno>
#include <cstring>

namespace indafoto {

Status Status::FromErrno(int err, const std::string& what) {
  std::string m = what + ": " + std::strerror(err);
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return NotFound(m);
    case ENOSPC:
    case EDQUOT:
      return NoSpace(m);
    case EACCES:
    case EPERM:
    case EROFS:
      return Permission(m);
    default:
      return IoError(m);
  }
}

std::string Status::ToString() const {
  const char* name = "ok";
  switch (code_) {
    case Code::kOk: name = "ok"; break;
    case Code::kNotFound: name = "not found"; break;
    case Code::kInvalid: name = "invalid"; break;
    case Code::kCorrupt: name = "corrupt"; break;
    case Code::kIoError: name = "I/O error"; break;
    case Code::kBusy: name = "busy"; break;
    case Code::kNoSpace: name = "no space"; break;
    case Code::kPermission: name = "permission denied"; break;
    case Code::kUnavailable: name = "unavailable"; break;
    case Code::kLocked: name = "locked"; break;
  }
  if (message_.empty()) return name;
  return std::string(name) + ": " + message_;
}

}  // namespace indafoto

// Status: the error value returned at module edges (LevelDB style).
// A Status is cheap to copy; ok() means success and carries no message.
#pragma once

#include <string>
#include <utility>

namespace indafoto {

class Status {
 public:
  enum class Code {
    kOk,
    kNotFound,
    kInvalid,      // bad input: config, manifest, path, arguments
    kCorrupt,      // data that fails verification (hash, signature, format)
    kIoError,      // filesystem or socket failure
    kBusy,         // database locked beyond our patience; retry later
    kNoSpace,      // ENOSPC / EDQUOT; retry later
    kPermission,   // EACCES / EPERM; retry later
    kUnavailable,  // a remote service (Syncthing) is not reachable
    kLocked,       // another process holds the archive's writer lock (WriterLock)
  };

  Status() = default;
  static Status Ok() { return Status(); }
  static Status NotFound(std::string m) { return Status(Code::kNotFound, std::move(m)); }
  static Status Invalid(std::string m) { return Status(Code::kInvalid, std::move(m)); }
  static Status Corrupt(std::string m) { return Status(Code::kCorrupt, std::move(m)); }
  static Status IoError(std::string m) { return Status(Code::kIoError, std::move(m)); }
  static Status Busy(std::string m) { return Status(Code::kBusy, std::move(m)); }
  static Status NoSpace(std::string m) { return Status(Code::kNoSpace, std::move(m)); }
  static Status Permission(std::string m) { return Status(Code::kPermission, std::move(m)); }
  static Status Unavailable(std::string m) { return Status(Code::kUnavailable, std::move(m)); }
  static Status Locked(std::string m) { return Status(Code::kLocked, std::move(m)); }
  // Maps an errno from a filesystem call to the matching code.
  static Status FromErrno(int err, const std::string& what);

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  // Transient: the same operation may succeed later without any change of
  // input (disk freed, lock released, permission fixed, service back).
  bool IsTransient() const {
    return code_ == Code::kBusy || code_ == Code::kNoSpace || code_ == Code::kPermission ||
           code_ == Code::kIoError || code_ == Code::kUnavailable;
  }
  std::string ToString() const;

 private:
  Status(Code c, std::string m) : code_(c), message_(std::move(m)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

}  // namespace indafoto

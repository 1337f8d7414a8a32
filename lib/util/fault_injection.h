// Test-only fault injection, inert unless its environment variables are set.
//
//   INDAFOTO_SYNCD_CRASH_AT=<point>:<n>   kill -9 ourselves at the n-th time
//                                         execution reaches <point>
//   INDAFOTO_SYNCD_FAIL_AT=<point>:<errno name>[:<n>]
//                                         make the operation at <point> fail
//                                         with that errno (ENOSPC, EACCES,
//                                         EIO) from its n-th time on
//
// The crash-safety tests use these to stop an import between any two of its
// durable steps; production runs never set them.
#pragma once

#include <string_view>

namespace indafoto {

void CrashPoint(std::string_view point);
// errno to simulate at `point`, or 0.
int InjectedErrno(std::string_view point);

}  // namespace indafoto

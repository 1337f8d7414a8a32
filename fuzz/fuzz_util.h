// Shared helpers of the libFuzzer targets (fuzz/README in docs/fuzzing.md).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "lib/archive/remote_image.h"

namespace indafoto::fuzz {

// Stops the run with a message libFuzzer shows next to the crashing input.
[[noreturn]] inline void Fail(std::string_view what, std::string_view detail) {
  std::fprintf(stderr, "FUZZ INVARIANT BROKEN: %.*s: %.*s\n", static_cast<int>(what.size()), what.data(),
               static_cast<int>(detail.size()), detail.data());
  std::abort();
}

// The catalog store keeps every accepted entry as RemoteImageToJson text,
// reads it back with RemoteImageFromJson and compares records textually to
// notice changes. So an accepted entry must survive that round trip, and
// the text must be stable (else every reload looks like a change).
inline void CheckRoundTrip(const RemoteImage& img) {
  const std::string json = RemoteImageToJson(img);
  RemoteImage back;
  if (Status s = RemoteImageFromJson(json, &back); !s.ok())
    Fail("stored record does not parse back (" + s.message() + ")", json);
  const std::string again = RemoteImageToJson(back);
  if (again != json) Fail("stored record changes on a round trip", json + "\n  became\n" + again);
}

}  // namespace indafoto::fuzz

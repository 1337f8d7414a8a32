// Fuzz target: the manifest index (manifest.json) — the outer signed
// document, the payload it carries and the signature check, i.e. what
// ManifestReader::ReadAll does with manifest.json before it touches a part.
// The input is also parsed as a bare payload, so mutations reach the
// payload checks without having to keep a JSON string escaped.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "lib/catalog/manifest.h"
#include "lib/catalog/manifest_reader.h"
#include "lib/catalog/publisher_key.h"

using namespace indafoto;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);

  ManifestPayload payload;
  (void)ParseManifestPayload(text, &payload);

  SignedManifest outer;
  if (!ParseSignedManifest(text, &outer).ok()) return 0;
  // Base64 decoding and Ed25519 verification of hostile text.
  (void)VerifySignatureBase64(outer.payload, outer.signature, outer.public_key);
  if (ParseManifestPayload(outer.payload, &payload).ok()) {
    int64_t total = 0;
    for (const ManifestPart& p : payload.parts) total += p.count;
    if (total != payload.image_count) __builtin_trap();
  }
  return 0;
}

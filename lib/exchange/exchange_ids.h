// Names both sides of an exchange derive the same way, and the sender
// choice in a mesh (docs/architecture.md, "The exchange").
//
// A peer pair has two Syncthing folders, one per direction: the sender's
// outgoing folder (send-only) is the receiver's incoming folder
// (receive-only). Its id depends only on the two device IDs, in order
// sender -> receiver, so two daemons configured with each other's device
// ID create the same folder without anyone clicking "accept".
#pragma once

#include <cstdint>
#include <string>

namespace indafoto {

// "indafoto-x-" + the first 16 hex digits of SHA-256("<sender>:<receiver>"),
// device IDs upper case with dashes (as Config keeps them).
std::string ExchangeFolderId(const std::string& sender_device, const std::string& receiver_device);

// Rendezvous (highest random weight) score of `holder` for sending the
// image `sha256` to `receiver`: the first 8 bytes of
// SHA-256("<sha256>:<holder>:<receiver>") as a big-endian integer. Every
// node that knows the same holders ranks them the same, so one of them
// sends; a holder leaving moves only its own images to the next one.
uint64_t RendezvousScore(const std::string& sha256, const std::string& holder_device,
                         const std::string& receiver_device);

}  // namespace indafoto

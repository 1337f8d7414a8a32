#include "lib/exchange/exchange_ids.h"

#include "lib/util/sha256.h"

namespace indafoto {

std::string ExchangeFolderId(const std::string& sender_device, const std::string& receiver_device) {
  return "indafoto-x-" + Sha256Hex(sender_device + ":" + receiver_device).substr(0, 16);
}

uint64_t RendezvousScore(const std::string& sha256, const std::string& holder_device,
                         const std::string& receiver_device) {
  std::string hex = Sha256Hex(sha256 + ":" + holder_device + ":" + receiver_device);
  return std::stoull(hex.substr(0, 16), nullptr, 16);
}

}  // namespace indafoto

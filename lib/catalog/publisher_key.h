// The publisher's Ed25519 key pair (libsodium), which signs the manifest.
//
// On disk the key is a small text file holding the 32-byte seed:
//
//   # indafoto-syncd publisher key (Ed25519 seed, base64) ...
//   <base64 of 32 bytes>
//
// It is created on first use with mode 0600 (O_EXCL, so two processes never
// both create one), its missing parent directories with mode 0700, and the
// public key is written beside it as "<key path>.pub" for operators to
// compare out of band. A key file that group or others may read or write is
// refused, and so is a key path inside the shared folder (Syncthing would
// publish the secret).
#pragma once

#include <sodium.h>

#include <array>
#include <filesystem>
#include <string>
#include <string_view>

#include "lib/util/status.h"

namespace indafoto {

class PublisherKey {
 public:
  PublisherKey() = default;
  ~PublisherKey();  // wipes the secret key
  PublisherKey(const PublisherKey&) = delete;
  PublisherKey& operator=(const PublisherKey&) = delete;
  PublisherKey(PublisherKey&& o) noexcept;
  PublisherKey& operator=(PublisherKey&& o) noexcept;

  // Loads the key at `key_path`, or creates it there when no file exists.
  // `shared_folder` is the folder Syncthing shares (image_root): a key path
  // that resolves inside it is refused. `created` (may be null) tells
  // whether a new key was made.
  static Status LoadOrCreate(const std::filesystem::path& key_path,
                             const std::filesystem::path& shared_folder, PublisherKey* out,
                             bool* created);
  // Loads an existing key; NotFound when there is none.
  static Status Load(const std::filesystem::path& key_path, PublisherKey* out);
  // A fresh key in memory only (tests, tools).
  static Status Generate(PublisherKey* out);

  bool valid() const { return valid_; }
  // Base64 (RFC 4648 alphabet, padded) of the 32-byte public key.
  std::string PublicKeyBase64() const;
  // Base64 of the 64-byte Ed25519 detached signature of `message`.
  std::string SignBase64(std::string_view message) const;

 private:
  void Wipe();
  std::array<unsigned char, crypto_sign_PUBLICKEYBYTES> pk_{};
  std::array<unsigned char, crypto_sign_SECRETKEYBYTES> sk_{};
  bool valid_ = false;
};

// Verifies an Ed25519 detached signature given in base64 over `message`
// with the base64 public key. Corrupt with the reason when it does not hold
// (malformed base64, wrong lengths, or a signature that does not verify).
Status VerifySignatureBase64(std::string_view message, std::string_view signature_b64,
                             std::string_view public_key_b64);

// Base64 helpers (RFC 4648 alphabet, with padding), as used by the manifest.
std::string Base64Encode(const unsigned char* data, size_t size);
// False when `text` is not canonical padded base64.
bool Base64Decode(std::string_view text, std::string* out);

}  // namespace indafoto

// The two primitives behind secret fields, on OpenSSL 3 EVP: PBKDF2-HMAC-SHA256 to turn a
// passphrase into a key, and AES-256-GCM to seal and open values.
//
// Randomness comes in as arguments (salt, nonce): the caller draws it from RandomBytes, and
// tests pass the published vectors (RFC 7914 for PBKDF2, the GCM specification's test
// cases). Nothing here keeps state; every function is safe from any thread.
//
// May call: the standard library, OpenSSL, RE2 and s3db/errors.h; nothing else of s3db.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace s3db::util {

// PBKDF2 iterations accepted at most, from options or from a catalog (~30 s of derivation).
inline constexpr uint32_t kMaxKdfIterations = 10000000;
inline constexpr size_t kAes256KeyBytes = 32;
inline constexpr size_t kGcmNonceBytes = 12;
inline constexpr size_t kGcmTagBytes = 16;

// `length` bytes of PBKDF2-HMAC-SHA256(passphrase, salt, iterations). Aborts only if
// OpenSSL itself fails (out of memory).
std::string Pbkdf2HmacSha256(std::string_view passphrase, std::string_view salt, uint32_t iterations, size_t length);

// ciphertext || 16-byte tag. `key` is 32 bytes and `nonce` 12; a nonce must never repeat
// under one key (callers draw 96 random bits per value).
std::string Aes256GcmSeal(std::string_view key, std::string_view nonce, std::string_view aad,
                          std::string_view plaintext);

// The plaintext, or nullopt when the tag does not verify: the ciphertext, the tag, the nonce
// or the associated data were changed, or the key is not the one that sealed it.
std::optional<std::string> Aes256GcmOpen(std::string_view key, std::string_view nonce, std::string_view aad,
                                         std::string_view sealed);

// AES-256-GCM under one key, as Aes256GcmSeal/Open compute it, but keeping OpenSSL contexts
// with the key already set between calls, so a value costs setting its nonce, not a key
// setup and two allocations. Thread-safe. The contexts (and the key copy) are wiped when it
// is destroyed, so the key lives as long as its owner wants, no longer.
class GcmKey {
 public:
  explicit GcmKey(std::string_view key);  // 32 bytes
  ~GcmKey();
  GcmKey(const GcmKey&) = delete;
  GcmKey& operator=(const GcmKey&) = delete;

  std::string Seal(std::string_view nonce, std::string_view aad, std::string_view plaintext) const;
  std::optional<std::string> Open(std::string_view nonce, std::string_view aad, std::string_view sealed) const;

 private:
  struct Pool;
  std::unique_ptr<Pool> pool_;
};

// Overwrites a string's bytes before it is freed (OPENSSL_cleanse cannot be optimised out).
void Wipe(std::string* secret);

}  // namespace s3db::util

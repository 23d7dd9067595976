// Keyring: the keys that seal secret fields, derived from the database passphrase and
// described by the catalog's "crypto" section (docs/FORMAT.md "Catalog", "Secret fields").
//
//   master = PBKDF2-HMAC-SHA256(passphrase, salt, iterations)      once per key, not per value
//   key    = HMAC-SHA256(master, "s3db secret-field key v1")       seals values (AES-256-GCM)
//   check  = HMAC-SHA256(master, "s3db key check v1")              stored: tells a wrong passphrase
//
// Each key has an id (1, 2, ...); every sealed value names the key that sealed it. A key
// rotation adds a key derived from the new passphrase and stores every older key wrapped
// (AES-256-GCM) under it, so the new passphrase alone opens records sealed before; they are
// re-sealed with the new key as they are rewritten.
//
// Thread-safety: every method may be called from any thread.
//
// May call: schema/, format/, util/.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>

#include "s3db/errors.h"
#include "s3db/record.h"
#include "util/secret_cipher.h"

namespace s3db::core {

inline constexpr uint32_t kDefaultKdfIterations = 210000;  // OWASP 2023 for PBKDF2-HMAC-SHA256
inline constexpr size_t kSaltBytes = 16;

// A key made from a passphrase, ready to be written to the catalog. Wipes its key bytes
// when it goes away.
struct NewKey {
  Json entry;       // the "keys" item: id, salt, iterations, check, createdAt
  std::string key;  // 32 bytes
  uint64_t id = 0;

  NewKey() = default;
  NewKey(const NewKey&) = default;
  NewKey(NewKey&&) = default;
  NewKey& operator=(const NewKey&) = default;
  NewKey& operator=(NewKey&&) = default;
  ~NewKey() { util::Wipe(&key); }
};

class Keyring {
 public:
  Keyring(std::optional<std::string> passphrase, uint32_t iterations);
  ~Keyring();
  Keyring(const Keyring&) = delete;
  Keyring& operator=(const Keyring&) = delete;

  bool has_passphrase() const;

  // Derives a first key (id 1, fresh salt) from the passphrase. Precondition: has_passphrase().
  NewKey DeriveFirstKey(int64_t now_ms) const;
  // Derives a key from `passphrase` with a fresh salt (PBKDF2: slow by design); Rotate gives
  // it its id.
  NewKey DeriveKey(const std::string& passphrase, int64_t now_ms) const;
  // The catalog "crypto" section holding just `first`.
  static Json FirstSection(const NewKey& first);

  // Agrees with the catalog's "crypto" section: derives the current key from the passphrase
  // (once; cached) and unwraps the older keys with it. Returns
  //   kAccessDenied when there is no passphrase, or it opens no key of the section (the
  //   message says whether it is a rotated-out passphrase). With `require_current`, also when
  //   it opens an older key but not the current one (another process rotated the key);
  //   without, this keyring goes on sealing with the newest key it has.
  //   kCorruption when the section is malformed or a wrapped key does not open.
  Status Unlock(const Json& crypto, bool require_current);

  // `crypto` with `next` (from DeriveKey) as its new current key and every older key wrapped
  // under it; returns the section and `next` with its id. Cheap (no PBKDF2), so it can run
  // inside a catalog update that may be retried. Precondition: this keyring has every key of
  // `crypto` open. kConflict when the section's current key is not this keyring's (another
  // process rotated meanwhile).
  Result<std::pair<Json, NewKey>> Rotate(const Json& crypto, NewKey next, int64_t now_ms) const;
  // Once `key`'s section is in the catalog: seal with it (no second derivation).
  void Install(const NewKey& key);
  // After a rotation: the passphrase this connection derives keys from from now on.
  void SetPassphrase(const std::string& passphrase);

  // Id of the key new values are sealed with; 0 when this keyring has none.
  uint64_t current_id() const;

  // "E<id>:<base64>" (format/value_codec.h EncodeSealed): AES-256-GCM with a fresh random
  // 96-bit nonce under the current key, bound to `aad`. Precondition: current_id() != 0.
  std::string Seal(std::string_view plaintext, std::string_view aad) const;
  // The plaintext of a sealed text. kCorruption for a malformed text, an unknown key id or a
  // failed authentication (tampered, or moved from another record or field); kAccessDenied
  // for a key of the catalog this keyring cannot open. Never echoes plaintext.
  Result<std::string> Open(std::string_view text, std::string_view aad) const;

  // Pure form of Seal, for golden vectors: the text for a given key, key id and nonce.
  static std::string SealWith(std::string_view key, uint64_t key_id, std::string_view nonce, std::string_view aad,
                              std::string_view plaintext);
  // Derivation, exposed for golden vectors: {key, check} of a passphrase and salt.
  static std::pair<std::string, std::string> Derive(std::string_view passphrase, std::string_view salt,
                                                    uint32_t iterations);

 private:
  mutable std::shared_mutex mu_;
  std::optional<std::string> passphrase_;
  uint32_t iterations_;
  std::map<uint64_t, std::string> keys_;  // id -> 32-byte key
  // The AES contexts of a key, made on its first use. keys_ only ever gains ids (an id's key
  // never changes), so one made stays right; freed, and wiped, with the keyring.
  const util::GcmKey& Cipher(uint64_t id, const std::string& key) const;  // mu_ held
  mutable std::mutex ciphers_mu_;
  mutable std::map<uint64_t, std::unique_ptr<util::GcmKey>> ciphers_;
  std::set<uint64_t> catalog_ids_;      // ids the catalog knows (opened or not)
  std::set<std::string> failed_salts_;  // salts our passphrase does not open: never re-derive
  uint64_t current_ = 0;
};

}  // namespace s3db::core

#include "record/keyring.h"

#include <openssl/crypto.h>

#include <vector>

#include "format/value_codec.h"
#include "util/crypto_hash.h"
#include "util/secret_cipher.h"
#include "util/time_format.h"

namespace s3db::core {
namespace {

constexpr const char* kKdfName = "pbkdf2-hmac-sha256";
constexpr const char* kCipherName = "aes-256-gcm";
constexpr const char* kKeyLabel = "s3db secret-field key v1";
constexpr const char* kCheckLabel = "s3db key check v1";

struct KeyEntry {
  uint64_t id = 0;
  std::string salt;
  uint32_t iterations = 0;
  std::string check;
  std::string created_at;
  std::optional<std::string> wrapped;  // nonce || AES-GCM(current key, this key) || tag
  std::optional<std::string> retired_at;
};

struct Section {
  uint64_t current = 0;
  std::vector<KeyEntry> keys;  // ascending id

  const KeyEntry* Find(uint64_t id) const {
    for (const auto& e : keys) {
      if (e.id == id) return &e;
    }
    return nullptr;
  }
};

Status Malformed(const std::string& what) {
  return Status(ErrorCode::kCorruption, "the catalog's crypto section is malformed: " + what);
}

std::string B64(std::string_view bytes) { return util::Base64Encode(bytes); }

bool FromB64(const Json& v, std::string* out) { return v.is_string() && util::Base64Decode(v.get<std::string>(), out); }

Result<Section> Parse(const Json& crypto) {
  if (!crypto.is_object()) return Malformed("not an object");
  if (crypto.value("kdf", "") != kKdfName) return Malformed("kdf is not " + std::string(kKdfName));
  if (crypto.value("cipher", "") != kCipherName) return Malformed("cipher is not " + std::string(kCipherName));
  if (!crypto.contains("current") || !crypto["current"].is_number_unsigned()) return Malformed("no current key id");
  if (!crypto.contains("keys") || !crypto["keys"].is_array()) return Malformed("no keys");
  Section s;
  s.current = crypto["current"].get<uint64_t>();
  for (const auto& k : crypto["keys"]) {
    KeyEntry e;
    if (!k.is_object() || !k.contains("id") || !k["id"].is_number_unsigned()) return Malformed("a key has no id");
    e.id = k["id"].get<uint64_t>();
    if (!FromB64(k.value("salt", Json()), &e.salt) || e.salt.empty())
      return Malformed("key " + std::to_string(e.id) + " has no salt");
    if (!k.contains("iterations") || !k["iterations"].is_number_unsigned() || k["iterations"].get<uint64_t>() == 0) {
      return Malformed("key " + std::to_string(e.id) + " has no iteration count");
    }
    // A tampered catalog must not make every connect spin for hours (or overflow OpenSSL's int).
    if (k["iterations"].get<uint64_t>() > util::kMaxKdfIterations) {
      return Malformed("key " + std::to_string(e.id) + " has " + std::to_string(k["iterations"].get<uint64_t>()) +
                       " iterations; at most " + std::to_string(util::kMaxKdfIterations) + " are accepted");
    }
    if (e.salt.size() > 1024) return Malformed("key " + std::to_string(e.id) + " has a salt over 1024 bytes");
    e.iterations = k["iterations"].get<uint32_t>();
    if (!FromB64(k.value("check", Json()), &e.check) || e.check.size() != 32) {
      return Malformed("key " + std::to_string(e.id) + " has no check value");
    }
    e.created_at = k.value("createdAt", "");
    if (k.contains("wrapped")) {
      std::string w;
      if (!FromB64(k["wrapped"], &w) || w.size() != util::kGcmNonceBytes + util::kAes256KeyBytes + util::kGcmTagBytes) {
        return Malformed("key " + std::to_string(e.id) + " has a bad wrapped copy");
      }
      e.wrapped = std::move(w);
    }
    if (k.contains("retiredAt") && k["retiredAt"].is_string()) e.retired_at = k["retiredAt"].get<std::string>();
    if (!s.keys.empty() && e.id <= s.keys.back().id) return Malformed("key ids are not ascending");
    s.keys.push_back(std::move(e));
  }
  const KeyEntry* current = s.Find(s.current);
  if (!current) return Malformed("the current key " + std::to_string(s.current) + " is not listed");
  if (current->wrapped) return Malformed("the current key is wrapped");
  for (const auto& e : s.keys) {
    if (e.id != s.current && !e.wrapped) return Malformed("older key " + std::to_string(e.id) + " is not wrapped");
  }
  return s;
}

std::string WrapAad(uint64_t wrapped_id, uint64_t under_id) {
  return "s3db key wrap v1|" + std::to_string(wrapped_id) + "|" + std::to_string(under_id);
}

Json EntryJson(uint64_t id, const std::string& salt, uint32_t iterations, const std::string& check,
               const std::string& created_at) {
  return Json{
      {"id", id}, {"salt", B64(salt)}, {"iterations", iterations}, {"check", B64(check)}, {"createdAt", created_at}};
}

}  // namespace

Keyring::Keyring(std::optional<std::string> passphrase, uint32_t iterations)
    : passphrase_(std::move(passphrase)), iterations_(iterations) {}

Keyring::~Keyring() {
  for (auto& [id, key] : keys_) util::Wipe(&key);
  if (passphrase_) util::Wipe(&*passphrase_);
}

bool Keyring::has_passphrase() const {
  std::shared_lock lock(mu_);
  return passphrase_.has_value();
}

std::pair<std::string, std::string> Keyring::Derive(std::string_view passphrase, std::string_view salt,
                                                    uint32_t iterations) {
  std::string master = util::Pbkdf2HmacSha256(passphrase, salt, iterations, util::kAes256KeyBytes);
  std::pair<std::string, std::string> out{util::HmacSha256(master, kKeyLabel), util::HmacSha256(master, kCheckLabel)};
  util::Wipe(&master);
  return out;
}

NewKey Keyring::DeriveKey(const std::string& passphrase, int64_t now_ms) const {
  const std::string salt = util::RandomBytes(kSaltBytes);
  auto [key, check] = Derive(passphrase, salt, iterations_);
  NewKey out;
  out.id = 1;
  out.key = std::move(key);
  out.entry = EntryJson(1, salt, iterations_, check, util::FormatIso8601Ms(now_ms));
  return out;
}

NewKey Keyring::DeriveFirstKey(int64_t now_ms) const {
  std::string passphrase;
  {
    std::shared_lock lock(mu_);
    passphrase = *passphrase_;
  }
  NewKey out = DeriveKey(passphrase, now_ms);
  util::Wipe(&passphrase);
  return out;
}

Json Keyring::FirstSection(const NewKey& first) {
  return Json{{"kdf", kKdfName}, {"cipher", kCipherName}, {"current", first.id}, {"keys", Json::array({first.entry})}};
}

Status Keyring::Unlock(const Json& crypto, bool require_current) {
  Result<Section> parsed = Parse(crypto);
  if (!parsed.ok()) return parsed.status();
  const Section& section = *parsed;
  std::unique_lock lock(mu_);
  for (const auto& e : section.keys) catalog_ids_.insert(e.id);

  auto unwrap_older = [&](const std::string& current_key) -> Status {
    for (const auto& e : section.keys) {
      if (e.id == section.current || keys_.count(e.id)) continue;
      const std::string& w = *e.wrapped;
      std::optional<std::string> key =
          util::Aes256GcmOpen(current_key, std::string_view(w).substr(0, util::kGcmNonceBytes),
                              WrapAad(e.id, section.current), std::string_view(w).substr(util::kGcmNonceBytes));
      if (!key || key->size() != util::kAes256KeyBytes) {
        return Status(ErrorCode::kCorruption, "the catalog's wrapped copy of key " + std::to_string(e.id) +
                                                  " does not open with key " + std::to_string(section.current));
      }
      keys_[e.id] = std::move(*key);
    }
    return Status::Ok();
  };

  if (auto it = keys_.find(section.current); it != keys_.end()) {
    current_ = section.current;
    return unwrap_older(it->second);
  }
  const KeyEntry& cur = *section.Find(section.current);
  if (!passphrase_) {
    return Status(ErrorCode::kAccessDenied,
                  "this database has secret fields and no passphrase was given (set DatabaseOptions::passphrase; "
                  "the s3db command reads --passphrase-file or $S3DB_PASSPHRASE)");
  }
  if (!failed_salts_.count(cur.salt)) {
    auto [key, check] = Derive(*passphrase_, cur.salt, cur.iterations);
    if (CRYPTO_memcmp(check.data(), cur.check.data(), check.size()) == 0) {
      keys_[cur.id] = key;
      current_ = cur.id;
      Status older = unwrap_older(key);
      util::Wipe(&key);
      return older;
    }
    util::Wipe(&key);
    failed_salts_.insert(cur.salt);
  }
  // Not the current key's passphrase. Keep sealing with the newest key we already hold, if
  // any (a rotation by another process), and say which passphrase this is.
  if (!require_current && current_ != 0) return Status::Ok();
  std::string which;
  for (auto e = section.keys.rbegin(); e != section.keys.rend(); ++e) {
    if (e->id == section.current || failed_salts_.count(e->salt)) continue;
    auto [key, check] = Derive(*passphrase_, e->salt, e->iterations);
    util::Wipe(&key);
    if (CRYPTO_memcmp(check.data(), e->check.data(), check.size()) == 0) {
      which = "it is the passphrase of key " + std::to_string(e->id) + ", replaced by key " +
              std::to_string(section.current) + (e->retired_at ? " at " + *e->retired_at : std::string()) +
              " (a key rotation): use the new passphrase";
      break;
    }
    failed_salts_.insert(e->salt);
  }
  if (which.empty()) which = "it does not match the key check value in the catalog";
  return Status(ErrorCode::kAccessDenied, "the passphrase is wrong for this database: " + which);
}

Result<std::pair<Json, NewKey>> Keyring::Rotate(const Json& crypto, NewKey next, int64_t now_ms) const {
  Result<Section> parsed = Parse(crypto);
  if (!parsed.ok()) return parsed.status();
  const Section& section = *parsed;
  std::map<uint64_t, std::string> keys;
  {
    std::shared_lock lock(mu_);
    if (current_ != section.current) {
      return Status(ErrorCode::kConflict, "the database key changed since this connection opened it (key " +
                                              std::to_string(section.current) +
                                              " is current now, this connection has " + std::to_string(current_) +
                                              "); reconnect and rotate again");
    }
    for (const auto& e : section.keys) {
      auto it = keys_.find(e.id);
      if (it == keys_.end()) {
        return Status(ErrorCode::kAccessDenied, "key " + std::to_string(e.id) + " of the catalog is not open");
      }
      keys[e.id] = it->second;
    }
  }
  next.id = section.keys.back().id + 1;
  next.entry["id"] = next.id;
  Json out = crypto;
  out["current"] = next.id;
  for (auto& k : out["keys"]) {
    const uint64_t id = k["id"].get<uint64_t>();
    const std::string nonce = util::RandomBytes(util::kGcmNonceBytes);
    k["wrapped"] = B64(nonce + util::Aes256GcmSeal(next.key, nonce, WrapAad(id, next.id), keys[id]));
    if (!k.contains("retiredAt")) k["retiredAt"] = util::FormatIso8601Ms(now_ms);
  }
  out["keys"].push_back(next.entry);
  for (auto& [id, k] : keys) util::Wipe(&k);
  return std::make_pair(std::move(out), std::move(next));
}

void Keyring::Install(const NewKey& key) {
  std::unique_lock lock(mu_);
  keys_[key.id] = key.key;
  catalog_ids_.insert(key.id);
  current_ = key.id;
}

void Keyring::SetPassphrase(const std::string& passphrase) {
  std::unique_lock lock(mu_);
  if (passphrase_) util::Wipe(&*passphrase_);
  passphrase_ = passphrase;
  failed_salts_.clear();
}

uint64_t Keyring::current_id() const {
  std::shared_lock lock(mu_);
  return current_;
}

namespace {

// The stored text of a sealed value: nonce || ciphertext || tag, under its key id.
std::string SealedText(uint64_t key_id, std::string_view nonce, std::string_view sealed) {
  std::string blob;
  blob.reserve(nonce.size() + sealed.size());
  blob += nonce;
  blob += sealed;
  return format::EncodeSealed(key_id, blob);
}

}  // namespace

std::string Keyring::SealWith(std::string_view key, uint64_t key_id, std::string_view nonce, std::string_view aad,
                              std::string_view plaintext) {
  return SealedText(key_id, nonce, util::Aes256GcmSeal(key, nonce, aad, plaintext));
}

const util::GcmKey& Keyring::Cipher(uint64_t id, const std::string& key) const {
  std::lock_guard lock(ciphers_mu_);
  std::unique_ptr<util::GcmKey>& cipher = ciphers_[id];
  if (!cipher) cipher = std::make_unique<util::GcmKey>(key);
  return *cipher;
}

std::string Keyring::Seal(std::string_view plaintext, std::string_view aad) const {
  std::shared_lock lock(mu_);
  const std::string nonce = util::RandomBytes(util::kGcmNonceBytes);
  // SealWith's text, with the key's kept contexts.
  return SealedText(current_, nonce, Cipher(current_, keys_.at(current_)).Seal(nonce, aad, plaintext));
}

Result<std::string> Keyring::Open(std::string_view text, std::string_view aad) const {
  Result<format::SealedValue> sealed = format::DecodeSealed(text);
  if (!sealed.ok()) {
    // Not quoted: whatever sits in a secret field is not for messages.
    return Status(ErrorCode::kCorruption, "its sealed value is malformed");
  }
  std::shared_lock lock(mu_);
  auto it = keys_.find(sealed->key_id);
  if (it == keys_.end()) {
    if (catalog_ids_.count(sealed->key_id) || !passphrase_) {
      return Status(ErrorCode::kAccessDenied,
                    "it is sealed with key " + std::to_string(sealed->key_id) +
                        ", which this connection cannot open (no passphrase, or the key was rotated: "
                        "reconnect with the current passphrase)");
    }
    return Status(ErrorCode::kCorruption,
                  "it names key " + std::to_string(sealed->key_id) + ", which the catalog does not have");
  }
  const std::string_view blob = sealed->blob;
  std::optional<std::string> plain =
      Cipher(it->first, it->second).Open(blob.substr(0, util::kGcmNonceBytes), aad, blob.substr(util::kGcmNonceBytes));
  if (!plain) {
    return Status(ErrorCode::kCorruption,
                  "its sealed value fails authentication (changed, or moved from another record or field)");
  }
  return std::move(*plain);
}

}  // namespace s3db::core

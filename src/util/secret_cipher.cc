#include "util/secret_cipher.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <vector>

namespace s3db::util {

// Outside the anonymous namespace: GcmKey::Pool, a class with linkage, holds them.
struct EvpCipherCtxFree {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, EvpCipherCtxFree>;

namespace {

const unsigned char* Bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

// Only a broken OpenSSL (or exhausted memory) fails the calls below with valid sizes.
void Check(int ok) {
  if (ok != 1) std::abort();
}

// OpenSSL 3 looks a cipher up in its provider store (under a lock) on every init given
// EVP_aes_256_gcm(); fetching it once spares that on every sealed value.
const EVP_CIPHER* Aes256Gcm() {
  static EVP_CIPHER* const cipher = [] {
    EVP_CIPHER* fetched = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
    if (!fetched) std::abort();
    return fetched;
  }();
  return cipher;
}

CipherCtx Start(std::string_view key, std::string_view nonce, bool encrypt) {
  if (key.size() != kAes256KeyBytes || nonce.size() != kGcmNonceBytes) std::abort();
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (!ctx) std::abort();
  Check(EVP_CipherInit_ex(ctx.get(), Aes256Gcm(), nullptr, nullptr, nullptr, encrypt ? 1 : 0));
  Check(EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(kGcmNonceBytes), nullptr));
  Check(EVP_CipherInit_ex(ctx.get(), nullptr, nullptr, Bytes(key), Bytes(nonce), encrypt ? 1 : 0));
  return ctx;
}

void Aad(EVP_CIPHER_CTX* ctx, std::string_view aad) {
  if (aad.empty()) return;
  int len = 0;
  Check(EVP_CipherUpdate(ctx, nullptr, &len, Bytes(aad), static_cast<int>(aad.size())));
}

}  // namespace

std::string Pbkdf2HmacSha256(std::string_view passphrase, std::string_view salt, uint32_t iterations, size_t length) {
  std::string out(length, '\0');
  Check(PKCS5_PBKDF2_HMAC(passphrase.data(), static_cast<int>(passphrase.size()), Bytes(salt),
                          static_cast<int>(salt.size()), static_cast<int>(iterations), EVP_sha256(),
                          static_cast<int>(length), reinterpret_cast<unsigned char*>(out.data())));
  return out;
}

namespace {

// Encrypts in a context whose key and nonce are set.
std::string SealIn(EVP_CIPHER_CTX* ctx, std::string_view aad, std::string_view plaintext) {
  Aad(ctx, aad);
  std::string out(plaintext.size() + kGcmTagBytes, '\0');
  auto* dst = reinterpret_cast<unsigned char*>(out.data());
  int len = 0;
  if (!plaintext.empty()) {
    Check(EVP_CipherUpdate(ctx, dst, &len, Bytes(plaintext), static_cast<int>(plaintext.size())));
  }
  int tail = 0;
  Check(EVP_CipherFinal_ex(ctx, dst + len, &tail));
  Check(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, static_cast<int>(kGcmTagBytes), dst + plaintext.size()));
  return out;
}

// Decrypts in a context whose key and nonce are set; nullopt when the tag does not verify.
std::optional<std::string> OpenIn(EVP_CIPHER_CTX* ctx, std::string_view aad, std::string_view sealed) {
  const size_t n = sealed.size() - kGcmTagBytes;
  Aad(ctx, aad);
  std::string out(n, '\0');
  auto* dst = reinterpret_cast<unsigned char*>(out.data());
  int len = 0;
  if (n > 0) Check(EVP_CipherUpdate(ctx, dst, &len, Bytes(sealed), static_cast<int>(n)));
  unsigned char tag[kGcmTagBytes];  // OpenSSL wants it writable; it copies it
  std::memcpy(tag, sealed.data() + n, kGcmTagBytes);
  Check(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, static_cast<int>(kGcmTagBytes), tag));
  int tail = 0;
  if (EVP_CipherFinal_ex(ctx, dst + len, &tail) != 1) {
    Wipe(&out);
    return std::nullopt;
  }
  return out;
}

}  // namespace

std::string Aes256GcmSeal(std::string_view key, std::string_view nonce, std::string_view aad,
                          std::string_view plaintext) {
  CipherCtx ctx = Start(key, nonce, /*encrypt=*/true);
  return SealIn(ctx.get(), aad, plaintext);
}

std::optional<std::string> Aes256GcmOpen(std::string_view key, std::string_view nonce, std::string_view aad,
                                         std::string_view sealed) {
  if (sealed.size() < kGcmTagBytes) return std::nullopt;
  CipherCtx ctx = Start(key, nonce, /*encrypt=*/false);
  return OpenIn(ctx.get(), aad, sealed);
}

// ---- GcmKey ----------------------------------------------------------------------------------

struct GcmKey::Pool {
  std::string key;
  std::mutex mu;
  std::vector<CipherCtx> idle[2];  // [encrypt]: contexts with the key set, between uses

  // A context for `encrypt` with the key set and `nonce` as its IV.
  CipherCtx Take(bool encrypt, std::string_view nonce) {
    if (nonce.size() != kGcmNonceBytes) std::abort();
    CipherCtx ctx;
    {
      std::lock_guard lock(mu);
      auto& stack = idle[encrypt ? 1 : 0];
      if (!stack.empty()) {
        ctx = std::move(stack.back());
        stack.pop_back();
      }
    }
    if (!ctx) return Start(key, nonce, encrypt);
    // Only the IV changes: the expanded key stays, which is the point of keeping contexts.
    Check(EVP_CipherInit_ex(ctx.get(), nullptr, nullptr, nullptr, Bytes(nonce), encrypt ? 1 : 0));
    return ctx;
  }
  void Give(bool encrypt, CipherCtx ctx) {
    constexpr size_t kMaxIdle = 64;  // enough for any concurrency we run at
    std::lock_guard lock(mu);
    auto& stack = idle[encrypt ? 1 : 0];
    if (stack.size() < kMaxIdle) stack.push_back(std::move(ctx));
  }
};

GcmKey::GcmKey(std::string_view key) : pool_(std::make_unique<Pool>()) {
  if (key.size() != kAes256KeyBytes) std::abort();
  pool_->key = std::string(key);
}

GcmKey::~GcmKey() { Wipe(&pool_->key); }  // the contexts wipe their key as they are freed

std::string GcmKey::Seal(std::string_view nonce, std::string_view aad, std::string_view plaintext) const {
  CipherCtx ctx = pool_->Take(/*encrypt=*/true, nonce);
  std::string out = SealIn(ctx.get(), aad, plaintext);
  pool_->Give(true, std::move(ctx));
  return out;
}

std::optional<std::string> GcmKey::Open(std::string_view nonce, std::string_view aad, std::string_view sealed) const {
  if (sealed.size() < kGcmTagBytes) return std::nullopt;
  CipherCtx ctx = pool_->Take(/*encrypt=*/false, nonce);
  std::optional<std::string> out = OpenIn(ctx.get(), aad, sealed);
  pool_->Give(false, std::move(ctx));
  return out;
}

void Wipe(std::string* secret) {
  if (!secret->empty()) OPENSSL_cleanse(secret->data(), secret->size());
  secret->clear();
}

}  // namespace s3db::util

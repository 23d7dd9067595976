#include "util/crypto_hash.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace s3db::util {
namespace {

// Digests fetched once: given EVP_md5()/EVP_sha256(), OpenSSL 3 looks the digest up in its
// provider store (under a lock) on every call, which costs more than hashing a small body.
const EVP_MD* Fetched(const char* name) {
  EVP_MD* md = EVP_MD_fetch(nullptr, name, nullptr);
  if (!md) std::abort();
  return md;
}
const EVP_MD* Md5Digest() {
  static const EVP_MD* const md = Fetched("MD5");
  return md;
}
const EVP_MD* Sha256Digest() {
  static const EVP_MD* const md = Fetched("SHA256");
  return md;
}

std::string Digest(const EVP_MD* md, std::string_view data) {
  // One context per thread, reset by each Init: EVP_Digest would allocate and free one per
  // call, which for the small bodies of records costs as much as the hashing.
  struct CtxDeleter {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
  };
  thread_local const std::unique_ptr<EVP_MD_CTX, CtxDeleter> ctx(EVP_MD_CTX_new());
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!ctx || EVP_DigestInit_ex2(ctx.get(), md, nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), data.data(), data.size()) != 1 || EVP_DigestFinal_ex(ctx.get(), out, &len) != 1) {
    std::abort();
  }
  return std::string(reinterpret_cast<char*>(out), len);
}

}  // namespace

std::string Md5(std::string_view data) { return Digest(Md5Digest(), data); }
std::string Sha256(std::string_view data) { return Digest(Sha256Digest(), data); }

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(Sha256Digest(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len) == nullptr) {
    std::abort();
  }
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string HexEncode(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

std::string Base64Encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

bool Base64Decode(std::string_view text, std::string* out) {
  // EVP_DecodeBlock accepts whitespace and ignores padding; be strict instead.
  if (text.size() % 4 != 0) return false;
  auto is_b64 = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
  };
  size_t pad = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '=') {
      if (i + 2 < text.size()) return false;
      ++pad;
    } else if (pad > 0 || !is_b64(c)) {
      return false;
    }
  }
  if (pad > 2) return false;
  if (pad > 0) {
    // The last data character carries 2 (one '=') or 4 ('==') bits past the bytes; an encoder
    // writes them as zero, and accepting others would give one value many spellings.
    const char last = text[text.size() - pad - 1];
    const int value = last >= 'A' && last <= 'Z'   ? last - 'A'
                      : last >= 'a' && last <= 'z' ? last - 'a' + 26
                      : last >= '0' && last <= '9' ? last - '0' + 52
                      : last == '+'                ? 62
                                                   : 63;
    if ((value & (pad == 1 ? 0x3 : 0xF)) != 0) return false;
  }
  std::string buf(3 * (text.size() / 4), '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(buf.data()),
                          reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return false;
  buf.resize(static_cast<size_t>(n) - pad);
  *out = std::move(buf);
  return true;
}

namespace {

void FillRandom(unsigned char* out, size_t n) {
  if (n > 0 && RAND_bytes(out, static_cast<int>(n)) != 1) std::abort();  // no entropy: nothing safe to do
}

// A fork copies every thread's buffer below into the child; counting forks lets a buffer
// notice and draw afresh, so parent and child never hand out the same bytes (a GCM nonce
// used twice under one key would give the key away).
std::atomic<uint64_t> fork_generation{0};

// RAND_bytes costs about 0.4 µs a call in OpenSSL 3, more than the rest of sealing a value;
// every write draws a nonce and a tag. Small draws come from a per-thread block of CSPRNG
// output instead. Every value drawn is public (nonces, salts, ids, tags); the block is wiped
// as it is used.
struct RandomBlock {
  static constexpr size_t kSize = 512;
  unsigned char bytes[kSize];
  size_t used = kSize;
  uint64_t generation = 0;
  ~RandomBlock() { OPENSSL_cleanse(bytes, kSize); }

  void Take(unsigned char* out, size_t n) {
    const uint64_t now = fork_generation.load(std::memory_order_relaxed);
    if (used + n > kSize || generation != now) {
      FillRandom(bytes, kSize);
      used = 0;
      generation = now;
    }
    std::memcpy(out, bytes + used, n);
    OPENSSL_cleanse(bytes + used, n);
    used += n;
  }
};

}  // namespace

namespace {

void DrawRandom(unsigned char* out, size_t n) {
  static const bool registered = [] {
    pthread_atfork(nullptr, nullptr, [] { fork_generation.fetch_add(1, std::memory_order_relaxed); });
    return true;
  }();
  (void)registered;
  if (n > RandomBlock::kSize / 4) {
    FillRandom(out, n);
  } else if (n > 0) {
    thread_local RandomBlock block;
    block.Take(out, n);
  }
}

}  // namespace

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  DrawRandom(reinterpret_cast<unsigned char*>(out.data()), n);
  return out;
}

std::string RandomAlnum(size_t n) {
  static constexpr char kAlphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::string out;
  out.reserve(n);
  unsigned char bytes[32];  // 3% of draws are skipped: a few spare bytes usually suffice
  while (out.size() < n) {
    const size_t want = std::min(sizeof(bytes), n - out.size() + 4);
    DrawRandom(bytes, want);
    for (size_t i = 0; i < want && out.size() < n; ++i) {
      if (bytes[i] >= 248) continue;  // 248 = 4 * 62: keep the draw uniform
      out.push_back(kAlphabet[bytes[i] % 62]);
    }
  }
  OPENSSL_cleanse(bytes, sizeof(bytes));
  return out;
}

}  // namespace s3db::util

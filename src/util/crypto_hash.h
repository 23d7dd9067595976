// Digests, HMAC, encodings and randomness on OpenSSL 3 (EVP; the low-level MD5/SHA APIs are
// deprecated in 3.0).
//
// May call: the standard library, OpenSSL, RE2 and s3db/errors.h; nothing else of s3db.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace s3db::util {

std::string Md5(std::string_view data);                               // 16 raw bytes
std::string Sha256(std::string_view data);                            // 32 raw bytes
std::string HmacSha256(std::string_view key, std::string_view data);  // 32 raw bytes

std::string HexEncode(std::string_view bytes);     // lower-case
std::string Base64Encode(std::string_view bytes);  // standard alphabet, padded
// Returns false on malformed input (bad character, bad padding, or padding bits that are
// not zero), so each byte string has exactly one accepted spelling: Base64Encode's.
bool Base64Decode(std::string_view text, std::string* out);

// Cryptographically secure random bytes from OpenSSL's CSPRNG; small draws are served from
// a per-thread block of its output (refilled after a fork). For public values: nonces,
// salts, ids, tags; the project derives every key, it never draws one. Aborts if the CSPRNG
// fails.
std::string RandomBytes(size_t n);
// n characters from [0-9A-Za-z], uniform (rejection sampling), from the CSPRNG.
std::string RandomAlnum(size_t n);

}  // namespace s3db::util

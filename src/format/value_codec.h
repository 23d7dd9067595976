// The value codec: one JSON value <-> the text of one S3 user-metadata value.
//
// S3 lower-cases metadata keys, trims values and RFC 2047-mangles non-ASCII, and our own stores
// reject anything that is not header-safe, so every value is written as printable ASCII
// (0x20..0x7E) with no leading or trailing space. A one-character type tag in front lets any
// JSON value round-trip without a schema:
//
//   s<escaped string>  b<base64 of UTF-8>  d<number>  t  f  z  j<JSON array or object>
//
// The full rules, and the tags kept free for typed encodings, are in docs/FORMAT.md; the golden
// files tests/data/codec_vectors.jsonl and codec_errors.jsonl pin them down.
//
// Numbers: integer vs float survives (1 stays 1, 1.0 stays 1.0, -0.0 keeps its sign). Integers
// come back the way nlohmann's parser types them: non-negative as unsigned, negative as signed,
// so json(int64_t{5}) reads back as the equal json(uint64_t{5}).
//
// Thread-safety: pure functions, safe to call from any thread.
//
// May call: util/.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "s3db/errors.h"

namespace s3db::format {

// The encoded text is ASCII, so its size() is also its byte count in the metadata budget.
//
// JSON has no NaN, Infinity, invalid UTF-8 or binary values; nlohmann can hold them, and this
// encodes them as nlohmann's own serializer would (NaN/Infinity as null, invalid UTF-8 sequences
// as U+FFFD, binary as its {"bytes":[..],"subtype":..} object). Callers that must not lose such
// input reject it before encoding.
std::string EncodeValue(const nlohmann::json& value);

// kCorruption, naming the fault and quoting at most 40 characters of `text`, for anything that
// EncodeValue could not have written (empty text, unknown tag, bad escape or base64, invalid
// UTF-8, a non-number after `d`, ...). Readers accept every well-formed spelling (lower-case
// %xx, a `b` where `s` would be shorter), not only the one EncodeValue writes.
//
// The typed tags (below) decode here too: `D` gives the date's canonical ISO 8601 text. An `E`
// (sealed secret) text is kCorruption here: only the record layer, which holds the key, may
// open one (DecodeSealed).
Result<nlohmann::json> DecodeValue(std::string_view text);

// ---- Typed encodings, chosen by the schema (docs/FORMAT.md "Typed tags") --------------------

// Dates from 0000-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z: the range ISO 8601's
// four-digit years can write, so every stored date reads back as canonical text.
inline constexpr int64_t kMinDateMs = -62167219200000;
inline constexpr int64_t kMaxDateMs = 253402300799999;

// "D" + base36 epoch milliseconds ("-" first when negative): 2024-03-01T12:34:56.789Z is
// "Dlt8n01w5" (9 bytes instead of 25). Expects kMinDateMs <= epoch_ms <= kMaxDateMs.
std::string EncodeDateMs(int64_t epoch_ms);

// A secret value sealed with AES-256-GCM: the id of the database key that sealed it and the
// bytes nonce (12) || ciphertext || tag (16).
struct SealedValue {
  uint64_t key_id = 0;
  std::string blob;
};

// "E" + base36 key id + ":" + standard padded base64 of the blob.
std::string EncodeSealed(uint64_t key_id, std::string_view blob);
// kCorruption, quoting the text as DecodeValue does, unless `text` is exactly what
// EncodeSealed writes for a key id >= 1 and a blob of at least 28 bytes.
Result<SealedValue> DecodeSealed(std::string_view text);

}  // namespace s3db::format

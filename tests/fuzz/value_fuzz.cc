// The short texts a bucket gives back, as read from a bucket someone else wrote: one metadata
// value (src/format/value_codec.cc: DecodeValue, DecodeSealed) and the keys of a listing
// (src/format/key_layout.cc: record and partition reference keys, ids, base36 field keys).
//
// Invariants: the decoders fail only with kCorruption (never an exception); what decodes
// encodes back to a value that decodes the same (values), or to exactly the same text where
// the header promises one spelling (sealed values, ids, base36, keys).
#include <string>
#include <string_view>

#include "format/key_layout.h"
#include "format/value_codec.h"
#include "fuzz_support.h"

namespace {

using s3db_fuzz::Check;
namespace format = s3db::format;

void CheckValue(std::string_view text) {
  s3db::Result<nlohmann::json> value = format::DecodeValue(text);
  if (!value.ok()) {
    Check(value.code() == s3db::ErrorCode::kCorruption, "DecodeValue: " + value.status().ToString());
    return;
  }
  const std::string encoded = format::EncodeValue(*value);
  s3db::Result<nlohmann::json> again = format::DecodeValue(encoded);
  Check(again.ok(), "EncodeValue wrote what DecodeValue refuses: " + encoded);
  // A date (tag D) reads as its ISO 8601 text and is written back as a string: same value.
  Check(s3db_fuzz::SameJson(*value, *again), "a value changed on re-encoding: " + std::string(text) + " -> " + encoded);
  for (unsigned char c : encoded) Check(c >= 0x20 && c <= 0x7E, "EncodeValue wrote a byte outside printable ASCII");
  Check(encoded.empty() || (encoded.front() != ' ' && encoded.back() != ' '), "EncodeValue wrote an edge space");
}

void CheckSealed(std::string_view text) {
  s3db::Result<format::SealedValue> sealed = format::DecodeSealed(text);
  if (!sealed.ok()) {
    Check(sealed.code() == s3db::ErrorCode::kCorruption, "DecodeSealed: " + sealed.status().ToString());
    return;
  }
  Check(format::EncodeSealed(sealed->key_id, sealed->blob) == text, "a sealed value with two spellings");
}

void CheckKeys(std::string_view text) {
  if (std::optional<uint64_t> n = format::FromBase36(text)) {
    Check(format::ToBase36(*n) == text, "base36 with two spellings: " + std::string(text));
  }
  s3db::Result<std::string> id = format::DecodeIdFromKey(text);
  if (id.ok()) {
    Check(format::ValidateId(*id).ok(), "DecodeIdFromKey gave an invalid id");
    Check(format::EncodeIdForKey(*id) == text, "an id segment with two spellings: " + std::string(text));
  } else {
    Check(id.code() == s3db::ErrorCode::kCorruption, "DecodeIdFromKey: " + id.status().ToString());
  }
  for (const char* prefix : {"", "app/x"}) {
    const format::KeyLayout layout(prefix);
    if (std::optional<std::string> record_id = layout.IdFromRecordKey("users", text)) {
      Check(layout.RecordKey("users", *record_id) == text, "a record key with two spellings: " + std::string(text));
    }
    if (std::optional<format::PartitionKeyParts> parts = layout.ParsePartitionKey("users", text)) {
      Check(layout.PartitionKey("users", parts->partition, parts->segments, parts->id) == text,
            "a partition reference key with two spellings: " + std::string(text));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text = s3db_fuzz::Text(data, size);
  CheckValue(text);
  CheckSealed(text);
  CheckKeys(text);
  return 0;
}

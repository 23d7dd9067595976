#include "store/metadata_rules.h"

#include <algorithm>
#include <string>

#include "util/crypto_hash.h"
#include "util/text.h"

namespace s3db::store {
namespace {

bool IsMetadataKeyChar(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'; }

bool IsPrintableAscii(char c) { return c >= 0x20 && c <= 0x7E; }

std::string_view StripQuotes(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    return etag.substr(1, etag.size() - 2);
  }
  return etag;
}

// Keys can be long and hold any UTF-8; quoting them keeps a message readable.
std::string Quoted(std::string_view key) { return "'" + std::string(key) + "'"; }

}  // namespace

Status ValidateObjectKey(std::string_view key) {
  if (key.empty()) return Status(ErrorCode::kInvalidArgument, "object key is empty");
  if (key.size() > kMaxObjectKeyBytes) {
    return Status(ErrorCode::kInvalidArgument, "object key is " + std::to_string(key.size()) +
                                                   " bytes, over the limit of " + std::to_string(kMaxObjectKeyBytes));
  }
  if (!util::IsValidUtf8(key)) {
    return Status(ErrorCode::kInvalidArgument, "object key is not valid UTF-8");
  }
  return Status::Ok();
}

size_t MetadataSize(const Metadata& metadata) {
  size_t total = 0;
  for (const auto& [key, value] : metadata) total += key.size() + value.size();
  return total;
}

namespace {

// Why one entry cannot be stored; `key` is already lower-cased.
Status CheckEntry(const std::string& raw_key, const std::string& key, const std::string& value) {
  if (key.empty()) return Status(ErrorCode::kInvalidArgument, "metadata key is empty");
  for (char c : key) {
    if (!IsMetadataKeyChar(c)) {
      return Status(ErrorCode::kInvalidArgument,
                    "metadata key " + Quoted(raw_key) + " has a character outside [a-z0-9_-]");
    }
  }
  for (char c : value) {
    if (!IsPrintableAscii(c)) {
      return Status(ErrorCode::kInvalidArgument,
                    "metadata value of " + Quoted(key) + " has a byte outside printable ASCII (0x20..0x7E)");
    }
  }
  if (!value.empty() && (value.front() == ' ' || value.back() == ' ')) {
    return Status(ErrorCode::kInvalidArgument,
                  "metadata value of " + Quoted(key) + " has a leading or trailing space (S3 would trim it)");
  }
  return Status::Ok();
}

}  // namespace

Result<Metadata> NormalizeMetadata(const Metadata& metadata, size_t limit) {
  const bool lower_case = std::none_of(metadata.begin(), metadata.end(), [](const auto& entry) {
    return std::any_of(entry.first.begin(), entry.first.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
  });
  Metadata normalized;
  if (lower_case) {
    // The usual case (the record codec writes lower-case keys): check in place and copy
    // the tree whole; distinct keys cannot collide.
    for (const auto& [key, value] : metadata) {
      if (Status status = CheckEntry(key, key, value); !status.ok()) return status;
    }
    normalized = metadata;
  } else {
    for (const auto& [raw_key, value] : metadata) {
      std::string key = util::ToLower(raw_key);
      if (Status status = CheckEntry(raw_key, key, value); !status.ok()) return status;
      if (!normalized.emplace(key, value).second) {
        return Status(ErrorCode::kInvalidArgument, "metadata keys collide after lower-casing: " + Quoted(key));
      }
    }
  }
  size_t size = MetadataSize(normalized);
  if (size > limit) {
    return Status(ErrorCode::kMetadataTooLarge, "metadata is " + std::to_string(size) + " bytes, over the limit of " +
                                                    std::to_string(limit) + " (UTF-8 bytes of every key and value)");
  }
  return normalized;
}

std::string ComputeEtag(std::string_view body) {
  // A partition reference is an empty object: its ETag is a constant, not an MD5 per write.
  static constexpr std::string_view kEmptyBodyEtag = "\"d41d8cd98f00b204e9800998ecf8427e\"";
  if (body.empty()) return std::string(kEmptyBodyEtag);
  std::string etag;
  etag.reserve(34);
  etag += '"';
  etag += util::HexEncode(util::Md5(body));
  etag += '"';
  return etag;
}

bool EtagsMatch(std::string_view a, std::string_view b) { return StripQuotes(a) == StripQuotes(b); }

Result<ValidatedPut> ValidatePut(const PutRequest& request, const Capabilities& capabilities) {
  if (Status key_status = ValidateObjectKey(request.key); !key_status.ok()) return key_status;
  if (request.if_match.has_value() && request.if_none_match_star) {
    // One asks for an existing object, the other for an absent one: never satisfiable.
    return Status(ErrorCode::kInvalidArgument,
                  "put of " + Quoted(request.key) + " has both if_match and if_none_match_star");
  }
  if (request.content_type.size() > kMaxContentTypeBytes) {
    return Status(ErrorCode::kInvalidArgument, "content type of " + Quoted(request.key) + " is longer than " +
                                                   std::to_string(kMaxContentTypeBytes) + " bytes");
  }
  for (char c : request.content_type) {
    if (!IsPrintableAscii(c)) {
      return Status(ErrorCode::kInvalidArgument, "content type of " + Quoted(request.key) + " is not printable ASCII");
    }
  }
  Result<Metadata> metadata = NormalizeMetadata(request.metadata, capabilities.metadata_limit);
  if (!metadata.ok()) return metadata.status();

  ValidatedPut validated;
  validated.metadata = std::move(metadata).value();
  validated.content_type = request.content_type.empty() ? kDefaultContentType : request.content_type;
  validated.etag = ComputeEtag(request.body);
  return validated;
}

Status CheckPrecondition(const PutRequest& request, const std::string* current_etag) {
  if (request.if_none_match_star && current_etag != nullptr) {
    return Status(ErrorCode::kPreconditionFailed,
                  "object " + Quoted(request.key) + " already exists (if_none_match_star)");
  }
  if (request.if_match.has_value()) {
    if (current_etag == nullptr) {
      return Status(ErrorCode::kPreconditionFailed, "object " + Quoted(request.key) + " does not exist (if_match)");
    }
    if (!EtagsMatch(*current_etag, *request.if_match)) {
      return Status(ErrorCode::kPreconditionFailed,
                    "object " + Quoted(request.key) + " has ETag " + *current_etag + ", not " + *request.if_match);
    }
  }
  return Status::Ok();
}

Status CheckDeletePrecondition(const std::string& key, const std::string& etag, const std::string* current_etag) {
  if (current_etag == nullptr) {
    return Status(ErrorCode::kNotFound,
                  "object " + Quoted(key) + " not found (conditional delete at ETag " + etag + ")");
  }
  if (!EtagsMatch(*current_etag, etag)) {
    return Status(ErrorCode::kPreconditionFailed,
                  "object " + Quoted(key) + " has ETag " + *current_etag + ", not " + etag + " (conditional delete)");
  }
  return Status::Ok();
}

}  // namespace s3db::store

#include "format/key_layout.h"

#include <fmt/format.h>

#include <limits>
#include <utility>

#include "util/crypto_hash.h"
#include "util/text.h"

namespace s3db::format {

namespace {

constexpr char kBase36Digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
constexpr size_t kMaxQuotedBytes = 64;

int Base36DigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'z') return c - 'a' + 10;
  return -1;
}

bool IsUtf8Continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// A name or id for an error message: quoted, control characters (and, when the text is not
// UTF-8, every non-ASCII byte) as \xNN, cut to about 64 bytes on a character boundary.
std::string QuoteNameForMessage(std::string_view text) {
  const bool utf8 = util::IsValidUtf8(text);
  size_t keep = text.size();
  if (keep > kMaxQuotedBytes) {
    keep = kMaxQuotedBytes;
    while (utf8 && keep > 0 && IsUtf8Continuation(static_cast<unsigned char>(text[keep]))) {
      --keep;
    }
  }
  std::string out = "\"";
  for (size_t i = 0; i < keep; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (util::IsAsciiControl(c) || (!utf8 && c >= 0x80)) {
      out += fmt::format("\\x{:02X}", c);
    } else {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(static_cast<char>(c));
    }
  }
  out.push_back('"');
  if (keep < text.size()) out += "...";
  return out;
}

Status InvalidName(std::string_view name, std::string_view rule) {
  return Status(ErrorCode::kInvalidArgument, fmt::format("resource name {} {}", QuoteNameForMessage(name), rule));
}

Status InvalidPartitionName(std::string_view name, std::string_view rule) {
  return Status(ErrorCode::kInvalidArgument, fmt::format("partition name {} {}", QuoteNameForMessage(name), rule));
}

// Decodes one percent-encoded key text, accepting only what util::PercentEncode writes.
std::optional<std::string> DecodeCanonical(std::string_view text) {
  std::string out;
  if (!util::PercentDecode(text, &out) || util::PercentEncode(out) != text) return std::nullopt;
  return out;
}

Status InvalidId(std::string_view id, std::string_view rule) {
  return Status(ErrorCode::kInvalidArgument, fmt::format("id {} {}", QuoteNameForMessage(id), rule));
}

}  // namespace

std::string ToBase36(uint64_t n) {
  std::string digits;
  do {
    digits.insert(digits.begin(), kBase36Digits[n % 36]);
    n /= 36;
  } while (n != 0);
  return digits;
}

std::optional<uint64_t> FromBase36(std::string_view text) {
  if (text.empty() || (text.size() > 1 && text.front() == '0')) return std::nullopt;
  uint64_t n = 0;
  for (char c : text) {
    const int digit = Base36DigitValue(c);
    if (digit < 0) return std::nullopt;
    const auto d = static_cast<uint64_t>(digit);
    if (n > (std::numeric_limits<uint64_t>::max() - d) / 36) return std::nullopt;
    n = n * 36 + d;
  }
  return n;
}

Status ValidateResourceName(std::string_view name) {
  if (name.empty()) return InvalidName(name, "is empty; a name has 1 to 64 characters");
  if (name.size() > kMaxResourceNameLength) {
    return InvalidName(name, fmt::format("has {} characters; the limit is {}", name.size(), kMaxResourceNameLength));
  }
  for (char c : name) {
    const bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && c != '_' && c != '-') {
      return InvalidName(name, "may contain only A-Z, a-z, 0-9, '_' and '-'");
    }
  }
  if (name.front() == '_' || name.front() == '-') {
    return InvalidName(name, "must start with a letter or digit");
  }
  return Status::Ok();
}

Status ValidatePartitionName(std::string_view name) {
  if (name.empty()) return InvalidPartitionName(name, "is empty; a name has 1 to 64 characters");
  if (name.size() > kMaxResourceNameLength) {
    return InvalidPartitionName(name,
                                fmt::format("has {} characters; the limit is {}", name.size(), kMaxResourceNameLength));
  }
  for (char c : name) {
    const bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && c != '_' && c != '-') {
      return InvalidPartitionName(name, "may contain only A-Z, a-z, 0-9, '_' and '-'");
    }
  }
  if (name.front() == '_' || name.front() == '-') {
    return InvalidPartitionName(name, "must start with a letter or digit");
  }
  return Status::Ok();
}

Status ValidateId(std::string_view id) {
  if (id.empty()) return InvalidId(id, "is empty; an id has 1 to 256 bytes");
  if (id.size() > kMaxIdBytes) {
    return InvalidId(id, fmt::format("has {} bytes; the limit is {}", id.size(), kMaxIdBytes));
  }
  if (!util::IsValidUtf8(id)) return InvalidId(id, "is not valid UTF-8");
  for (char c : id) {
    if (util::IsAsciiControl(static_cast<unsigned char>(c))) {
      return InvalidId(id, "contains a control character (below 0x20, or 0x7F)");
    }
    if (c == '/') return InvalidId(id, "contains '/'");
  }
  // Stores that map keys to paths must never see a "." or ".." segment.
  if (id == "." || id == "..") return InvalidId(id, "is reserved ('.' and '..' are not ids)");
  return Status::Ok();
}

std::string NewId() { return util::RandomAlnum(kGeneratedIdLength); }

std::string EncodeIdForKey(std::string_view id) { return util::PercentEncode(id); }

Result<std::string> DecodeIdFromKey(std::string_view segment) {
  std::string id;
  if (!util::PercentDecode(segment, &id)) {
    return Status(ErrorCode::kCorruption,
                  fmt::format("key segment {} has a malformed %-escape", QuoteNameForMessage(segment)));
  }
  if (Status valid = ValidateId(id); !valid.ok()) {
    return Status(ErrorCode::kCorruption, fmt::format("key segment {} does not hold a valid id: {}",
                                                      QuoteNameForMessage(segment), valid.message()));
  }
  if (EncodeIdForKey(id) != segment) {
    return Status(ErrorCode::kCorruption,
                  fmt::format("key segment {} is not canonically encoded (expected {})", QuoteNameForMessage(segment),
                              QuoteNameForMessage(EncodeIdForKey(id))));
  }
  return id;
}

KeyLayout::KeyLayout(std::string prefix) : prefix_(std::move(prefix)) {
  while (!prefix_.empty() && prefix_.front() == '/') prefix_.erase(prefix_.begin());
  while (!prefix_.empty() && prefix_.back() == '/') prefix_.pop_back();
}

std::string KeyLayout::Root() const { return prefix_.empty() ? std::string() : prefix_ + "/"; }

std::string KeyLayout::Catalog() const { return Root() + "s3db.json"; }

// Keys are built by appending to one string: every record read and write builds one, and
// formatting or chained temporaries cost more than the rest of a memory-store request.
std::string KeyLayout::ResourcePrefix(std::string_view resource, size_t room) const {
  std::string key;
  key.reserve(prefix_.size() + resource.size() + 11 + room);
  if (!prefix_.empty()) {
    key += prefix_;
    key += '/';
  }
  key += "resource=";
  key += resource;
  key += '/';
  return key;
}

std::string KeyLayout::RecordPrefix(std::string_view resource) const {
  return ResourcePrefix(resource, 8) += "data/id=";
}

std::string KeyLayout::RecordKey(std::string_view resource, std::string_view id) const {
  std::string key = ResourcePrefix(resource, 8 + id.size());
  key += "data/id=";
  key += EncodeIdForKey(id);
  return key;
}

std::optional<std::string> KeyLayout::IdFromRecordKey(std::string_view resource, std::string_view key) const {
  const std::string record_prefix = RecordPrefix(resource);
  if (!util::StartsWith(key, record_prefix)) return std::nullopt;
  Result<std::string> id = DecodeIdFromKey(key.substr(record_prefix.size()));
  if (!id.ok()) return std::nullopt;
  return std::move(id).value();
}

std::string KeyLayout::PartitionsRoot(std::string_view resource) const {
  return ResourcePrefix(resource, 10) += "partition=";
}

std::string KeyLayout::PartitionPrefix(std::string_view resource, std::string_view partition) const {
  std::string key = ResourcePrefix(resource, 64 + partition.size());  // room for values and an id
  key += "partition=";
  key += partition;
  key += '/';
  return key;
}

std::string KeyLayout::PartitionValuesPrefix(std::string_view resource, std::string_view partition,
                                             const PartitionSegments& segments) const {
  std::string key = PartitionPrefix(resource, partition);
  for (const auto& [field, value] : segments) {
    key += util::PercentEncode(field);
    key += '=';
    key += util::PercentEncode(value);
    key += '/';
  }
  return key;
}

std::string KeyLayout::PartitionKey(std::string_view resource, std::string_view partition,
                                    const PartitionSegments& segments, std::string_view id) const {
  std::string key = PartitionValuesPrefix(resource, partition, segments);
  key += "id=";
  key += EncodeIdForKey(id);
  return key;
}

std::optional<PartitionKeyParts> KeyLayout::ParsePartitionKey(std::string_view resource, std::string_view key) const {
  const std::string root = PartitionsRoot(resource);
  if (!util::StartsWith(key, root)) return std::nullopt;
  std::string_view rest = key.substr(root.size());
  std::vector<std::string_view> levels;
  for (size_t slash; (slash = rest.find('/')) != std::string_view::npos;) {
    levels.push_back(rest.substr(0, slash));
    rest = rest.substr(slash + 1);
  }
  levels.push_back(rest);
  // partition name, at least one field level, the id level.
  if (levels.size() < 3 || !ValidatePartitionName(levels.front()).ok()) return std::nullopt;
  PartitionKeyParts parts;
  parts.partition = std::string(levels.front());
  for (size_t i = 1; i + 1 < levels.size(); ++i) {
    const size_t eq = levels[i].find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    auto field = DecodeCanonical(levels[i].substr(0, eq));
    auto value = DecodeCanonical(levels[i].substr(eq + 1));
    if (!field || !value || field->empty()) return std::nullopt;
    parts.segments.emplace_back(std::move(*field), std::move(*value));
  }
  if (!util::StartsWith(levels.back(), "id=")) return std::nullopt;
  Result<std::string> id = DecodeIdFromKey(levels.back().substr(3));
  if (!id.ok()) return std::nullopt;
  parts.id = std::move(id).value();
  return parts;
}

}  // namespace s3db::format

#include "store/file_key_codec.h"

#include "util/text.h"

namespace s3db::store {
namespace {

constexpr std::string_view kEmptySegment = "^_";
constexpr std::string_view kChunkMarker = "^+";
constexpr std::string_view kObjectMarker = "^o";

bool IsKeptByte(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '=' || c == '%' || c == '-';
}

int UpperHexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void AppendEscapedByte(unsigned char c, bool starts_component, std::string* out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  if (IsKeptByte(c) && !(c == '.' && starts_component)) {
    out->push_back(static_cast<char>(c));
    return;
  }
  out->push_back('^');
  out->push_back(kHex[c >> 4]);
  out->push_back(kHex[c & 15]);
}

// Splits on '/' keeping empty segments: "a//b" -> {"a", "", "b"}, "" -> {""}.
std::vector<std::string_view> SplitSegments(std::string_view text) {
  std::vector<std::string_view> segments;
  size_t start = 0;
  while (true) {
    size_t slash = text.find('/', start);
    if (slash == std::string_view::npos) {
      segments.push_back(text.substr(start));
      return segments;
    }
    segments.push_back(text.substr(start, slash - start));
    start = slash + 1;
  }
}

void AppendComponent(std::string_view component, std::string* path) {
  if (!path->empty()) path->push_back('/');
  path->append(component);
}

// Appends the components of one segment; the last one gets `last_suffix` ("" or "^o").
void AppendSegment(std::string_view segment, std::string_view last_suffix, std::string* path) {
  std::vector<std::string> chunks = EscapeSegment(segment);
  for (size_t i = 0; i + 1 < chunks.size(); ++i) {
    AppendComponent(chunks[i] + std::string(kChunkMarker), path);
  }
  AppendComponent(chunks.back() + std::string(last_suffix), path);
}

std::optional<std::string> UnescapeChunk(std::string_view escaped) {
  std::string bytes;
  for (size_t i = 0; i < escaped.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(escaped[i]);
    if (c != '^') {
      if (!IsKeptByte(c)) return std::nullopt;
      bytes.push_back(static_cast<char>(c));
      continue;
    }
    if (i + 2 >= escaped.size()) return std::nullopt;
    int hi = UpperHexValue(escaped[i + 1]);
    int lo = UpperHexValue(escaped[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    bytes.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return bytes;
}

}  // namespace

std::vector<std::string> EscapeSegment(std::string_view segment) {
  if (segment.empty()) return {std::string(kEmptySegment)};
  std::vector<std::string> chunks;
  std::string current;
  for (unsigned char c : segment) {
    std::string token;
    AppendEscapedByte(c, current.empty(), &token);
    if (current.size() + token.size() > kMaxEscapedChunkBytes) {
      chunks.push_back(std::move(current));
      current.clear();
      token.clear();
      AppendEscapedByte(c, /*starts_component=*/true, &token);
    }
    current += token;
  }
  chunks.push_back(std::move(current));
  return chunks;
}

std::string DirectoryPathFor(std::string_view directory_key) {
  std::string path;
  if (directory_key.empty()) return path;
  std::vector<std::string_view> segments = SplitSegments(directory_key);
  segments.pop_back();  // the empty text after the final '/'
  for (std::string_view segment : segments) AppendSegment(segment, "", &path);
  return path;
}

std::string ObjectFilePath(std::string_view key) {
  size_t last_slash = key.rfind('/');
  std::string_view directory_key =
      last_slash == std::string_view::npos ? std::string_view() : key.substr(0, last_slash + 1);
  std::string_view last_segment = last_slash == std::string_view::npos ? key : key.substr(last_slash + 1);
  std::string path = DirectoryPathFor(directory_key);
  AppendSegment(last_segment, kObjectMarker, &path);
  return path;
}

std::optional<DecodedEntry> DecodeEntryName(std::string_view name, bool is_directory) {
  if (name.empty() || name.front() == '.') return std::nullopt;
  DecodedEntry entry{EntryKind::kSegmentDirectory, {}};
  std::string_view escaped = name;
  if (!is_directory) {
    if (!util::EndsWith(name, kObjectMarker)) return std::nullopt;
    entry.kind = EntryKind::kObjectFile;
    escaped.remove_suffix(kObjectMarker.size());
  } else if (util::EndsWith(name, kChunkMarker)) {
    entry.kind = EntryKind::kChunkDirectory;
    escaped.remove_suffix(kChunkMarker.size());
  }
  if (escaped == kEmptySegment && entry.kind != EntryKind::kChunkDirectory) return entry;
  if (escaped.empty()) return std::nullopt;
  std::optional<std::string> bytes = UnescapeChunk(escaped);
  if (!bytes) return std::nullopt;
  entry.bytes = std::move(*bytes);
  return entry;
}

}  // namespace s3db::store

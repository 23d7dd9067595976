// How FileStore turns an object key into a path under its root, and a path back into a key.
//
// A key is split on '/' into segments; each segment becomes one or more path components,
// escaped so that the mapping is injective and no component is ".", "..", hidden or empty:
//  - Bytes in [A-Za-z0-9._=%-] are kept; every other byte is written "^XX" (upper-case hex),
//    '^' itself included ("^5E"). A '.' that would start a component is written "^2E", so
//    no component ever starts with '.' (FileStore's own files, ".locks" and ".tmp-*", do).
//  - An empty segment ("a//b", "/abs", "dir/") is written "^_".
//  - An escaped segment longer than kMaxEscapedChunkBytes is cut (between escapes, never
//    inside one) into chunks; every chunk but the last is a directory named chunk + "^+".
//  - Every other segment is a directory named by its escaped form; the last segment of a key
//    names the object's file: its escaped form + "^o".
// Because '^' in an escaped name is always followed by two hex digits, "^_", "^+" and "^o"
// can never be mistaken for escaped bytes: key "a" (file "a^o") and key "a/b" (directory "a",
// file "a/b^o") coexist. The decoder is lenient, so a lister re-encodes every key it decodes
// and keeps it only if the path matches (foreign files cannot alias real keys).
//
// Assumes a case-sensitive file system (Linux): "A^o" and "a^o" must be different files.
//
// May call: util/ and the public headers.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace s3db::store {

// Longest escaped chunk in one path component (NAME_MAX is 255; leave room for markers).
inline constexpr size_t kMaxEscapedChunkBytes = 200;

// The chunks one segment is written as (see above), each at most kMaxEscapedChunkBytes.
std::vector<std::string> EscapeSegment(std::string_view segment);

// Relative path ('/'-separated, no leading '/') of the directory that holds every key
// starting with `directory_key`, which is empty or ends in '/'. Empty for the root.
std::string DirectoryPathFor(std::string_view directory_key);

// Relative path of the file that holds the object stored under `key`.
std::string ObjectFilePath(std::string_view key);

enum class EntryKind {
  kSegmentDirectory,  // a complete segment: keys below continue after a '/'
  kChunkDirectory,    // part of a long segment: keys below continue the same segment
  kObjectFile,        // the last segment of a key
};

struct DecodedEntry {
  EntryKind kind;
  std::string bytes;  // the key bytes this component stands for
};

// Decodes one directory entry. nullopt for names the encoder never produces: hidden and
// temporary files, foreign files, malformed escapes.
std::optional<DecodedEntry> DecodeEntryName(std::string_view name, bool is_directory);

}  // namespace s3db::store

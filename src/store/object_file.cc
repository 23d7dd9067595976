#include "store/object_file.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <nlohmann/json.hpp>
#include <utility>

#include "store/posix_file.h"

namespace s3db::store {
namespace {

constexpr int kHeaderVersion = 1;
// Metadata (2 KB, at most doubled by JSON escaping) and the content type (1 KB) keep a
// header far below this, so a longer first line means the file is not ours.
constexpr size_t kMaxHeaderBytes = 64 * 1024;

Status Corrupt(const std::string& path, const std::string& why) {
  return Status(ErrorCode::kCorruption, "object file '" + path + "' is corrupt: " + why);
}

Status NotFound(const std::string& key) { return Status(ErrorCode::kNotFound, "object '" + key + "' not found"); }

Result<UniqueFd> OpenObject(const std::string& path, const std::string& key) {
  UniqueFd fd = OpenFd(path, O_RDONLY);
  if (fd.valid()) return fd;
  if (IsAbsent(errno)) return NotFound(key);
  return IoError("cannot open", path, errno);
}

Result<ObjectHeader> ParseHeader(std::string_view line, const std::string& path) {
  nlohmann::json json = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) return Corrupt(path, "header is not JSON");
  auto field = [&](const char* name) -> const nlohmann::json* {
    auto it = json.find(name);
    return it == json.end() ? nullptr : &*it;
  };
  const nlohmann::json* version = field("v");
  const nlohmann::json* etag = field("etag");
  const nlohmann::json* content_type = field("content_type");
  const nlohmann::json* last_modified = field("last_modified_ms");
  const nlohmann::json* size = field("size");
  const nlohmann::json* metadata = field("metadata");
  if (!version || !version->is_number_integer() || version->get<int64_t>() != kHeaderVersion) {
    return Corrupt(path, "unknown header version");
  }
  if (!etag || !etag->is_string() || !content_type || !content_type->is_string() || !last_modified ||
      !last_modified->is_number_integer() || !size || !size->is_number_unsigned() || !metadata ||
      !metadata->is_object()) {
    return Corrupt(path, "header misses a field");
  }
  ObjectHeader header;
  header.etag = etag->get<std::string>();
  header.content_type = content_type->get<std::string>();
  header.last_modified_ms = last_modified->get<int64_t>();
  header.size = size->get<uint64_t>();
  for (auto it = metadata->begin(); it != metadata->end(); ++it) {
    if (!it.value().is_string()) return Corrupt(path, "metadata value is not a string");
    header.metadata.emplace(it.key(), it.value().get<std::string>());
  }
  return header;
}

}  // namespace

std::string SerializeHeader(const ObjectHeader& header) {
  nlohmann::json json = {
      {"v", kHeaderVersion},
      {"etag", header.etag},
      {"content_type", header.content_type},
      {"last_modified_ms", header.last_modified_ms},
      {"size", header.size},
      {"metadata", header.metadata},
  };
  // Every string in it is ASCII (validated), so dump() cannot throw; it escapes control
  // characters, so the header never contains the '\n' that ends it.
  return json.dump() + "\n";
}

Result<ObjectHeader> ReadHeader(const std::string& path, const std::string& key) {
  Result<UniqueFd> fd = OpenObject(path, key);
  if (!fd.ok()) return fd.status();
  std::string data;
  size_t newline = std::string::npos;
  while (newline == std::string::npos) {
    size_t before = data.size();
    if (int err = ReadUpTo(fd->get(), before + 4096, &data); err != 0) {
      return IoError("cannot read", path, err);
    }
    if (data.size() == before) return Corrupt(path, "no header line");
    newline = data.find('\n', before);
    if (newline == std::string::npos && data.size() > kMaxHeaderBytes) {
      return Corrupt(path, "header line too long");
    }
  }
  Result<ObjectHeader> header = ParseHeader(std::string_view(data).substr(0, newline), path);
  if (!header.ok()) return header;
  struct stat st;
  if (::fstat(fd->get(), &st) != 0) return IoError("cannot stat", path, errno);
  if (static_cast<uint64_t>(st.st_size) != newline + 1 + header->size) {
    return Corrupt(path, "length does not match its header");
  }
  return header;
}

Result<GetResult> ReadObject(const std::string& path, const std::string& key) {
  Result<UniqueFd> fd = OpenObject(path, key);
  if (!fd.ok()) return fd.status();
  struct stat st;
  if (::fstat(fd->get(), &st) != 0) return IoError("cannot stat", path, errno);
  std::string data;
  data.reserve(static_cast<size_t>(st.st_size));
  // Read one byte past the expected size so a file that grew is noticed, not cut.
  if (int err = ReadUpTo(fd->get(), static_cast<size_t>(st.st_size) + 1, &data); err != 0) {
    return IoError("cannot read", path, err);
  }
  size_t newline = data.find('\n');
  if (newline == std::string::npos) return Corrupt(path, "no header line");
  Result<ObjectHeader> header = ParseHeader(std::string_view(data).substr(0, newline), path);
  if (!header.ok()) return header.status();
  if (data.size() - newline - 1 != header->size) {
    return Corrupt(path, "length does not match its header");
  }
  data.erase(0, newline + 1);
  return GetResult{InfoFrom(key, std::move(header).value()), std::move(data)};
}

ObjectInfo InfoFrom(const std::string& key, ObjectHeader header) {
  ObjectInfo info;
  info.key = key;
  info.etag = std::move(header.etag);
  info.last_modified_ms = header.last_modified_ms;
  info.size = header.size;
  info.content_type = std::move(header.content_type);
  info.metadata = std::move(header.metadata);
  return info;
}

}  // namespace s3db::store

// Connection strings (DESIGN.md "Connection strings") and opening a store from one.
//
//   memory://bucket/prefix
//   file:///abs/dir[/...]          file://./rel/dir       (the embedded default)
//   s3://KEY:SECRET@bucket/prefix?region=R&endpoint=URL&forcePathStyle=true&sessionToken=T
//   http(s)://KEY:SECRET@host:port/bucket/prefix          (custom endpoint, path style)
//
// s3:// and http(s):// also take the S3 store's own options (include/s3db/s3_store.h):
// probe, tlsVerify, concurrency, maxAttempts, connectTimeoutMs, requestTimeoutMs; their
// values are checked when the store opens.
//
// Parsing is strict: an unknown scheme, an empty bucket, a bad percent-escape, an unknown or
// malformed query parameter is kInvalidArgument with a message that names the problem but
// never the secret. ToString() prints the URI with the secret masked as "***".
#pragma once

#include <map>
#include <memory>
#include <string>

#include "s3db/object_store.h"
#include "s3db/status.h"

namespace s3db {

enum class StoreScheme { kMemory, kFile, kS3, kHttp, kHttps };

struct StoreUri {
  StoreScheme scheme = StoreScheme::kFile;
  // memory: bucket name. s3/http(s): bucket. file: unused (empty).
  std::string bucket;
  // file: the directory (absolute, or relative as written: "./s3db-data").
  std::string path;
  // Key prefix inside the bucket, without leading or trailing '/'; may be empty.
  std::string prefix;
  // s3/http(s) only. Credentials are URL-decoded; empty when not in the URI.
  std::string access_key;
  std::string secret_key;
  std::string session_token;
  std::string region;        // s3: ?region=; empty: from the environment or us-east-1
  std::string endpoint;      // s3: ?endpoint=; http(s): scheme://host:port
  bool force_path_style = false;  // http(s): always true
  // Remaining recognised options (e.g. file ?fsync=false), by name.
  std::map<std::string, std::string> options;

  // The URI with the secret key (and session token) masked.
  std::string ToString() const;
};

// The default when no URI is given: "file://./s3db-data".
inline constexpr const char* kDefaultUri = "file://./s3db-data";

Result<StoreUri> ParseStoreUri(const std::string& uri);

// Replaces every secret in `text` that `uri` carries with "***" (for error messages).
std::string MaskSecrets(const std::string& text, const StoreUri& uri);

// Opens the store a URI names. memory:// buckets are shared within the process by name;
// s3:// and http(s):// open an S3 store (include/s3db/s3_store.h).
Result<std::unique_ptr<ObjectStore>> OpenStore(const StoreUri& uri);
// The same; a store that sends requests over a network (S3) reports each one, retries
// included, to `observer`.
Result<std::unique_ptr<ObjectStore>> OpenStore(const StoreUri& uri, RequestObserver observer);

}  // namespace s3db

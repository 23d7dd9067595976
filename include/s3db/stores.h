// The local ObjectStore implementations (the S3 store is opened through OpenStore in uri.h).
//
// MemoryStore: in-process, thread-safe, S3 semantics (conditional writes, ETag = MD5 of body,
// 2 KB metadata limit, binary key order). Buckets are shared by name within one process, so
// two Databases on "memory://b" see the same objects; they vanish when the process exits.
//
// FileStore: the embedded default. One file per object under a root directory, written
// atomically (temporary file, fsync, rename), so a crash leaves the old or the new object and
// never a torn one. Conditional writes hold an advisory lock (flock) on a lock stripe, so they
// are honoured across threads and processes on one machine. A key can never address a path
// outside the root: every key segment is escaped before it reaches the file system.
#pragma once

#include <memory>
#include <string>

#include "s3db/object_store.h"
#include "s3db/status.h"

namespace s3db {

// `bucket` names the shared in-process bucket; ObjectStore::Describe() is "memory://bucket".
std::unique_ptr<ObjectStore> NewMemoryStore(const std::string& bucket);

// Drops every object of the named in-process bucket (tests use it between cases).
void ClearMemoryBucket(const std::string& bucket);

struct FileStoreOptions {
  std::string root;   // directory; created (with parents) if absent
  bool fsync = true;  // fsync each object before the rename that publishes it
};

Result<std::unique_ptr<ObjectStore>> NewFileStore(const FileStoreOptions& options);

}  // namespace s3db

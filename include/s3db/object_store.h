// ObjectStore: the one seam between s3db and the bytes (LevelDB's Env, for a bucket).
//
// An ObjectStore is one bucket: a flat namespace of keys (1..1024 bytes of UTF-8) mapping to
// objects made of user metadata (a string map), a body and an ETag. Everything above this
// interface (catalog, resources, partitions) is built from these few calls, so a new backend
// only implements them. Implementations: MemoryStore, FileStore, S3Store, and test doubles.
//
// Contract every implementation keeps (tests/store/store_contract_test.cc checks it):
//  - Thread-safe: any call from any thread, concurrently.
//  - Failures are values (Status/Result), never exceptions.
//  - Put with if_none_match_star fails with kPreconditionFailed when the key exists; with
//    if_match it fails with kPreconditionFailed when the key is absent or its ETag differs.
//    The check and the write are atomic with respect to every other writer of the store.
//  - The ETag is the quoted hex MD5 of the body, as S3 computes it for a single-part PUT.
//    (So two objects with equal bodies have equal ETags even if their metadata differ:
//    callers that rely on If-Match must make their bodies differ; the record layer does.)
//  - User metadata is limited as S3 limits it: the sum of UTF-8 bytes of every key and value
//    must not exceed Capabilities::metadata_limit (2048 on S3), else kMetadataTooLarge.
//    Keys are stored lower-cased, must be non-empty and made of [a-z0-9_-] after
//    lower-casing; values must be printable ASCII (0x20..0x7E) without leading or trailing
//    spaces, since S3 would trim or RFC 2047-mangle anything else. A bad key or value is
//    kInvalidArgument, so a codec mistake shows up here and not only in production.
//  - List returns keys in ascending binary order, at most 1000 (and at most max_keys) a page.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "s3db/metadata.h"
#include "s3db/status.h"

namespace s3db {

struct ObjectInfo {
  std::string key;
  std::string etag;               // quoted, as S3 returns it: "\"9e10...\""
  int64_t last_modified_ms = 0;   // milliseconds since the Unix epoch
  uint64_t size = 0;              // body bytes
  std::string content_type;
  Metadata metadata;              // empty in List results
};

struct PutRequest {
  std::string key;
  Metadata metadata;
  std::string body;
  std::string content_type;                // empty: application/octet-stream
  std::optional<std::string> if_match;     // ETag, quoted or not
  bool if_none_match_star = false;         // create only
};

struct GetResult {
  ObjectInfo info;
  std::string body;
};

struct ListRequest {
  std::string prefix;
  std::string start_after;          // list keys strictly greater than this
  std::string continuation_token;   // from the previous page; opaque
  int max_keys = 1000;              // 1..1000
};

struct ListPage {
  std::vector<ObjectInfo> objects;  // key, etag, size, last_modified_ms
  std::string next_continuation_token;  // empty when this is the last page
  bool truncated = false;
};

struct DeleteManyResult {
  std::vector<std::string> deleted;                       // includes keys that were absent
  std::vector<std::pair<std::string, Status>> errors;     // per-key failures
};

// One request a backend sent over the network (each attempt of a retried request is one),
// reported to an observer so cost accounting sees what the server saw.
struct SentRequest {
  std::string method;   // "PUT", "GET", "HEAD", "POST", "DELETE"
  bool list = false;    // a GET that lists (ListObjectsV2)
  std::string key;      // object key, or the list prefix; empty for the bucket
  uint64_t bytes_out = 0;  // request body and metadata values
  uint64_t bytes_in = 0;   // response body
};
using RequestObserver = std::function<void(const SentRequest&)>;

// What a backend can do; S3Store probes it at connect, the local stores know it.
struct Capabilities {
  bool conditional_writes = true;  // If-None-Match: * and If-Match honoured
  size_t metadata_limit = 2048;    // bytes of UTF-8 key+value
};

// What ObjectStore::Read shows: the object's info (with its metadata) and body, valid only
// during the call.
using ObjectVisitor = std::function<void(const ObjectInfo& info, const std::string& body)>;

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  virtual Result<ObjectInfo> Put(const PutRequest& request) = 0;  // info.etag of the new object
  virtual Result<GetResult> Get(const std::string& key) = 0;
  virtual Result<ObjectInfo> Head(const std::string& key) = 0;
  // Get without the copy, where a store can: calls `visit` once with the object as the store
  // holds it, and returns what Get would have failed with otherwise. The memory store calls
  // it under its read lock, so `visit` must not call the store, and must not throw. This
  // default, right for every store, is Get and then `visit` on the copy; a decorator that
  // changes Get (ForwardingStore's included) gets it unless it says otherwise.
  virtual Status Read(const std::string& key, const ObjectVisitor& visit) {
    Result<GetResult> got = Get(key);
    if (!got.ok()) return got.status();
    visit(got->info, got->body);
    return Status::Ok();
  }
  // Deleting an absent key succeeds, as on S3.
  virtual Status Delete(const std::string& key) = 0;
  // At most 1000 keys; more is kInvalidArgument.
  virtual Result<DeleteManyResult> DeleteMany(const std::vector<std::string>& keys) = 0;
  virtual Result<ListPage> List(const ListRequest& request) = 0;

  virtual Capabilities capabilities() const = 0;
  // A printable description (its URI with any secret masked).
  virtual std::string Describe() const = 0;
};

}  // namespace s3db

// The storage interface every backend implements (ObjectStore), its user metadata, and the
// decorator base that plugins build on.
//
// Each part below keeps its own contract comment.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>
#include "s3db/export.h"

#include "s3db/errors.h"

// Metadata: an object's user metadata, text keys to text values in ascending byte order.
//
// A sorted vector with the parts of std::map's interface that metadata needs. An object
// carries about a dozen short entries, and every read copies them out of the store and every
// write copies them in: one allocation for the vector instead of a tree node per entry makes
// that copy several times cheaper (a record read on the memory store got about 10% faster).
//
// Differences from std::map: inserting or erasing invalidates iterators and references to
// entries, and keys are reachable through iterators (`it->first`) but must not be changed
// there (the order would break).
namespace s3db {

class S3DB_EXPORT Metadata {
 public:
  using key_type = std::string;
  using mapped_type = std::string;
  using value_type = std::pair<std::string, std::string>;
  using size_type = size_t;
  using iterator = std::vector<value_type>::iterator;
  using const_iterator = std::vector<value_type>::const_iterator;

  Metadata() = default;
  // As for std::map, the first of two entries with one key wins.
  Metadata(std::initializer_list<value_type> entries) {
    entries_.reserve(entries.size());
    for (const auto& e : entries) emplace(e.first, e.second);
  }

  iterator begin() { return entries_.begin(); }
  iterator end() { return entries_.end(); }
  const_iterator begin() const { return entries_.begin(); }
  const_iterator end() const { return entries_.end(); }
  const_iterator cbegin() const { return entries_.cbegin(); }
  const_iterator cend() const { return entries_.cend(); }

  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  void clear() { entries_.clear(); }
  void reserve(size_t n) { entries_.reserve(n); }

  iterator find(std::string_view key) {
    auto it = LowerBound(key);
    return it != entries_.end() && it->first == key ? it : entries_.end();
  }
  const_iterator find(std::string_view key) const { return const_cast<Metadata*>(this)->find(key); }
  size_t count(std::string_view key) const { return find(key) != end() ? 1 : 0; }
  bool contains(std::string_view key) const { return find(key) != end(); }

  const std::string& at(std::string_view key) const {
    auto it = find(key);
    if (it == end()) throw std::out_of_range("metadata has no key '" + std::string(key) + "'");
    return it->second;
  }
  std::string& at(std::string_view key) { return const_cast<std::string&>(std::as_const(*this).at(key)); }

  std::string& operator[](std::string_view key) {
    auto it = LowerBound(key);
    if (it == entries_.end() || it->first != key) it = entries_.emplace(it, std::string(key), std::string());
    return it->second;
  }

  // Adds the entry unless the key is there; like std::map, says which and where.
  std::pair<iterator, bool> emplace(std::string key, std::string value) {
    if (entries_.empty() || entries_.back().first < key) {  // built in key order: append
      entries_.emplace_back(std::move(key), std::move(value));
      return {entries_.end() - 1, true};
    }
    auto it = LowerBound(key);
    if (it != entries_.end() && it->first == key) return {it, false};
    return {entries_.emplace(it, std::move(key), std::move(value)), true};
  }
  std::pair<iterator, bool> insert(value_type entry) {
    return emplace(std::move(entry.first), std::move(entry.second));
  }
  std::pair<iterator, bool> insert_or_assign(std::string key, std::string value) {
    auto [it, added] = emplace(std::move(key), std::string());
    it->second = std::move(value);
    return {it, added};
  }

  size_t erase(std::string_view key) {
    auto it = find(key);
    if (it == entries_.end()) return 0;
    entries_.erase(it);
    return 1;
  }
  iterator erase(const_iterator it) { return entries_.erase(it); }

  friend bool operator==(const Metadata& a, const Metadata& b) { return a.entries_ == b.entries_; }

 private:
  iterator LowerBound(std::string_view key) {
    return std::lower_bound(entries_.begin(), entries_.end(), key,
                            [](const value_type& e, std::string_view k) { return std::string_view(e.first) < k; });
  }

  std::vector<value_type> entries_;
};

}  // namespace s3db

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
namespace s3db {

struct S3DB_EXPORT ObjectInfo {
  std::string key;
  std::string etag;              // quoted, as S3 returns it: "\"9e10...\""
  int64_t last_modified_ms = 0;  // milliseconds since the Unix epoch
  uint64_t size = 0;             // body bytes
  std::string content_type;
  Metadata metadata;  // empty in List results
};

struct S3DB_EXPORT PutRequest {
  std::string key;
  Metadata metadata;
  std::string body;
  std::string content_type;             // empty: application/octet-stream
  std::optional<std::string> if_match;  // ETag, quoted or not
  bool if_none_match_star = false;      // create only
};

struct S3DB_EXPORT GetResult {
  ObjectInfo info;
  std::string body;
};

struct S3DB_EXPORT ListRequest {
  std::string prefix;
  std::string start_after;         // list keys strictly greater than this
  std::string continuation_token;  // from the previous page; opaque
  int max_keys = 1000;             // 1..1000
};

struct S3DB_EXPORT ListPage {
  std::vector<ObjectInfo> objects;      // key, etag, size, last_modified_ms
  std::string next_continuation_token;  // empty when this is the last page
  bool truncated = false;
};

struct S3DB_EXPORT DeleteManyResult {
  std::vector<std::string> deleted;                    // includes keys that were absent
  std::vector<std::pair<std::string, Status>> errors;  // per-key failures
};

// One request a backend sent over the network (each attempt of a retried request is one),
// reported to an observer so cost accounting sees what the server saw.
struct S3DB_EXPORT SentRequest {
  std::string method;      // "PUT", "GET", "HEAD", "POST", "DELETE"
  bool list = false;       // a GET that lists (ListObjectsV2)
  std::string key;         // object key, or the list prefix; empty for the bucket
  uint64_t bytes_out = 0;  // request body and metadata values
  uint64_t bytes_in = 0;   // response body
};
using RequestObserver = std::function<void(const SentRequest&)>;

// What a backend can do; S3Store probes it at connect, the local stores know it.
struct S3DB_EXPORT Capabilities {
  bool conditional_writes = true;  // If-None-Match: * and If-Match honoured
  // DeleteIfMatch is one atomic request. False where the store cannot do it (the default
  // DeleteIfMatch) or the server ignores If-Match on DELETE (Ceph RGW before 20, probed by
  // the S3 store at its first conditional delete; false until then).
  bool conditional_deletes = false;
  size_t metadata_limit = 2048;  // bytes of UTF-8 key+value
  // A single-part PUT's ETag is the MD5 of its body (S3 unencrypted or SSE-S3, the memory
  // and file stores); not under SSE-KMS or SSE-C, nor on S3 Express. Scan snapshots need it.
  bool etag_is_body_md5 = true;
  // GetEach sends its requests from an event loop (a handful of threads, whatever the
  // concurrency) and honours GetEachOptions' request hooks; false: the default GetEach, a
  // thread per request in flight.
  bool asynchronous_reads = false;
  // PutEach likewise: its PUTs go from the event loop, gated by the options' hooks.
  bool asynchronous_writes = false;
};

// What ObjectStore::Read shows: the object's info (with its metadata) and body, valid only
// during the call.
using ObjectVisitor = std::function<void(const ObjectInfo& info, const std::string& body)>;

// What ObjectStore::GetEach (and GetEachFrom) shows for each key, by its index in the order the keys came: the
// object (status ok), or why there is none (info and body empty). info and body are valid only
// during the call. Called on any thread, several at once, once per key; it may run under a
// store's lock (the memory store's), so it must not call the store, and must not throw.
using GetEachVisitor =
    std::function<void(size_t index, const Status& status, const ObjectInfo& info, const std::string& body)>;
// The keys GetEach reads, one per call until it returns nullopt. Called by one thread at a
// time; it may block (a stream that waits for its consumer to catch up).
using KeySource = std::function<std::optional<std::string>()>;

// How GetEach runs its requests.
struct S3DB_EXPORT GetEachOptions {
  int concurrency = 8;  // requests of this call in flight at once, 1..1024
  // For a decorator that bounds requests (the executor), called around each request of a
  // store that sends them itself (Capabilities::asynchronous_reads): `before_request` on the
  // thread that is about to send, which it may block (a non-ok Status: the key fails with it,
  // unsent); `after_request` once the answer is in, from any thread, and must not block.
  std::function<Status()> before_request;
  std::function<void(std::chrono::steady_clock::duration latency, ErrorCode code)> after_request;
  // Bounds each request (with the calling thread's deadline, whichever comes first).
  std::optional<std::chrono::milliseconds> request_timeout;
};

// PutEach runs its requests the way GetEach does (Capabilities::asynchronous_writes for the
// hooks).
using PutEachOptions = GetEachOptions;
// What ObjectStore::PutEach (and PutEachFrom) reports for each request, by its index in the
// order the requests came: what Put would have returned. Called on any thread, several at
// once, once per request; it must not call the store, and must not throw.
using PutEachVisitor = std::function<void(size_t index, const Result<ObjectInfo>& written)>;
// The requests PutEach sends, one per call until it returns nullopt. Called by one thread at
// a time; it may block, and it may do real work (encode the next record): the requests
// already sent stay in flight meanwhile.
using PutSource = std::function<std::optional<PutRequest>()>;

// What ObjectStore::RemoveStaleTemporaries looks at and does.
struct S3DB_EXPORT StaleTemporaryOptions {
  // Only the directories that can hold keys starting with this ("" is the whole store).
  std::string prefix;
  // A temporary file older than this is stale whoever wrote it (a writer on another host, or
  // one whose name does not say who it is). Younger ones are stale only when their writer is
  // known dead: a process of this host that no longer exists.
  std::chrono::seconds max_age{std::chrono::minutes(15)};
  bool dry_run = false;  // count, remove nothing
};

struct S3DB_EXPORT StaleTemporaryResult {
  size_t stale = 0;                   // temporaries no writer will ever publish (found)
  size_t removed = 0;                 // of those, deleted (0 with dry_run)
  size_t kept = 0;                    // temporaries a live writer may still be writing
  std::vector<std::string> examples;  // paths of the first few stale ones
};

class S3DB_EXPORT ObjectStore {
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
  // Many reads at once, `options.concurrency` in flight: `visit` sees each key's object or
  // failure (GetEachVisitor says how). Returns once every key was visited. This default, right
  // for every store, runs Read on up to `concurrency` threads; the S3 store sends them all
  // from one event loop instead. A decorator that changes Get or Read (ForwardingStore's
  // included) gets this default unless it says otherwise.
  // The keys come from `next_key`, index = the order it gave them in.
  virtual void GetEachFrom(const KeySource& next_key, const GetEachOptions& options, const GetEachVisitor& visit);
  // The same over a list of keys (index = position in `keys`).
  void GetEach(const std::vector<std::string>& keys, const GetEachOptions& options, const GetEachVisitor& visit);
  // Many writes at once, `options.concurrency` in flight: each request is written as Put
  // would write it (conditions included: a conditional PUT whose answer was lost is settled
  // as Put settles it), and `visit` gets Put's answer. Returns once every request was
  // answered. This default, right for every store, runs Put on up to `concurrency` threads;
  // the S3 store sends them all from its event loop instead. A decorator that changes Put
  // (ForwardingStore's included) gets this default unless it says otherwise.
  virtual void PutEachFrom(const PutSource& next, const PutEachOptions& options, const PutEachVisitor& visit);
  // The same over a list (index = position in `requests`, which are moved out one by one).
  void PutEach(std::vector<PutRequest> requests, const PutEachOptions& options, const PutEachVisitor& visit);
  // Deleting an absent key succeeds, as on S3.
  virtual Status Delete(const std::string& key) = 0;
  // At most 1000 keys; more is kInvalidArgument.
  virtual Result<DeleteManyResult> DeleteMany(const std::vector<std::string>& keys) = 0;
  virtual Result<ListPage> List(const ListRequest& request) = 0;

  virtual Capabilities capabilities() const = 0;
  // A printable description (its URI with any secret masked).
  virtual std::string Describe() const = 0;

  // Maintenance (repair): deletes the temporary files of writes that will never finish,
  // which a writer killed between writing and publishing an object left behind. Only a store
  // that writes through temporary files has any (FileStore); this default, right for every
  // other store, finds none. A decorator must forward it (ForwardingStore does).
  virtual Result<StaleTemporaryResult> RemoveStaleTemporaries(const StaleTemporaryOptions& options) {
    (void)options;
    return StaleTemporaryResult{};
  }

  // Deletes `key` only if its ETag (quoted or not) is `etag`, in one step atomic with respect
  // to every other writer: kPreconditionFailed when it differs, kNotFound when the key is
  // absent. A store that cannot do this atomically returns kUnsupported (this default), and
  // the caller decides what to do instead; a decorator must forward it (ForwardingStore does).
  virtual Status DeleteIfMatch(const std::string& key, const std::string& etag) {
    (void)etag;
    return Status(ErrorCode::kUnsupported,
                  "conditional delete of '" + key + "': " + Describe() + " cannot delete only at an ETag");
  }
};

}  // namespace s3db

// ForwardingStore: an ObjectStore that passes every call to the store it wraps. A decorator
// (a plugin's, a test's) derives from it and overrides only the calls it changes.
namespace s3db {

class S3DB_EXPORT ForwardingStore : public ObjectStore {
 public:
  explicit ForwardingStore(std::unique_ptr<ObjectStore> inner) : inner_(std::move(inner)) {}

  Result<ObjectInfo> Put(const PutRequest& request) override { return inner_->Put(request); }
  Result<GetResult> Get(const std::string& key) override { return inner_->Get(key); }
  Result<ObjectInfo> Head(const std::string& key) override { return inner_->Head(key); }
  Status Delete(const std::string& key) override { return inner_->Delete(key); }
  Result<DeleteManyResult> DeleteMany(const std::vector<std::string>& keys) override {
    return inner_->DeleteMany(keys);
  }
  Result<ListPage> List(const ListRequest& request) override { return inner_->List(request); }
  Capabilities capabilities() const override { return inner_->capabilities(); }
  std::string Describe() const override { return inner_->Describe(); }
  Result<StaleTemporaryResult> RemoveStaleTemporaries(const StaleTemporaryOptions& options) override {
    return inner_->RemoveStaleTemporaries(options);
  }
  Status DeleteIfMatch(const std::string& key, const std::string& etag) override {
    return inner_->DeleteIfMatch(key, etag);
  }

 protected:
  ObjectStore& inner() { return *inner_; }
  const ObjectStore& inner() const { return *inner_; }

 private:
  std::unique_ptr<ObjectStore> inner_;
};

}  // namespace s3db

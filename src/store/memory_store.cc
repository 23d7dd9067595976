// MemoryStore: an S3 bucket in a std::map, shared by name within the process.
//
// Every bucket lives in a process-wide registry for the life of the process, so two stores
// opened on one name see the same objects even if neither outlives the other. A bucket is
// guarded by one std::shared_mutex: reads share it, and a conditional Put checks and writes
// under the exclusive lock, which makes the check atomic with respect to every writer.

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "s3db/stores.h"
#include "store/list_paging.h"
#include "store/metadata_rules.h"
#include "util/text.h"

namespace s3db {
namespace {

struct StoredObject {
  ObjectInfo info;  // as Get returns it, so Read can show it without a copy
  std::string body;
};

struct MemoryBucket {
  using Objects = std::map<std::string, StoredObject>;  // std::string's < is binary (unsigned) order

  std::shared_mutex mutex;
  Objects objects;  // in key order, for List
  // The same objects by key, for the point operations: one hash instead of a walk down the
  // tree comparing keys that share their long resource prefix. Views into `objects`' keys.
  std::unordered_map<std::string_view, Objects::iterator> by_key;

  StoredObject* Find(const std::string& key) {
    auto it = by_key.find(key);
    return it == by_key.end() ? nullptr : &it->second->second;
  }
  StoredObject& Store(const std::string& key, StoredObject object) {
    if (StoredObject* found = Find(key)) return *found = std::move(object);
    auto it = objects.emplace(key, std::move(object)).first;
    by_key.emplace(it->first, it);
    return it->second;
  }
  void Erase(const std::string& key) {
    auto it = by_key.find(key);
    if (it == by_key.end()) return;
    const Objects::iterator object = it->second;
    by_key.erase(it);  // before the key it views goes
    objects.erase(object);
  }
  void Clear() {
    by_key.clear();
    objects.clear();
  }
};

class BucketRegistry {
 public:
  static BucketRegistry& Instance() {
    static BucketRegistry registry;
    return registry;
  }

  std::shared_ptr<MemoryBucket> Open(const std::string& name) {
    std::lock_guard lock(mutex_);
    std::shared_ptr<MemoryBucket>& bucket = buckets_[name];
    if (!bucket) bucket = std::make_shared<MemoryBucket>();
    return bucket;
  }

  std::shared_ptr<MemoryBucket> Find(const std::string& name) {
    std::lock_guard lock(mutex_);
    auto it = buckets_.find(name);
    return it == buckets_.end() ? nullptr : it->second;
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<MemoryBucket>> buckets_;
};

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// What List returns: everything but the metadata, as on S3.
ObjectInfo SummaryOf(const StoredObject& object) {
  ObjectInfo info;
  info.key = object.info.key;
  info.etag = object.info.etag;
  info.last_modified_ms = object.info.last_modified_ms;
  info.size = object.info.size;
  info.content_type = object.info.content_type;
  return info;
}

Status NotFound(const std::string& key) { return Status(ErrorCode::kNotFound, "object '" + key + "' not found"); }

class MemoryStore final : public ObjectStore {
 public:
  MemoryStore(std::string name, std::shared_ptr<MemoryBucket> bucket)
      : name_(std::move(name)), bucket_(std::move(bucket)) {}

  Result<ObjectInfo> Put(const PutRequest& request) override {
    Result<store::ValidatedPut> validated = store::ValidatePut(request, capabilities());
    if (!validated.ok()) return validated.status();

    StoredObject object;
    object.info.key = request.key;
    object.info.etag = std::move(validated->etag);
    object.info.content_type = std::move(validated->content_type);
    object.info.metadata = std::move(validated->metadata);
    object.info.size = request.body.size();
    object.body = request.body;

    std::unique_lock lock(bucket_->mutex);
    const StoredObject* current = bucket_->Find(request.key);
    if (Status precondition = store::CheckPrecondition(request, current ? &current->info.etag : nullptr);
        !precondition.ok()) {
      return precondition;
    }
    object.info.last_modified_ms = NowMs();
    StoredObject& stored = bucket_->Store(request.key, std::move(object));
    // What S3's PUT response tells: no metadata or content type to copy back.
    ObjectInfo info;
    info.key = request.key;
    info.etag = stored.info.etag;
    info.last_modified_ms = stored.info.last_modified_ms;
    info.size = stored.info.size;
    return info;
  }

  Result<GetResult> Get(const std::string& key) override {
    if (Status status = store::ValidateObjectKey(key); !status.ok()) return status;
    std::shared_lock lock(bucket_->mutex);
    const StoredObject* object = bucket_->Find(key);
    if (!object) return NotFound(key);
    return GetResult{object->info, object->body};
  }

  Status Read(const std::string& key, const ObjectVisitor& visit) override {
    if (Status status = store::ValidateObjectKey(key); !status.ok()) return status;
    std::shared_lock lock(bucket_->mutex);
    const StoredObject* object = bucket_->Find(key);
    if (!object) return NotFound(key);
    visit(object->info, object->body);
    return Status::Ok();
  }

  Result<ObjectInfo> Head(const std::string& key) override {
    if (Status status = store::ValidateObjectKey(key); !status.ok()) return status;
    std::shared_lock lock(bucket_->mutex);
    const StoredObject* object = bucket_->Find(key);
    if (!object) return NotFound(key);
    return object->info;
  }

  Status Delete(const std::string& key) override {
    if (Status status = store::ValidateObjectKey(key); !status.ok()) return status;
    std::unique_lock lock(bucket_->mutex);
    bucket_->Erase(key);
    return Status::Ok();
  }

  Result<DeleteManyResult> DeleteMany(const std::vector<std::string>& keys) override {
    if (keys.size() > store::kMaxDeleteKeys) {
      return Status(ErrorCode::kInvalidArgument, "DeleteMany of " + std::to_string(keys.size()) + " keys; at most " +
                                                     std::to_string(store::kMaxDeleteKeys) + " per call");
    }
    DeleteManyResult result;
    std::unique_lock lock(bucket_->mutex);
    for (const std::string& key : keys) {
      if (Status status = store::ValidateObjectKey(key); !status.ok()) {
        result.errors.emplace_back(key, std::move(status));
        continue;
      }
      bucket_->Erase(key);
      result.deleted.push_back(key);
    }
    return result;
  }

  Result<ListPage> List(const ListRequest& request) override {
    Result<store::ListBounds> bounds = store::ResolveListRequest(request);
    if (!bounds.ok()) return bounds.status();

    ListPage page;
    std::shared_lock lock(bucket_->mutex);
    const auto& objects = bucket_->objects;
    // Start at the first key past `after` that could carry the prefix.
    auto it = bounds->prefix > bounds->after ? objects.lower_bound(bounds->prefix) : objects.upper_bound(bounds->after);
    for (; it != objects.end() && util::StartsWith(it->first, bounds->prefix); ++it) {
      if (page.objects.size() == static_cast<size_t>(bounds->max_keys)) {
        page.truncated = true;
        page.next_continuation_token = store::EncodeContinuationToken(page.objects.back().key);
        break;
      }
      page.objects.push_back(SummaryOf(it->second));
    }
    return page;
  }

  Capabilities capabilities() const override {
    Capabilities capabilities;
    capabilities.conditional_deletes = true;
    return capabilities;
  }

  // Percent-encoded like StoreUri::ToString, so the description parses back to this store.
  std::string Describe() const override { return "memory://" + util::PercentEncode(name_); }

  // Check and erase under the exclusive lock, as a conditional Put checks and writes.
  Status DeleteIfMatch(const std::string& key, const std::string& etag) override {
    if (Status status = store::ValidateObjectKey(key); !status.ok()) return status;
    std::unique_lock lock(bucket_->mutex);
    const StoredObject* current = bucket_->Find(key);
    if (Status holds = store::CheckDeletePrecondition(key, etag, current ? &current->info.etag : nullptr);
        !holds.ok()) {
      return holds;
    }
    bucket_->Erase(key);
    return Status::Ok();
  }

 private:
  std::string name_;
  std::shared_ptr<MemoryBucket> bucket_;
};

}  // namespace

std::unique_ptr<ObjectStore> NewMemoryStore(const std::string& bucket) {
  return std::make_unique<MemoryStore>(bucket, BucketRegistry::Instance().Open(bucket));
}

void ClearMemoryBucket(const std::string& bucket) {
  std::shared_ptr<MemoryBucket> found = BucketRegistry::Instance().Find(bucket);
  if (!found) return;
  std::unique_lock lock(found->mutex);
  found->Clear();
}

}  // namespace s3db

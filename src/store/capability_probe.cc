#include "store/capability_probe.h"

#include "s3db/object_store.h"
#include "store/metadata_rules.h"
#include "util/crypto_hash.h"

namespace s3db::store {

Result<bool> ProbeConditionalWrites(ObjectStore& store, const std::string& key) {
  PutRequest put;
  put.key = key;
  put.body = util::RandomAlnum(16);
  put.if_none_match_star = true;
  Result<ObjectInfo> first = store.Put(put);
  if (!first.ok() && first.code() != ErrorCode::kPreconditionFailed) return first.status();
  Result<ObjectInfo> second = store.Put(put);
  Status cleanup = store.Delete(key);
  if (second.code() == ErrorCode::kPreconditionFailed) return true;
  if (!second.ok()) return second.status();
  (void)cleanup;  // a probe object left behind is harmless; the answer is what matters
  return false;
}

namespace {

class CheckThenWriteStore : public ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;

  Result<ObjectInfo> Put(const PutRequest& request) override {
    if (request.if_none_match_star || request.if_match) {
      Result<ObjectInfo> head = inner().Head(request.key);
      if (!head.ok() && head.code() != ErrorCode::kNotFound) return head.status();
      Status holds = store::CheckPrecondition(request, head.ok() ? &head->etag : nullptr);
      if (!holds.ok()) return holds;
    }
    PutRequest plain = request;
    plain.if_none_match_star = false;
    plain.if_match.reset();
    return inner().Put(plain);
  }
  Capabilities capabilities() const override {
    Capabilities c = inner().capabilities();
    c.conditional_writes = false;
    return c;
  }
};

}  // namespace

std::unique_ptr<ObjectStore> NewCheckThenWriteStore(std::unique_ptr<ObjectStore> inner) {
  return std::make_unique<CheckThenWriteStore>(std::move(inner));
}

}  // namespace s3db::store

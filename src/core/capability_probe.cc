#include "core/capability_probe.h"

#include "util/crypto_hash.h"

namespace s3db::core {

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

class CheckThenWriteStore : public ObjectStore {
 public:
  explicit CheckThenWriteStore(std::unique_ptr<ObjectStore> inner) : inner_(std::move(inner)) {}

  Result<ObjectInfo> Put(const PutRequest& request) override {
    if (request.if_none_match_star || request.if_match) {
      Result<ObjectInfo> head = inner_->Head(request.key);
      if (!head.ok() && head.code() != ErrorCode::kNotFound) return head.status();
      if (request.if_none_match_star && head.ok()) {
        return Status(ErrorCode::kPreconditionFailed, request.key + " exists");
      }
      if (request.if_match && (!head.ok() || Unquoted(head->etag) != Unquoted(*request.if_match))) {
        return Status(ErrorCode::kPreconditionFailed, request.key + " has another ETag");
      }
    }
    PutRequest plain = request;
    plain.if_none_match_star = false;
    plain.if_match.reset();
    return inner_->Put(plain);
  }
  Result<GetResult> Get(const std::string& key) override { return inner_->Get(key); }
  Result<ObjectInfo> Head(const std::string& key) override { return inner_->Head(key); }
  Status Delete(const std::string& key) override { return inner_->Delete(key); }
  Result<DeleteManyResult> DeleteMany(const std::vector<std::string>& keys) override {
    return inner_->DeleteMany(keys);
  }
  Result<ListPage> List(const ListRequest& request) override { return inner_->List(request); }
  Capabilities capabilities() const override {
    Capabilities c = inner_->capabilities();
    c.conditional_writes = false;
    return c;
  }
  std::string Describe() const override { return inner_->Describe(); }

 private:
  static std::string Unquoted(std::string etag) {
    if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') etag = etag.substr(1, etag.size() - 2);
    return etag;
  }
  std::unique_ptr<ObjectStore> inner_;
};

}  // namespace

std::unique_ptr<ObjectStore> NewCheckThenWriteStore(std::unique_ptr<ObjectStore> inner) {
  return std::make_unique<CheckThenWriteStore>(std::move(inner));
}

}  // namespace s3db::core

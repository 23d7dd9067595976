// ForwardingStore: an ObjectStore that passes every call to the store it wraps. A decorator
// (a plugin's, a test's) derives from it and overrides only the calls it changes.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "s3db/object_store.h"

namespace s3db {

class ForwardingStore : public ObjectStore {
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

 protected:
  ObjectStore& inner() { return *inner_; }
  const ObjectStore& inner() const { return *inner_; }

 private:
  std::unique_ptr<ObjectStore> inner_;
};

}  // namespace s3db

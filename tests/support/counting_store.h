// CountingStore: an independent request counter over a real store, the second opinion that
// CostsPlugin's counts are checked against (written without looking at the costs code).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "s3db/object_store.h"

namespace s3db::testing {

// What a CountingStore counted. Shared, so the counts outlive the store (a Database owns its
// store, and a test may reconnect) and several stores can add to one.
struct RequestCounts {
  mutable std::mutex mu;
  std::map<std::string, uint64_t> by_kind;  // put, get, head, delete, post, list
  std::atomic<uint64_t> bytes_out{0}, bytes_in{0};

  uint64_t get(const std::string& kind) const {
    std::lock_guard lock(mu);
    auto it = by_kind.find(kind);
    return it == by_kind.end() ? 0 : it->second;
  }
  void Clear() {
    std::lock_guard lock(mu);
    by_kind.clear();
  }
};

// Counts the calls that reach it, by its own simple rule, to check CostsPlugin against: a
// second opinion written without looking at the costs code.
class CountingStore : public ObjectStore {
 public:
  explicit CountingStore(std::unique_ptr<ObjectStore> inner,
                         std::shared_ptr<RequestCounts> counts = std::make_shared<RequestCounts>())
      : inner_(std::move(inner)), counts_(std::move(counts)) {}

  std::map<std::string, uint64_t> counts() const {
    std::lock_guard lock(counts_->mu);
    return counts_->by_kind;
  }
  uint64_t bytes_out() const { return counts_->bytes_out; }
  uint64_t bytes_in() const { return counts_->bytes_in; }

  Result<ObjectInfo> Put(const PutRequest& r) override {
    Bump("put");
    uint64_t bytes = r.body.size();
    for (const auto& kv : r.metadata) bytes += kv.second.size();
    counts_->bytes_out += bytes;
    return inner_->Put(r);
  }
  Result<GetResult> Get(const std::string& k) override {
    Bump("get");
    auto r = inner_->Get(k);
    if (r.ok()) counts_->bytes_in += r->body.size();
    return r;
  }
  Result<ObjectInfo> Head(const std::string& k) override {
    Bump("head");
    return inner_->Head(k);
  }
  Status Delete(const std::string& k) override {
    Bump("delete");
    return inner_->Delete(k);
  }
  Result<DeleteManyResult> DeleteMany(const std::vector<std::string>& k) override {
    if (!k.empty()) Bump("post");
    return inner_->DeleteMany(k);
  }
  Result<ListPage> List(const ListRequest& r) override {
    Bump("list");
    return inner_->List(r);
  }
  Capabilities capabilities() const override { return inner_->capabilities(); }
  std::string Describe() const override { return inner_->Describe(); }
  Status DeleteIfMatch(const std::string& k, const std::string& etag) override {
    Bump("delete");
    return inner_->DeleteIfMatch(k, etag);
  }

 private:
  void Bump(const std::string& kind) {
    std::lock_guard lock(counts_->mu);
    counts_->by_kind[kind]++;
  }
  std::unique_ptr<ObjectStore> inner_;
  std::shared_ptr<RequestCounts> counts_;
};

}  // namespace s3db::testing

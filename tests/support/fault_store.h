// FaultStore: a real store with chosen requests failing, and every request counted.
//
// Why a wrapper and not a real crash: a test cannot kill its own process half way through an
// insert and go on checking. Failing every PUT of a partition reference leaves the bucket
// exactly as a process killed right after the record write would (the record is there, its
// references are not), and the wrapped store is a real memory, file or S3 store, so what
// the test checks afterwards is the real thing. The counters let tests assert the cost of
// an operation (how many GETs a partition read makes, that an update touches only the
// references that changed).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "s3db/object_store.h"

namespace s3db::testing {

class FaultStore : public ObjectStore {
 public:
  // kDeleteMany fails a whole DeleteObjects request; kDeleteManyKey refuses one key of it
  // the way S3 reports per-key errors (the other keys are deleted).
  enum class Op { kPut, kGet, kHead, kDelete, kDeleteMany, kDeleteManyKey, kList };
  // Fails the request when it returns true (with kIOError, retryable like a 500).
  using Rule = std::function<bool(Op op, const std::string& key)>;

  // What the test keeps after the store has moved into a Database.
  struct Control {
    std::mutex mu;
    Rule rule;
    std::atomic<int> puts{0}, gets{0}, heads{0}, deletes{0}, lists{0};
    std::atomic<int> reference_puts{0}, reference_deletes{0};  // keys under "/partition="
    std::atomic<int> failed{0};

    void FailWhen(Rule r) {
      std::lock_guard lock(mu);
      rule = std::move(r);
    }
    void Heal() { FailWhen(nullptr); }
    void ResetCounts() {
      for (auto* c : {&puts, &gets, &heads, &deletes, &lists, &reference_puts, &reference_deletes, &failed}) *c = 0;
    }
  };

  static bool IsReference(std::string_view key) { return key.find("/partition=") != std::string_view::npos; }

  FaultStore(std::unique_ptr<ObjectStore> inner, std::shared_ptr<Control> control)
      : inner_(std::move(inner)), control_(std::move(control)) {}

  Result<ObjectInfo> Put(const PutRequest& r) override {
    ++control_->puts;
    if (IsReference(r.key)) ++control_->reference_puts;
    if (Fails(Op::kPut, r.key)) return Injected("PUT", r.key);
    return inner_->Put(r);
  }
  Result<GetResult> Get(const std::string& k) override {
    ++control_->gets;
    if (Fails(Op::kGet, k)) return Injected("GET", k);
    return inner_->Get(k);
  }
  Result<ObjectInfo> Head(const std::string& k) override {
    ++control_->heads;
    if (Fails(Op::kHead, k)) return Injected("HEAD", k);
    return inner_->Head(k);
  }
  Status Delete(const std::string& k) override {
    ++control_->deletes;
    if (IsReference(k)) ++control_->reference_deletes;
    if (Fails(Op::kDelete, k)) return Injected("DELETE", k);
    return inner_->Delete(k);
  }
  Result<DeleteManyResult> DeleteMany(const std::vector<std::string>& keys) override {
    ++control_->deletes;
    for (const auto& k : keys) {
      if (Fails(Op::kDeleteMany, k)) return Injected("DeleteObjects", k);
    }
    std::vector<std::string> allowed;
    std::vector<std::pair<std::string, Status>> refused;
    for (const auto& k : keys) {
      if (Fails(Op::kDeleteManyKey, k)) {
        refused.emplace_back(k, Injected("DeleteObjects of", k));
      } else {
        allowed.push_back(k);
      }
    }
    Result<DeleteManyResult> result = inner_->DeleteMany(allowed);
    if (result.ok()) result->errors.insert(result->errors.end(), refused.begin(), refused.end());
    return result;
  }
  Result<ListPage> List(const ListRequest& r) override {
    ++control_->lists;
    if (Fails(Op::kList, r.prefix)) return Injected("LIST", r.prefix);
    return inner_->List(r);
  }
  Capabilities capabilities() const override { return inner_->capabilities(); }
  std::string Describe() const override { return "fault(" + inner_->Describe() + ")"; }
  // A DELETE like any other: counted, and failed by the kDelete rule.
  Status DeleteIfMatch(const std::string& k, const std::string& etag) override {
    ++control_->deletes;
    if (IsReference(k)) ++control_->reference_deletes;
    if (Fails(Op::kDelete, k)) return Injected("DELETE", k);
    return inner_->DeleteIfMatch(k, etag);
  }

 private:
  bool Fails(Op op, const std::string& key) {
    Rule rule;
    {
      std::lock_guard lock(control_->mu);
      rule = control_->rule;
    }
    if (!rule || !rule(op, key)) return false;
    ++control_->failed;
    return true;
  }
  Status Injected(const char* what, const std::string& key) {
    return Status(ErrorCode::kIOError, std::string("injected failure of ") + what + " " + key);
  }

  std::unique_ptr<ObjectStore> inner_;
  std::shared_ptr<Control> control_;
};

}  // namespace s3db::testing

// Real stores for core tests: a fresh memory bucket or a fresh file store directory.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

#include "s3db/database.h"
#include "s3db/stores.h"

namespace s3db::testing {

enum class Backend { kMemory, kFile, kS3 };

inline std::string BackendName(Backend b) {
  switch (b) {
    case Backend::kMemory:
      return "memory";
    case Backend::kFile:
      return "file";
    case Backend::kS3:
      return "s3";
  }
  return "?";
}

// The real S3 server the suite runs against ($S3DB_TEST_S3_URI: Ceph RGW on loopback, started
// by scripts/test.sh; docs/TESTING.md), or empty when there is none.
inline std::string TestS3Uri() {
  const char* uri = std::getenv("S3DB_TEST_S3_URI");
  return uri == nullptr ? "" : uri;
}

// Every backend this run can reach: memory and file always, S3 when a server is configured.
inline std::vector<Backend> TestBackends() {
  std::vector<Backend> backends{Backend::kMemory, Backend::kFile};
  if (!TestS3Uri().empty()) backends.push_back(Backend::kS3);
  return backends;
}

// Keys of the wrapped store live under `root/`, so tests sharing one bucket never meet, and
// see the same keys ("db/s3db.json") on every backend.
class PrefixedStore : public ObjectStore {
 public:
  PrefixedStore(std::unique_ptr<ObjectStore> inner, std::string root)
      : inner_(std::move(inner)), root_(std::move(root) + "/") {}
  Result<ObjectInfo> Put(const PutRequest& r) override {
    PutRequest moved = r;
    moved.key = root_ + r.key;
    return Strip(inner_->Put(moved));
  }
  Result<GetResult> Get(const std::string& k) override {
    Result<GetResult> got = inner_->Get(root_ + k);
    if (got.ok()) got->info.key = k;
    return got;
  }
  Result<ObjectInfo> Head(const std::string& k) override { return Strip(inner_->Head(root_ + k)); }
  Status Delete(const std::string& k) override { return inner_->Delete(root_ + k); }
  Result<DeleteManyResult> DeleteMany(const std::vector<std::string>& keys) override {
    std::vector<std::string> moved;
    for (const auto& k : keys) moved.push_back(root_ + k);
    Result<DeleteManyResult> done = inner_->DeleteMany(moved);
    if (!done.ok()) return done;
    for (auto& k : done->deleted) k = k.substr(root_.size());
    for (auto& [k, status] : done->errors) k = k.substr(root_.size());
    return done;
  }
  Result<ListPage> List(const ListRequest& r) override {
    ListRequest moved = r;
    moved.prefix = root_ + r.prefix;
    if (!r.start_after.empty()) moved.start_after = root_ + r.start_after;
    Result<ListPage> page = inner_->List(moved);
    if (page.ok()) {
      for (auto& o : page->objects) o.key = o.key.substr(root_.size());
    }
    return page;
  }
  // Forwarded, so the S3 store's event loop sends the batches as it does without the prefix.
  void GetEachFrom(const KeySource& next_key, const GetEachOptions& options, const GetEachVisitor& visit) override {
    inner_->GetEachFrom(
        [&]() -> std::optional<std::string> {
          std::optional<std::string> key = next_key();
          if (key) key = root_ + *key;
          return key;
        },
        options,
        [&](size_t index, const Status& status, const ObjectInfo& info, const std::string& body) {
          if (!status.ok()) return visit(index, status, info, body);
          ObjectInfo stripped = info;
          stripped.key = info.key.substr(std::min(root_.size(), info.key.size()));
          visit(index, status, stripped, body);
        });
  }
  void PutEachFrom(const PutSource& next, const PutEachOptions& options, const PutEachVisitor& visit) override {
    inner_->PutEachFrom(
        [&]() -> std::optional<PutRequest> {
          std::optional<PutRequest> request = next();
          if (request) request->key = root_ + request->key;
          return request;
        },
        options, [&](size_t index, const Result<ObjectInfo>& written) { visit(index, Strip(written)); });
  }
  Capabilities capabilities() const override { return inner_->capabilities(); }
  std::string Describe() const override { return inner_->Describe() + "/" + root_; }
  Status DeleteIfMatch(const std::string& k, const std::string& etag) override {
    return inner_->DeleteIfMatch(root_ + k, etag);
  }

 private:
  Result<ObjectInfo> Strip(Result<ObjectInfo> info) {
    if (info.ok() && info->key.size() >= root_.size()) info->key = info->key.substr(root_.size());
    return info;
  }
  std::unique_ptr<ObjectStore> inner_;
  std::string root_;
};

// A unique scratch directory, removed at destruction.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("s3db-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Opens stores of one backend that all see the same objects (like two processes would).
class StoreFactory {
 public:
  static std::string RandomTag() {
    static const std::string tag = std::to_string(std::random_device{}() % 1000000);
    return tag;
  }

  explicit StoreFactory(Backend backend) : backend_(backend) {
    static std::atomic<int> counter{0};
    // Unique per run too: the S3 bucket outlives the run and is shared by every test.
    bucket_ = "test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" + RandomTag();
  }
  ~StoreFactory() { ClearMemoryBucket(bucket_); }

  std::unique_ptr<ObjectStore> Open() {
    if (backend_ == Backend::kMemory) return NewMemoryStore(bucket_);
    if (backend_ == Backend::kS3) {
      // RGW's support of conditional writes is known (docs/TESTING.md): no probe per open.
      std::string uri = TestS3Uri();
      uri += (uri.find('?') == std::string::npos ? "?" : "&") + std::string("probe=false");
      Result<StoreUri> parsed = ParseStoreUri(uri);
      if (!parsed.ok()) throw std::runtime_error(parsed.status().ToString());
      auto store = OpenStore(*parsed);
      if (!store.ok()) throw std::runtime_error(store.status().ToString());
      return std::make_unique<PrefixedStore>(std::move(store).value(), bucket_);
    }
    FileStoreOptions options;
    options.root = (dir_.path() / "db").string();
    options.fsync = false;  // tests do not survive power loss; speed matters more here
    auto store = NewFileStore(options);
    if (!store.ok()) throw std::runtime_error(store.status().ToString());
    return std::move(store).value();
  }

  std::unique_ptr<Database> Connect(const std::string& prefix = "db", DatabaseOptions options = {}) {
    return Database::Open(Open(), prefix, options);
  }

  const std::filesystem::path& dir() const { return dir_.path(); }

 private:
  Backend backend_;
  std::string bucket_;
  TempDir dir_;
};

}  // namespace s3db::testing

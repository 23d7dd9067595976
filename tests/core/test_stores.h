// Real stores for core tests: a fresh memory bucket or a fresh file store directory.
#pragma once

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

#include <unistd.h>

#include "s3db/database.h"
#include "s3db/stores.h"

namespace s3db::testing {

enum class Backend { kMemory, kFile };

inline std::string BackendName(Backend b) { return b == Backend::kMemory ? "memory" : "file"; }

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
  explicit StoreFactory(Backend backend) : backend_(backend) {
    static std::atomic<int> counter{0};
    bucket_ = "test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  }
  ~StoreFactory() { ClearMemoryBucket(bucket_); }

  std::unique_ptr<ObjectStore> Open() {
    if (backend_ == Backend::kMemory) return NewMemoryStore(bucket_);
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

// Helpers for the plugin tests: scratch directories, a fake clock, an independent request
// counter, and the real stores (memory, file, and RGW when S3DB_TEST_S3_URI is set).
#pragma once

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <unistd.h>

#include "s3db/cache.h"
#include "s3db/object_store.h"
#include "s3db/stores.h"
#include "support/counting_store.h"
#include "util/crypto_hash.h"

namespace s3db::testing {

class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() / ("s3db-plugins-" + std::to_string(::getpid()) + "-" +
                                                      std::to_string(counter++) + "-" + util::RandomAlnum(6));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::string str(const std::string& sub = "") const { return sub.empty() ? path_.string() : (path_ / sub).string(); }

 private:
  std::filesystem::path path_;
};

// Time that moves only when told to; copies share it.
class FakeClock {
 public:
  FakeClock() : now_(std::make_shared<std::atomic<int64_t>>(1'700'000'000'000)) {}
  CacheClock fn() const {
    return [now = now_] { return now->load(); };
  }
  void Advance(int64_t ms) { *now_ += ms; }
  int64_t now() const { return *now_; }

 private:
  std::shared_ptr<std::atomic<int64_t>> now_;
};

inline std::string UniqueBucket(const std::string& what) {
  return "plugins-" + what + "-" + std::to_string(::getpid()) + "-" + util::RandomAlnum(8);
}

inline const char* RealS3Uri() {
  const char* uri = std::getenv("S3DB_TEST_S3_URI");
  return uri != nullptr && *uri != '\0' ? uri : nullptr;
}

// The RGW of scripts/rgw.sh (or any S3 named by S3DB_TEST_S3_URI), opened as the CLI would
// (ParseStoreUri + the URI's store options; OpenStore itself lives in the core, which this
// layer's tests do not link), with a unique key prefix under the URI's own. Deletes what it
// wrote at the end.
class RealS3 {
 public:
  RealS3() {
    Result<StoreUri> uri = ParseStoreUri(RealS3Uri());
    if (!uri.ok()) throw std::runtime_error(uri.status().ToString());
    Result<S3StoreOptions> options = S3StoreOptionsFromUri(*uri);
    if (!options.ok()) throw std::runtime_error(options.status().ToString());
    options->probe = false;  // RGW's conditional writes are known; the probe costs requests
    Result<std::unique_ptr<ObjectStore>> store = NewS3Store(*options);
    if (!store.ok()) throw std::runtime_error(store.status().ToString());
    store_ = std::move(store).value();
    prefix_ = (uri->prefix.empty() ? "" : uri->prefix + "/") + "plugins-test-" + util::RandomAlnum(10);
  }
  ~RealS3() {
    ListRequest request;
    request.prefix = prefix_ + "/";
    std::vector<std::string> keys;
    while (true) {
      Result<ListPage> page = store_->List(request);
      if (!page.ok()) break;
      for (const auto& o : page->objects) keys.push_back(o.key);
      if (!page->truncated) break;
      request.continuation_token = page->next_continuation_token;
    }
    for (size_t i = 0; i < keys.size(); i += 1000) {
      std::vector<std::string> batch(keys.begin() + static_cast<std::ptrdiff_t>(i),
                                     keys.begin() + static_cast<std::ptrdiff_t>(std::min(keys.size(), i + 1000)));
      (void)store_->DeleteMany(batch);
    }
  }
  ObjectStore& store() { return *store_; }
  const std::string& prefix() const { return prefix_; }

 private:
  std::unique_ptr<ObjectStore> store_;
  std::string prefix_;
};

}  // namespace s3db::testing

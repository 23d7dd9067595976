// Listing beyond S3's 1000 keys a page (issue 8): Resource::Count of N records on a store that
// adds a fixed latency to every request, sequential (concurrency 1) against parallel ranges
// (concurrency C), in one run. Prints one JSON line.
//
//   build/default/bench/s3db_list_bench [N=50000] [C=32] [LATENCY_MS=20] [URI]
//
// With a URI (say Ceph RGW's), the records go to that store instead (its own latency, no
// added delay) under a fresh prefix, deleted at the end.
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "format/key_layout.h"
#include "s3db/database.h"
#include "s3db/stores.h"
#include "util/parallel.h"

namespace {

// A real MemoryStore behind a fixed delay per request: the round trip of a real S3 region,
// without the network this machine does not have.
class LatencyStore : public s3db::ObjectStore {
 public:
  LatencyStore(std::unique_ptr<s3db::ObjectStore> inner, std::chrono::milliseconds delay)
      : inner_(std::move(inner)), delay_(delay) {}
  s3db::Result<s3db::ObjectInfo> Put(const s3db::PutRequest& r) override {
    Wait();
    return inner_->Put(r);
  }
  s3db::Result<s3db::GetResult> Get(const std::string& k) override {
    Wait();
    return inner_->Get(k);
  }
  s3db::Result<s3db::ObjectInfo> Head(const std::string& k) override {
    Wait();
    return inner_->Head(k);
  }
  s3db::Status Delete(const std::string& k) override {
    Wait();
    return inner_->Delete(k);
  }
  s3db::Result<s3db::DeleteManyResult> DeleteMany(const std::vector<std::string>& k) override {
    Wait();
    return inner_->DeleteMany(k);
  }
  s3db::Result<s3db::ListPage> List(const s3db::ListRequest& r) override {
    Wait();
    lists_++;
    return inner_->List(r);
  }
  s3db::Capabilities capabilities() const override { return inner_->capabilities(); }
  std::string Describe() const override { return inner_->Describe(); }
  std::atomic<size_t> lists_{0};

 private:
  void Wait() const { std::this_thread::sleep_for(delay_); }
  std::unique_ptr<s3db::ObjectStore> inner_;
  std::chrono::milliseconds delay_;
};

std::unique_ptr<s3db::ObjectStore> OpenUri(const std::string& uri, int concurrency) {
  s3db::Result<s3db::StoreUri> parsed = s3db::ParseStoreUri(uri);
  if (!parsed.ok()) {
    std::fprintf(stderr, "%s\n", parsed.status().ToString().c_str());
    std::exit(2);
  }
  s3db::StoreUri target = *parsed;
  target.options.emplace("probe", "false");
  target.options.emplace("concurrency", std::to_string(concurrency));
  auto store = s3db::OpenStore(target);
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.status().ToString().c_str());
    std::exit(2);
  }
  return std::move(store).value();
}

std::string g_uri;  // empty: memory store behind LatencyStore
std::string g_prefix = "bench";

std::unique_ptr<s3db::ObjectStore> Base(const std::string& bucket, int concurrency) {
  return g_uri.empty() ? s3db::NewMemoryStore(bucket) : OpenUri(g_uri, concurrency);
}

double TimeCount(const std::string& bucket, int concurrency, std::chrono::milliseconds delay, size_t expected,
                 size_t* lists) {
  auto store = std::make_unique<LatencyStore>(Base(bucket, concurrency), delay);
  LatencyStore* raw = store.get();
  s3db::DatabaseOptions options;
  options.concurrency = concurrency;
  auto db = s3db::Database::Open(std::move(store), g_prefix, options);
  raw->lists_ = 0;
  auto start = std::chrono::steady_clock::now();
  size_t count = db->resource("users").Count();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (count != expected) {
    std::fprintf(stderr, "count %zu, expected %zu\n", count, expected);
    std::exit(1);
  }
  *lists = raw->lists_;
  return seconds;
}

}  // namespace

int main(int argc, char** argv) {
  const size_t n = argc > 1 ? std::stoul(argv[1]) : 50000;
  const int concurrency = argc > 2 ? std::stoi(argv[2]) : 32;
  auto delay = std::chrono::milliseconds(argc > 3 ? std::stoi(argv[3]) : 20);
  if (argc > 4) {
    g_uri = argv[4];
    g_prefix = "list-bench-" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
    delay = std::chrono::milliseconds(0);
  }
  const std::string bucket = "list-bench";

  {  // Fill the bucket without latency: the records' layout is what Count lists.
    s3db::DatabaseOptions fill;
    fill.concurrency = 16;
    auto db = s3db::Database::Open(Base(bucket, 16), g_prefix, fill);
    s3db::ResourceDefinition def;
    def.name = "users";
    def.attributes = {{"name", "string"}};
    s3db::Resource& users = db->CreateResource(def);
    s3db::util::ParallelFor(n, g_uri.empty() ? 2 : 16, [&](size_t i) {
      users.Insert({{"name", "user " + std::to_string(i)}});
    });
  }
  size_t sequential_lists = 0, parallel_lists = 0;
  double sequential = TimeCount(bucket, 1, delay, n, &sequential_lists);
  double parallel = TimeCount(bucket, concurrency, delay, n, &parallel_lists);
  std::printf(
      "{\"bench\":\"count\",\"n\":%zu,\"latency_ms\":%d,\"concurrency\":%d,\"sequential_s\":%.3f,"
      "\"parallel_s\":%.3f,\"speedup\":%.2f,\"sequential_lists\":%zu,\"parallel_lists\":%zu}\n",
      n, static_cast<int>(delay.count()), concurrency, sequential, parallel, sequential / parallel, sequential_lists,
      parallel_lists);
  if (!g_uri.empty()) {  // leave the shared bucket as it was
    s3db::DatabaseOptions options;
    options.concurrency = 16;
    s3db::Database::Open(Base(bucket, 16), g_prefix, options)->DropResource("users");
  }
  return 0;
}

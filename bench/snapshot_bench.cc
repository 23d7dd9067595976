// Scans at LIST cost (issue 24): count, query and export of N records without a scan
// snapshot, with a fresh one, and with a share of the records changed since it; requests per
// 1,000 records and seconds for each. Prints one JSON line per measurement.
//
//   build/default/bench/s3db_snapshot_bench [--n N] [--concurrency C] [--latency-ms L]
//                                           [--changed-percent P] [--uri URI]
//
// Without --uri the records live in a memory store. --latency-ms adds that delay to every
// request (a real S3 region's round trip on a machine without one; 20 by default on the
// memory store, 0 with a URI); the records are written without it.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "s3db/database.h"
#include "s3db/stores.h"

namespace {

struct Counts {
  std::atomic<size_t> list{0}, get{0}, put{0}, other{0};
  size_t total() const { return list + get + put + other; }
  void Clear() { list = get = put = other = 0; }
};

// Counts every request and delays it by `delay` when `delayed` is set.
class MeasuredStore : public s3db::ForwardingStore {
 public:
  MeasuredStore(std::unique_ptr<s3db::ObjectStore> inner, Counts* counts, std::chrono::milliseconds delay,
                const std::atomic<bool>* delayed)
      : ForwardingStore(std::move(inner)), counts_(counts), delay_(delay), delayed_(delayed) {}
  s3db::Result<s3db::ObjectInfo> Put(const s3db::PutRequest& r) override {
    Wait(counts_->put);
    return inner().Put(r);
  }
  s3db::Result<s3db::GetResult> Get(const std::string& k) override {
    Wait(counts_->get);
    return inner().Get(k);
  }
  s3db::Result<s3db::ObjectInfo> Head(const std::string& k) override {
    Wait(counts_->other);
    return inner().Head(k);
  }
  s3db::Status Delete(const std::string& k) override {
    Wait(counts_->other);
    return inner().Delete(k);
  }
  s3db::Result<s3db::DeleteManyResult> DeleteMany(const std::vector<std::string>& k) override {
    Wait(counts_->other);
    return inner().DeleteMany(k);
  }
  s3db::Result<s3db::ListPage> List(const s3db::ListRequest& r) override {
    Wait(counts_->list);
    return inner().List(r);
  }

 private:
  void Wait(std::atomic<size_t>& counter) const {
    ++counter;
    if (*delayed_ && delay_.count() > 0) std::this_thread::sleep_for(delay_);
  }
  Counts* counts_;
  std::chrono::milliseconds delay_;
  const std::atomic<bool>* delayed_;
};

const char* kCountries[] = {"PT", "UK", "US", "BR", "DE", "FR", "JP", "IN"};

s3db::Json BenchRecord(size_t i) {
  return {{"id", "user-" + std::to_string(1000000 + i)},
          {"name", "User number " + std::to_string(i)},
          {"email", "user" + std::to_string(i) + "@example.com"},
          {"age", static_cast<int>(18 + i % 60)},
          {"country", kCountries[i % 8]},
          {"active", i % 3 != 0}};
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

int main(int argc, char** argv) {
  size_t n = 100000;
  int concurrency = 32;
  int latency_ms = -1;
  double changed_percent = 1.0;
  std::string uri;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--n") {
      n = std::stoul(value);
    } else if (flag == "--concurrency") {
      concurrency = std::stoi(value);
    } else if (flag == "--latency-ms") {
      latency_ms = std::stoi(value);
    } else if (flag == "--changed-percent") {
      changed_percent = std::stod(value);
    } else if (flag == "--uri") {
      uri = value;
    } else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  if (latency_ms < 0) latency_ms = uri.empty() ? 20 : 0;

  Counts counts;
  std::atomic<bool> delayed{false};
  const std::string prefix =
      "snapshot-bench-" + std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
  std::unique_ptr<s3db::ObjectStore> base;
  if (uri.empty()) {
    base = s3db::NewMemoryStore("snapshot-bench");
  } else {
    s3db::Result<s3db::StoreUri> parsed = s3db::ParseStoreUri(uri);
    if (!parsed.ok()) {
      std::fprintf(stderr, "%s\n", parsed.status().ToString().c_str());
      return 2;
    }
    s3db::StoreUri target = *parsed;
    target.options.emplace("probe", "false");
    target.options.emplace("concurrency", std::to_string(std::max(concurrency, 32)));
    auto opened = s3db::OpenStore(target);
    if (!opened.ok()) {
      std::fprintf(stderr, "%s\n", opened.status().ToString().c_str());
      return 2;
    }
    base = std::move(opened).value();
  }
  s3db::DatabaseOptions options;
  options.concurrency = concurrency;
  auto db = s3db::Database::Open(
      std::make_unique<MeasuredStore>(std::move(base), &counts, std::chrono::milliseconds(latency_ms), &delayed),
      prefix, options);
  s3db::ResourceDefinition def;
  def.name = "users";
  def.attributes = {
      {"name", "string"}, {"email", "string"}, {"age", "number"}, {"country", "string"}, {"active", "boolean"}};
  s3db::Resource& users = db->CreateResource(def);

  auto t0 = std::chrono::steady_clock::now();
  {
    s3db::WriterOptions writer_options;
    s3db::RecordWriter writer = users.Writer(writer_options);
    for (size_t i = 0; i < n; ++i) writer.Write(BenchRecord(i));
    const s3db::WriterResult written = writer.Close();
    if (written.written != n) {
      std::fprintf(stderr, "wrote %zu of %zu records\n", written.written, n);
      return 1;
    }
  }
  std::fprintf(stderr, "snapshot bench: %zu records written in %.1f s\n", n, Seconds(t0));

  size_t expected_pt = 0;
  for (size_t i = 0; i < n; ++i) expected_pt += i % 8 == 0;
  auto emit = [&](const char* state, const char* op, double seconds, size_t results) {
    const double per_1000 = 1000.0 / static_cast<double>(n);
    std::printf(
        "{\"bench\":\"snapshot\",\"n\":%zu,\"latency_ms\":%d,\"concurrency\":%d,\"snapshot\":\"%s\",\"op\":\"%s\","
        "\"seconds\":%.3f,\"results\":%zu,\"requests\":%zu,\"lists\":%zu,\"gets\":%zu,\"requests_per_1000\":%.2f}\n",
        n, latency_ms, concurrency, state, op, seconds, results, counts.total(), counts.list.load(), counts.get.load(),
        static_cast<double>(counts.total()) * per_1000);
    std::fflush(stdout);
  };
  auto measure = [&](const char* state) {
    delayed = true;
    counts.Clear();
    auto start = std::chrono::steady_clock::now();
    const size_t count = users.Count();
    emit(state, "count", Seconds(start), count);

    counts.Clear();
    start = std::chrono::steady_clock::now();
    const std::vector<s3db::Record> pt = users.Query({{"country", "PT"}});
    emit(state, "query", Seconds(start), pt.size());

    counts.Clear();
    start = std::chrono::steady_clock::now();
    size_t exported = 0, bytes = 0;
    for (const s3db::Record& r : users.Scan()) {  // what `s3db export` does, to a counter
      bytes += r.ToJson().dump().size();
      ++exported;
    }
    emit(state, "export", Seconds(start), exported);
    delayed = false;
    if (count != n || pt.size() != expected_pt || exported != n) {
      std::fprintf(stderr, "wrong results: count %zu, query %zu (expected %zu), export %zu (%zu bytes)\n", count,
                   pt.size(), expected_pt, exported, bytes);
      std::exit(1);
    }
  };

  measure("none");

  delayed = true;
  counts.Clear();
  t0 = std::chrono::steady_clock::now();
  const s3db::CompactResult compacted = users.Compact();
  emit("none", "compact", Seconds(t0), compacted.records);
  std::fprintf(stderr, "snapshot bench: %zu segments, %llu bytes\n", compacted.segments,
               static_cast<unsigned long long>(compacted.bytes));
  delayed = false;
  measure("fresh");

  // A share of the records changed since the snapshot (written without the delay).
  const size_t changes = static_cast<size_t>(static_cast<double>(n) * changed_percent / 100.0);
  std::mt19937 rng(24);
  std::vector<size_t> picked;
  for (size_t k = 0; k < changes; ++k) picked.push_back(rng() % n);
  std::vector<std::thread> threads;
  std::atomic<size_t> next{0};
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&] {
      for (size_t k = next++; k < picked.size(); k = next++) {
        users.Update("user-" + std::to_string(1000000 + picked[k]), {{"age", 99}});
      }
    });
  }
  for (auto& t : threads) t.join();
  measure("changed");

  delayed = true;
  counts.Clear();
  t0 = std::chrono::steady_clock::now();
  const s3db::CompactResult again = users.Compact();
  emit("changed", "compact", Seconds(t0), again.records);
  delayed = false;
  db->DropResource("users");
  return 0;
}

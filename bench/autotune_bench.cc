// Autotune at a distance (issue 21): getMany of the same records, over and over, through an
// endpoint that answers late (bench/latency_proxy.cc), first at each fixed concurrency, then
// with autotune started low. Prints one JSON line per fixed setting (records/s) and one for
// autotune: its records/s in each half second, the executor's slot count then, and how long
// it took to reach 90% of the best fixed setting's records/s.
//
//   build/default/bench/s3db_autotune_bench --uri URI_THROUGH_PROXY --setup-uri URI [--n 2000]
//       [--seconds 10] [--fixed 16,32,64,128,256] [--start 16] [--max 256] [--target-ms 100]
//
// The records are written through --setup-uri (not delayed) into a resource of their own,
// dropped at the end. Each getMany asks for --chunk ids (default 1024), so a run is many calls.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "s3db/database.h"
#include "s3db/resource.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Args {
  std::string uri, setup_uri;
  size_t n = 2000, chunk = 1024;
  double seconds = 10;
  std::vector<int> fixed = {16, 32, 64, 128, 256};
  int start = 16, max = 256, target_ms = 100;
};

[[noreturn]] void Usage(const std::string& why) {
  std::fprintf(stderr,
               "autotune_bench: %s\nusage: s3db_autotune_bench --uri URI --setup-uri URI [--n N] [--seconds S] "
               "[--fixed C,C,...] [--start C] [--max C] [--target-ms MS] [--chunk K]\n",
               why.c_str());
  std::exit(2);
}

Args Parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) Usage(flag + " needs a value");
    const std::string value = argv[++i];
    if (flag == "--uri")
      a.uri = value;
    else if (flag == "--setup-uri")
      a.setup_uri = value;
    else if (flag == "--n")
      a.n = std::stoul(value);
    else if (flag == "--chunk")
      a.chunk = std::stoul(value);
    else if (flag == "--seconds")
      a.seconds = std::stod(value);
    else if (flag == "--start")
      a.start = std::stoi(value);
    else if (flag == "--max")
      a.max = std::stoi(value);
    else if (flag == "--target-ms")
      a.target_ms = std::stoi(value);
    else if (flag == "--fixed") {
      a.fixed.clear();
      std::stringstream list(value);
      for (std::string c; std::getline(list, c, ',');) a.fixed.push_back(std::stoi(c));
    } else {
      Usage("unknown flag " + flag);
    }
  }
  if (a.uri.empty() || a.setup_uri.empty()) Usage("--uri and --setup-uri are required");
  if (a.n == 0 || a.chunk == 0) Usage("--n and --chunk must be positive");
  return a;
}

// Runs getMany over `ids` in chunks for `seconds`; calls on_chunk(records, seconds since start)
// after each. Returns records read.
template <typename OnChunk>
size_t Run(s3db::Resource& resource, const std::vector<std::string>& ids, size_t chunk, double seconds,
           OnChunk&& on_chunk) {
  const auto start = Clock::now();
  size_t total = 0;
  for (size_t at = 0;; at = (at + chunk) % ids.size()) {
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    if (elapsed >= seconds) break;
    std::vector<std::string> part;
    for (size_t i = 0; i < chunk; ++i) part.push_back(ids[(at + i) % ids.size()]);
    const s3db::GetManyResult got = resource.GetMany(part);
    if (got.records.size() != part.size()) {
      std::fprintf(stderr, "autotune_bench: getMany returned %zu of %zu (%zu errors%s%s)\n", got.records.size(),
                   part.size(), got.errors.size(), got.errors.empty() ? "" : ": ",
                   got.errors.empty() ? "" : got.errors.front().message.c_str());
      std::exit(1);
    }
    total += got.records.size();
    on_chunk(got.records.size(), std::chrono::duration<double>(Clock::now() - start).count());
  }
  return total;
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = Parse(argc, argv);
  const std::string name = "autotune_" + std::to_string(::getpid());
  std::vector<std::string> ids;
  {
    s3db::DatabaseOptions setup;
    setup.uri = args.setup_uri;
    setup.concurrency = 32;
    auto db = s3db::Database::Connect(setup);
    s3db::ResourceDefinition def;
    def.name = name;
    def.attributes = {{"name", "string"}, {"n", "number"}};
    s3db::Resource& resource = db->CreateResource(def);
    std::vector<s3db::Json> items;
    for (size_t i = 0; i < args.n; ++i) {
      ids.push_back("r" + std::to_string(i));
      items.push_back({{"id", ids.back()}, {"name", "record " + std::to_string(i)}, {"n", i}});
    }
    const s3db::InsertManyResult inserted = resource.InsertMany(items);
    if (inserted.inserted.size() != args.n) {
      std::fprintf(stderr, "autotune_bench: inserted %zu of %zu\n", inserted.inserted.size(), args.n);
      return 1;
    }
  }
  double best = 0;
  int best_at = 0;
  for (int c : args.fixed) {
    s3db::DatabaseOptions options;
    options.uri = args.uri;
    options.concurrency = c;
    auto db = s3db::Database::Connect(options);
    const auto start = Clock::now();
    const size_t total = Run(db->resource(name), ids, args.chunk, args.seconds, [](size_t, double) {});
    const double rate = static_cast<double>(total) / std::chrono::duration<double>(Clock::now() - start).count();
    if (rate > best) best = rate, best_at = c;
    std::printf("{\"bench\":\"autotune\",\"mode\":\"fixed\",\"concurrency\":%d,\"records_s\":%.1f}\n", c, rate);
    std::fflush(stdout);
  }
  s3db::DatabaseOptions options;
  options.uri = args.uri;
  options.concurrency = args.start;
  options.executor.autotune.enabled = true;
  options.executor.autotune.min_concurrency = 1;
  options.executor.autotune.max_concurrency = args.max;
  options.executor.autotune.target_latency = std::chrono::milliseconds(args.target_ms);
  auto db = s3db::Database::Connect(options);
  // Records/s and the slot count in each half second.
  std::vector<double> done_at;  // seconds since start when each chunk's records were all in
  std::vector<size_t> chunk_records;
  std::vector<std::pair<double, int>> slots;  // (time, slot count) every 100 ms
  std::atomic<bool> running{true};
  const auto start = Clock::now();
  std::thread sampler([&] {
    while (running) {
      slots.emplace_back(std::chrono::duration<double>(Clock::now() - start).count(), db->executor_stats().concurrency);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  Run(db->resource(name), ids, args.chunk, args.seconds, [&](size_t records, double at) {
    done_at.push_back(at);
    chunk_records.push_back(records);
  });
  running = false;
  sampler.join();
  // Rolling 1-second rate at each chunk's end; the first time it is >= 90% of the best.
  double reached = -1;
  std::string series;
  for (size_t i = 0; i < done_at.size(); ++i) {
    size_t in_window = 0;
    double from = done_at[i] - 1.0;
    for (size_t j = 0; j <= i; ++j) {
      if (done_at[j] > from) in_window += chunk_records[j];
    }
    const double window = std::min(1.0, done_at[i]);
    const double rate = static_cast<double>(in_window) / window;
    if (reached < 0 && done_at[i] >= 1.0 && rate >= 0.9 * best) reached = done_at[i];
  }
  for (size_t i = 0; i < slots.size(); i += 5) {
    if (!series.empty()) series += ",";
    series += "[" + std::to_string(slots[i].first).substr(0, 4) + "," + std::to_string(slots[i].second) + "]";
  }
  size_t total = 0;
  for (size_t r : chunk_records) total += r;
  std::printf(
      "{\"bench\":\"autotune\",\"mode\":\"autotune\",\"start\":%d,\"max\":%d,\"target_ms\":%d,\"records_s\":%.1f,"
      "\"best_fixed_records_s\":%.1f,\"best_fixed_concurrency\":%d,\"seconds_to_90pct\":%.2f,\"final_slots\":%d,"
      "\"slots_every_half_second\":[%s]}\n",
      args.start, args.max, args.target_ms, static_cast<double>(total) / args.seconds, best, best_at, reached,
      db->executor_stats().concurrency, series.c_str());
  {
    s3db::DatabaseOptions setup;
    setup.uri = args.setup_uri;
    auto cleanup = s3db::Database::Connect(setup);
    cleanup->DropResource(name);
  }
  return 0;
}

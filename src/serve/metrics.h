// The server's counters in Prometheus text format (GET /metrics): HTTP requests by route,
// method and status, their latencies as a histogram, requests in flight, plus what the
// database reports: store requests and their cost (CostsPlugin), the executor, the cache.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>

#include "s3db/cache.h"
#include "s3db/database.h"
#include "s3db/plugin.h"

namespace s3db::serve {

class Metrics {
 public:
  static constexpr std::array<double, 13> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                      0.25,  0.5,    1.0,   2.5,  5.0,   10.0};

  // `route` is the route's template ("/v1/{resource}/{id}"), never a path with data in it.
  void Record(const std::string& route, const std::string& method, int status, std::chrono::nanoseconds elapsed);
  std::atomic<int64_t> in_flight{0};

  // Everything, with the database's counters: costs and cache may be null.
  std::string Render(Database& database, const CostsPlugin* costs, const CachePlugin* cache) const;

 private:
  struct Histogram {
    std::array<uint64_t, kBuckets.size()> buckets{};
    uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mutex_;
  std::map<std::tuple<std::string, std::string, int>, uint64_t> requests_;
  std::map<std::string, Histogram> latency_;  // by route
};

}  // namespace s3db::serve

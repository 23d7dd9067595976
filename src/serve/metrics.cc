#include "metrics.h"

#include <cstdio>
#include <sstream>

namespace s3db::serve {

void Metrics::Record(const std::string& route, const std::string& method, int status,
                     std::chrono::nanoseconds elapsed) {
  const double seconds = std::chrono::duration<double>(elapsed).count();
  std::lock_guard<std::mutex> lock(mutex_);
  ++requests_[{route, method, status}];
  Histogram& histogram = latency_[route];
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++histogram.buckets[i];
  }
  ++histogram.count;
  histogram.sum += seconds;
}

namespace {
std::string Number(double value) {
  char text[64];
  std::snprintf(text, sizeof text, "%.9g", value);
  return text;
}
// A label value: backslash, quote and newline escaped, as the text format asks.
std::string Label(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}
}  // namespace

std::string Metrics::Render(Database& database, const CostsPlugin* costs, const CachePlugin* cache) const {
  std::ostringstream out;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    out << "# HELP s3db_http_requests_total HTTP requests answered, by route template, method and status.\n"
        << "# TYPE s3db_http_requests_total counter\n";
    for (const auto& [key, count] : requests_) {
      const auto& [route, method, status] = key;
      out << "s3db_http_requests_total{route=\"" << Label(route) << "\",method=\"" << Label(method) << "\",code=\""
          << status << "\"} " << count << "\n";
    }
    out << "# HELP s3db_http_request_duration_seconds Time from a whole request to its answer (or the start of a "
           "streamed one).\n"
        << "# TYPE s3db_http_request_duration_seconds histogram\n";
    for (const auto& [route, histogram] : latency_) {
      for (size_t i = 0; i < kBuckets.size(); ++i) {
        out << "s3db_http_request_duration_seconds_bucket{route=\"" << Label(route) << "\",le=\"" << Number(kBuckets[i])
            << "\"} " << histogram.buckets[i] << "\n";
      }
      out << "s3db_http_request_duration_seconds_bucket{route=\"" << Label(route) << "\",le=\"+Inf\"} "
          << histogram.count << "\n";
      out << "s3db_http_request_duration_seconds_sum{route=\"" << Label(route) << "\"} " << Number(histogram.sum)
          << "\n";
      out << "s3db_http_request_duration_seconds_count{route=\"" << Label(route) << "\"} " << histogram.count << "\n";
    }
  }
  out << "# HELP s3db_http_requests_in_flight Requests being handled now.\n"
      << "# TYPE s3db_http_requests_in_flight gauge\n"
      << "s3db_http_requests_in_flight " << in_flight.load() << "\n";

  const ExecutorStats executor = database.executor_stats();
  out << "# HELP s3db_store_attempts_total Store requests the executor sent (retries included).\n"
      << "# TYPE s3db_store_attempts_total counter\n"
      << "s3db_store_attempts_total " << executor.requests << "\n"
      << "# HELP s3db_store_retries_total Store requests that were retries.\n"
      << "# TYPE s3db_store_retries_total counter\n"
      << "s3db_store_retries_total " << executor.retries << "\n"
      << "# HELP s3db_store_throttled_total SlowDown answers from the store.\n"
      << "# TYPE s3db_store_throttled_total counter\n"
      << "s3db_store_throttled_total " << executor.throttled << "\n"
      << "# HELP s3db_store_requests_in_flight Store requests in flight now.\n"
      << "# TYPE s3db_store_requests_in_flight gauge\n"
      << "s3db_store_requests_in_flight " << executor.in_flight << "\n";

  if (costs != nullptr) {
    const CostTotals totals = costs->Totals();
    out << "# HELP s3db_s3_requests_total S3 requests by kind, as the Costs plugin counts them.\n"
        << "# TYPE s3db_s3_requests_total counter\n";
    for (size_t i = 0; i < kRequestKindCount; ++i) {
      out << "s3db_s3_requests_total{kind=\"" << RequestKindName(static_cast<RequestKind>(i)) << "\"} "
          << totals.requests[i] << "\n";
    }
    out << "# HELP s3db_s3_cost_usd_total What those requests cost at S3 Standard prices, in US dollars.\n"
        << "# TYPE s3db_s3_cost_usd_total counter\n"
        << "s3db_s3_cost_usd_total " << Number(totals.usd()) << "\n"
        << "# HELP s3db_s3_bytes_out_total Bytes sent to the store.\n"
        << "# TYPE s3db_s3_bytes_out_total counter\n"
        << "s3db_s3_bytes_out_total " << totals.bytes_out << "\n"
        << "# HELP s3db_s3_bytes_in_total Bytes received from the store.\n"
        << "# TYPE s3db_s3_bytes_in_total counter\n"
        << "s3db_s3_bytes_in_total " << totals.bytes_in << "\n";
  }
  if (cache != nullptr) {
    const CacheStats stats = cache->stats();
    out << "# HELP s3db_cache_hits_total Reads the cache answered.\n"
        << "# TYPE s3db_cache_hits_total counter\n"
        << "s3db_cache_hits_total " << stats.hits << "\n"
        << "# HELP s3db_cache_misses_total Reads the cache could not answer.\n"
        << "# TYPE s3db_cache_misses_total counter\n"
        << "s3db_cache_misses_total " << stats.misses << "\n"
        << "# HELP s3db_cache_entries Entries the cache holds now (memory and file drivers).\n"
        << "# TYPE s3db_cache_entries gauge\n"
        << "s3db_cache_entries " << stats.entries << "\n";
  }
  return out.str();
}

}  // namespace s3db::serve

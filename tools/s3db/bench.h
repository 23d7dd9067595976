// `s3db bench`: the workload of bench/peer (the same records, the same steps) against our
// library, so the two implementations can be compared in one run (BENCHMARKS.md).
#pragma once

#include <cstddef>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "output.h"
#include "s3db/plugin.h"
#include "s3db/record.h"

namespace s3db_cli {

inline constexpr const char* kBenchPassphrase = "s3db bench passphrase";
// The workloads: "crud" (every step of bench/peer) and "cached-get" (insert, then get
// uncached, get filling the cache, get from the cache: needs a CachePlugin among `plugins`).
inline constexpr const char* kCrudWorkload = "crud";
inline constexpr const char* kCachedGetWorkload = "cached-get";

struct BenchOptions {
  std::string uri;
  size_t n = 1000;
  int concurrency = 1;
  std::string workload = kCrudWorkload;
  // The database's passphrase (the CLI's --passphrase-file / $S3DB_PASSPHRASE): the
  // workload has a secret field, so a database with a key needs its own. Without one, the
  // fixed kBenchPassphrase, so runs against one fresh database can follow each other.
  std::optional<std::string> passphrase;
  // More plugins for the benchmark's database (the CLI's --costs and --cache).
  std::vector<std::shared_ptr<s3db::Plugin>> plugins = {};
};

// Record i of the workload; bench/peer/README.md "Data" is the spec.
s3db::Json BenchRecord(size_t i);

// Runs every step in its own resource (dropped at the end) and prints one JSON line.
// Returns kOk when every step did what it should, else the worst failure.
ExitCode RunBench(const BenchOptions& options, std::ostream& out, Diagnostics& diagnostics);

}  // namespace s3db_cli

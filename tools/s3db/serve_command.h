// `s3db serve` (docs/SERVE.md): opens the database, serves it over HTTP until SIGTERM or
// SIGINT, then shuts down gracefully and exits 0.
#pragma once

#include <memory>

#include "command_line.h"
#include "output.h"
#include "s3db/cache.h"
#include "s3db/database.h"
#include "s3db/plugin.h"

namespace s3db_cli {

// `costs` and `cache` are plugins already in `options.plugins` (cache may be null), whose
// counters /metrics reports.
ExitCode RunServe(const CommandLine& line, const s3db::DatabaseOptions& options,
                  std::shared_ptr<s3db::CostsPlugin> costs, std::shared_ptr<s3db::CachePlugin> cache,
                  Diagnostics& diagnostics);

}  // namespace s3db_cli

// Helpers the cache drivers and CachePlugin share. Internal.
#pragma once

#include "s3db/cache.h"

namespace s3db::plugins {

// The options every driver needs (ttl, bounds); CacheOptions::Validate adds the driver name
// and the file driver's directory.
Status ValidateCacheBounds(const CacheOptions& options);

}  // namespace s3db::plugins

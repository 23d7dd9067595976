// Options of a Database, with defaults that suit a shell user and a server alike.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "s3db/cache.h"
#include "s3db/executor.h"
#include "s3db/plugin.h"
#include "s3db/status.h"

namespace s3db {

struct DatabaseOptions {
  // Connection string (uri.h). Empty means kDefaultUri, "file://./s3db-data". The library
  // never reads the environment for it; the CLI does ($S3DB_URI).
  std::string uri;

  // Bytes of user metadata a record may use (UTF-8 key + encoded value, summed), reserved
  // keys included. 2000 keeps every S3 implementation happy (AWS allows 2048).
  size_t metadata_budget = 2000;

  // Upper bound on concurrent store requests (the executor's request slots, the S3 store's
  // connection pool) and on the parallelism of bulk operations.
  int concurrency = 8;

  // Retries, backoff, deadline and autotuning of store requests (executor.h). Its
  // `concurrency` is ignored: the field above sets it.
  ExecutorOptions executor = {};

  // How many times Update re-reads and re-applies after a concurrent writer won.
  int max_update_attempts = 16;

  // The passphrase that secret fields are encrypted under (docs/API.md "Secret fields").
  // Needed to create, write or read a resource with secret fields; checked at connect
  // against the catalog's key check value (AccessDenied when wrong). Never logged, never in
  // an error message. The library never reads the environment for it; the CLI does
  // (--passphrase-file, $S3DB_PASSPHRASE).
  std::optional<std::string> passphrase = std::nullopt;

  // PBKDF2-HMAC-SHA256 iterations for a key made by this connection (the first secret
  // field, or RotateKey). Existing keys keep the count stored with them in the catalog.
  // 210,000 is OWASP's 2023 figure; tests may lower it (at least 1,000).
  uint32_t kdf_iterations = 210000;

  // Plugins (plugin.h, docs/PLUGINS.md), set up in this order at connect, started once the
  // catalog is read, stopped when the Database closes. A plugin object serves one Database.
  std::vector<std::shared_ptr<Plugin>> plugins = {};

  // A read-through cache (cache.h): when set, a CachePlugin with these options is appended
  // to `plugins` at connect. The stale-read window for other processes' writes is its ttl.
  std::optional<CacheOptions> cache = std::nullopt;

  // kInvalidArgument naming the first bad option.
  Status Validate() const;
};

}  // namespace s3db

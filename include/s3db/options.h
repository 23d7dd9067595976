// Options of a Database, with defaults that suit a shell user and a server alike.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "s3db/status.h"

namespace s3db {

struct DatabaseOptions {
  // Connection string (uri.h). Empty means kDefaultUri, "file://./s3db-data". The library
  // never reads the environment for it; the CLI does ($S3DB_URI).
  std::string uri;

  // Bytes of user metadata a record may use (UTF-8 key + encoded value, summed), reserved
  // keys included. 2000 keeps every S3 implementation happy (AWS allows 2048).
  size_t metadata_budget = 2000;

  // Upper bound on concurrent store requests of bulk operations.
  int concurrency = 8;

  // How many times Update re-reads and re-applies after a concurrent writer won.
  int max_update_attempts = 16;

  // kInvalidArgument naming the first bad option.
  Status Validate() const;
};

}  // namespace s3db

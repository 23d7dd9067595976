#include "s3db/database.h"
#include "s3db/stores.h"

namespace s3db {

Result<std::unique_ptr<ObjectStore>> OpenStore(const StoreUri& uri) { return OpenStore(uri, S3StoreOptions()); }

Result<std::unique_ptr<ObjectStore>> OpenStore(const StoreUri& uri, const S3StoreOptions& s3_settings) {
  switch (uri.scheme) {
    case StoreScheme::kMemory:
      return NewMemoryStore(uri.bucket);
    case StoreScheme::kFile: {
      FileStoreOptions options;
      options.root = uri.path;
      auto fsync = uri.options.find("fsync");
      if (fsync != uri.options.end()) options.fsync = fsync->second != "false";
      return NewFileStore(options);
    }
    case StoreScheme::kS3:
    case StoreScheme::kHttp:
    case StoreScheme::kHttps: {
      // What the URI says wins over the settings: it is what the user wrote.
      Result<S3StoreOptions> options = S3StoreOptionsFromUri(uri, s3_settings);
      if (!options.ok()) return options.status();
      return NewS3Store(*options);
    }
  }
  return Status(ErrorCode::kInternal, "unknown store scheme");
}

Status DatabaseOptions::Validate() const {
  if (metadata_budget < 64 || metadata_budget > 2048) {
    return Status(ErrorCode::kInvalidArgument,
                  "metadata_budget must be between 64 and 2048 bytes, got " + std::to_string(metadata_budget));
  }
  if (concurrency < 1 || concurrency > 1024) {
    return Status(ErrorCode::kInvalidArgument,
                  "concurrency must be between 1 and 1024, got " + std::to_string(concurrency));
  }
  ExecutorOptions executor_options = executor;
  executor_options.concurrency = concurrency;
  if (Status status = executor_options.Validate(); !status.ok()) return status;
  if (max_update_attempts < 1) {
    return Status(ErrorCode::kInvalidArgument, "max_update_attempts must be at least 1");
  }
  for (size_t i = 0; i < plugins.size(); ++i) {
    if (!plugins[i]) return Status(ErrorCode::kInvalidArgument, "plugins[" + std::to_string(i) + "] is empty");
  }
  if (cache) {
    if (Status status = cache->Validate(); !status.ok()) return status;
  }
  return Status::Ok();
}

}  // namespace s3db

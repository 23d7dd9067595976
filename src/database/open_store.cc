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
  auto invalid = [](const std::string& why) { return Status(ErrorCode::kInvalidArgument, why); };
  if (concurrency < 1 || concurrency > 1024) {
    return invalid("concurrency must be between 1 and 1024, got " + std::to_string(concurrency));
  }
  const int default_concurrency = DatabaseOptions{}.concurrency;
  if (concurrency != default_concurrency && executor.concurrency != ExecutorOptions{}.concurrency &&
      executor.concurrency != concurrency) {
    return invalid("concurrency " + std::to_string(concurrency) + " and executor.concurrency " +
                   std::to_string(executor.concurrency) + " disagree: they are one setting, give one of them");
  }
  ExecutorOptions executor_options = executor;
  executor_options.concurrency = EffectiveConcurrency();
  if (Status status = executor_options.Validate(); !status.ok()) return status;
  if (http.max_sockets < 0 || http.max_sockets > 1024) {
    return invalid("http.max_sockets must be 0 (the concurrency) to 1024, got " + std::to_string(http.max_sockets));
  }
  if (http.max_free_sockets < 0 || (http.max_sockets > 0 && http.max_free_sockets > http.max_sockets)) {
    return invalid("http.max_free_sockets must be 0 (all) to max_sockets, got " +
                   std::to_string(http.max_free_sockets));
  }
  if (http.keep_alive_interval.count() < 1000 || http.keep_alive_interval.count() > 7200000) {
    return invalid("http.keep_alive_interval must be 1 s to 2 h, got " +
                   std::to_string(http.keep_alive_interval.count()) + " ms");
  }
  if (http.timeout && http.timeout->count() <= 0) {
    return invalid("http.timeout must be positive, got " + std::to_string(http.timeout->count()) + " ms");
  }
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

int DatabaseOptions::EffectiveConcurrency() const {
  return concurrency != DatabaseOptions{}.concurrency ? concurrency : executor.concurrency;
}

}  // namespace s3db

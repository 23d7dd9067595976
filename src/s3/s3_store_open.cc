// Opening an S3 store: its options (checked, or read from a connection string) and
// NewS3Store, which resolves credentials, region and endpoint, builds the S3Client, and
// settles conditional writes with the shared probe and fallback (store/capability_probe.h).
#include <memory>
#include <string>
#include <utility>

#include "exec/retry_policy.h"
#include "s3/credentials.h"
#include "s3/s3_store.h"
#include "s3db/stores.h"
#include "store/capability_probe.h"
#include "util/crypto_hash.h"
#include "util/time_format.h"

namespace s3db {
namespace {

exec::RetryOptions RetryOptionsOf(const S3StoreOptions& options) {
  exec::RetryOptions retry;
  retry.max_attempts = options.max_attempts;
  retry.base_delay = options.retry_base_delay;
  retry.max_delay = options.retry_max_delay;
  return retry;
}

}  // namespace

Status S3StoreOptions::Validate() const {
  auto invalid = [](const std::string& why) { return Status(ErrorCode::kInvalidArgument, "S3 store options: " + why); };
  if (uri.scheme != StoreScheme::kS3 && uri.scheme != StoreScheme::kHttp && uri.scheme != StoreScheme::kHttps) {
    return invalid("the connection string must be s3://, http:// or https://");
  }
  if (uri.bucket.empty()) return invalid("missing bucket");
  if (concurrency < 1 || concurrency > 1024) {
    return invalid("concurrency must be 1 to 1024, got " + std::to_string(concurrency));
  }
  if (connect_timeout.count() <= 0 || request_timeout.count() <= 0) {
    return invalid("timeouts must be positive");
  }
  if (Status status = RetryOptionsOf(*this).Validate(); !status.ok()) return invalid(status.message());
  return Status::Ok();
}

Result<S3StoreOptions> S3StoreOptionsFromUri(const StoreUri& uri, S3StoreOptions settings) {
  S3StoreOptions options = std::move(settings);
  options.uri = uri;
  auto invalid = [](const std::string& why) {
    return Status(ErrorCode::kInvalidArgument, "invalid connection string: " + why);
  };
  auto number = [&](const std::string& name, const std::string& value, int64_t low, int64_t high) -> Result<int64_t> {
    int64_t parsed = 0;
    if (value.empty() || value.size() > 12 || value.find_first_not_of("0123456789") != std::string::npos) {
      return invalid("'" + name + "' must be a number");
    }
    parsed = std::stoll(value);
    if (parsed < low || parsed > high) {
      return invalid("'" + name + "' must be " + std::to_string(low) + " to " + std::to_string(high));
    }
    return parsed;
  };
  auto boolean = [&](const std::string& name, const std::string& value) -> Result<bool> {
    if (value == "true") return true;
    if (value == "false") return false;
    return invalid("'" + name + "' must be true or false");
  };
  for (const auto& [name, value] : uri.options) {
    if (name == "probe" || name == "tlsVerify") {
      Result<bool> parsed = boolean(name, value);
      if (!parsed.ok()) return parsed.status();
      (name == "probe" ? options.probe : options.verify_tls) = *parsed;
    } else if (name == "concurrency" || name == "maxAttempts") {
      Result<int64_t> parsed = number(name, value, 1, name == "concurrency" ? 1024 : 100);
      if (!parsed.ok()) return parsed.status();
      (name == "concurrency" ? options.concurrency : options.max_attempts) = static_cast<int>(*parsed);
    } else if (name == "connectTimeoutMs" || name == "requestTimeoutMs") {
      Result<int64_t> parsed = number(name, value, 1, 3600 * 1000);
      if (!parsed.ok()) return parsed.status();
      (name == "connectTimeoutMs" ? options.connect_timeout : options.request_timeout) =
          std::chrono::milliseconds(*parsed);
    } else {
      return invalid("unknown option '" + name + "' for an S3 store");
    }
  }
  return options;
}

Result<S3Identity> ResolveS3Identity(const S3StoreOptions& options) {
  if (Status status = options.Validate(); !status.ok()) return status;
  const s3::Environment env = options.environment ? *options.environment : s3::CaptureEnvironment();
  Result<s3::ResolvedCredentials> resolved = s3::ResolveCredentials(options.uri, env);
  if (!resolved.ok()) return resolved.status();
  Result<s3::Credentials> credentials = resolved->provider->Get();
  if (!credentials.ok()) return credentials.status();
  S3Identity identity;
  identity.source = resolved->source;
  const std::string& key = credentials->access_key_id;
  identity.access_key_id = key.size() <= 8
                               ? std::string(key.size(), '*')
                               : key.substr(0, 4) + std::string(key.size() - 8, '*') + key.substr(key.size() - 4);
  identity.session_token = !credentials->session_token.empty();
  if (std::optional<s3::SystemTime> expiration = resolved->provider->expiration()) {
    identity.expiration = util::FormatIso8601Ms(
        std::chrono::duration_cast<std::chrono::milliseconds>(expiration->time_since_epoch()).count());
  }
  identity.region = s3::ResolveRegion(options.uri, env, &s3::ReadWholeFile, resolved->instance_region);
  Result<std::string> endpoint = s3::ResolveEndpoint(options.uri, env, identity.region, &s3::ReadWholeFile);
  if (!endpoint.ok()) return endpoint.status();
  identity.endpoint = *endpoint;
  return identity;
}

Result<std::unique_ptr<ObjectStore>> NewS3Store(const S3StoreOptions& options) {
  if (Status status = options.Validate(); !status.ok()) return status;
  const s3::Environment env = options.environment ? *options.environment : s3::CaptureEnvironment();
  Result<s3::ResolvedCredentials> credentials = s3::ResolveCredentials(options.uri, env);
  if (!credentials.ok()) return credentials.status();
  std::string region = s3::ResolveRegion(options.uri, env, &s3::ReadWholeFile, credentials->instance_region);
  Result<std::string> endpoint = s3::ResolveEndpoint(options.uri, env, region, &s3::ReadWholeFile);
  if (!endpoint.ok()) return endpoint.status();
  Result<s3::Addressing> addressing = s3::MakeAddressing(*endpoint, options.uri.bucket, options.uri.force_path_style);
  if (!addressing.ok()) return addressing.status();

  s3::HttpOptions http_options;
  http_options.max_connections = options.concurrency;
  http_options.max_idle_connections = options.max_idle_connections;
  http_options.keep_alive = options.keep_alive;
  http_options.keep_alive_interval = options.keep_alive_interval;
  http_options.connect_timeout = options.connect_timeout;
  http_options.request_timeout = options.request_timeout;
  http_options.verify_tls = options.verify_tls;
  http_options.ca_file = options.ca_file;
  Result<std::unique_ptr<s3::HttpClient>> http = s3::HttpClient::Create(http_options);
  if (!http.ok()) return http.status();
  s3::S3Client client(std::move(addressing).value(), credentials->provider, std::move(region), std::move(http).value(),
                      exec::RetryPolicy(RetryOptionsOf(options)), options.on_request);
  std::unique_ptr<ObjectStore> opened = std::make_unique<s3::S3Store>(options.uri, std::move(client));
  bool conditional_writes = options.assume_conditional_writes;
  bool etag_is_body_md5 = true;  // unprobed: S3 without SSE-KMS/SSE-C, as most buckets are
  if (options.probe) {
    std::string key = ".s3db-probe-" + util::RandomAlnum(16);
    if (!options.uri.prefix.empty()) key = options.uri.prefix + "/" + key;
    Result<store::ProbedCapabilities> probed = store::ProbeCapabilities(*opened, key);
    if (!probed.ok()) {
      return Status(probed.code(), "cannot open " + opened->Describe() + ": " + probed.status().message());
    }
    conditional_writes = probed->conditional_writes;
    etag_is_body_md5 = probed->etag_is_body_md5;
  }
  if (!etag_is_body_md5) opened = store::NewEtagsNotMd5Store(std::move(opened));
  if (!conditional_writes) opened = store::NewCheckThenWriteStore(std::move(opened));
  return opened;
}

}  // namespace s3db

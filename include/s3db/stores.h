// The stores and how to open them: connection strings, the memory and file stores, and S3.
//
// Each part below keeps its own contract comment.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>
#include "s3db/export.h"

#include "s3db/errors.h"
#include "s3db/object_store.h"

// The local ObjectStore implementations (the S3 store is opened through OpenStore below).
//
// MemoryStore: in-process, thread-safe, S3 semantics (conditional writes, ETag = MD5 of body,
// 2 KB metadata limit, binary key order). Buckets are shared by name within one process, so
// two Databases on "memory://b" see the same objects; they vanish when the process exits.
//
// FileStore: the embedded default. One file per object under a root directory, written
// atomically (temporary file, fsync, rename), so a crash leaves the old or the new object and
// never a torn one. Conditional writes hold an advisory lock (flock) on a lock stripe, so they
// are honoured across threads and processes on one machine. A key can never address a path
// outside the root: every key segment is escaped before it reaches the file system.
namespace s3db {

// `bucket` names the shared in-process bucket; ObjectStore::Describe() is "memory://bucket".
S3DB_EXPORT std::unique_ptr<ObjectStore> NewMemoryStore(const std::string& bucket);

// Drops every object of the named in-process bucket (tests use it between cases).
S3DB_EXPORT void ClearMemoryBucket(const std::string& bucket);

struct S3DB_EXPORT FileStoreOptions {
  std::string root;   // directory; created (with parents) if absent
  bool fsync = true;  // fsync each object before the rename that publishes it
};

S3DB_EXPORT Result<std::unique_ptr<ObjectStore>> NewFileStore(const FileStoreOptions& options);

}  // namespace s3db

// Connection strings (README.md "Connection strings") and opening a store from one.
//
//   memory://bucket/prefix
//   file:///abs/dir[/...]          file://./rel/dir       (the embedded default)
//   s3://KEY:SECRET@bucket/prefix?region=R&endpoint=URL&forcePathStyle=true&sessionToken=T
//   http(s)://KEY:SECRET@host:port/bucket/prefix          (custom endpoint, path style)
//
// s3:// and http(s):// also take the S3 store's own options (S3StoreOptionsFromUri below):
// probe, tlsVerify, concurrency, maxAttempts, connectTimeoutMs, requestTimeoutMs; their
// values are checked when the store opens.
//
// Parsing is strict: an unknown scheme, an empty bucket, a bad percent-escape, an unknown or
// malformed query parameter is kInvalidArgument with a message that names the problem but
// never the secret. ToString() prints the URI with the secret masked as "***".
namespace s3db {

enum class StoreScheme { kMemory, kFile, kS3, kHttp, kHttps };

struct S3DB_EXPORT StoreUri {
  StoreScheme scheme = StoreScheme::kFile;
  // memory: bucket name. s3/http(s): bucket. file: unused (empty).
  std::string bucket;
  // file: the directory (absolute, or relative as written: "./s3db-data").
  std::string path;
  // Key prefix inside the bucket, without leading or trailing '/'; may be empty.
  std::string prefix;
  // s3/http(s) only. Credentials are URL-decoded; empty when not in the URI.
  std::string access_key;
  std::string secret_key;
  std::string session_token;
  std::string region;             // s3: ?region=; empty: from the environment or us-east-1
  std::string endpoint;           // s3: ?endpoint=; http(s): scheme://host:port
  bool force_path_style = false;  // http(s): always true
  // Remaining recognised options (e.g. file ?fsync=false), by name.
  std::map<std::string, std::string> options;

  // The URI with the secret key (and session token) masked.
  std::string ToString() const;
};

// The default when no URI is given: "file://./s3db-data".
inline constexpr const char* kDefaultUri = "file://./s3db-data";

S3DB_EXPORT Result<StoreUri> ParseStoreUri(const std::string& uri);

// Hides secrets in text as "***": those of connection strings, and any added one by one
// (credentials read from the environment, a passphrase). Every masking of s3db goes through
// it: StoreUri errors, the S3 store's messages, the CLI's stderr.
//
// AddUri finds the secret key and session token even in a string that does not parse, by
// hand: the password of "scheme://KEY:PASSWORD@" runs from the first ':' to the LAST '@'
// before the query, and "sessionToken=" runs to the next '&'. The parser cuts the
// credentials at the first '@' and rejects a second one before the query, so a password
// holds '@' only written as %40 and, for any URI that parses, the first '@' is the last. A
// string with a raw '@' in the password ("KEY:p@ss@bucket") is one the parser rejects, and
// there only the last '@' masks the whole password (the first would leave "ss" shown).
// Each secret is masked as written, percent-decoded and percent-encoded.
class S3DB_EXPORT SecretMasker {
 public:
  void AddUri(const std::string& uri);
  // The secret key and session token of a parsed URI.
  void AddSecretsOf(const StoreUri& uri);
  void AddSecret(std::string secret);
  // One left-to-right pass that masks the longest secret starting at each position.
  std::string Mask(const std::string& text) const;

 private:
  void AddApparentSecrets(const std::string& uri);  // the by-hand part of AddUri
  void AddSecretForms(const std::string& secret);   // as it is and percent-encoded

  std::vector<std::string> secrets_;  // longest first, so no secret is masked only in part
};

// Replaces every secret in `text` that `uri` carries with "***" (for error messages).
S3DB_EXPORT std::string MaskSecrets(const std::string& text, const StoreUri& uri);

// A connection string as it may be shown: ToString() when it parses, else the text with
// whatever SecretMasker::AddUri finds in it masked.
S3DB_EXPORT std::string MaskedUri(const std::string& uri);

struct S3StoreOptions;

// Opens the store a URI names. memory:// buckets are shared within the process by name;
// s3:// and http(s):// open an S3 store with `s3_settings` (its uri field is not used), under
// the store options the URI itself carries (S3StoreOptionsFromUri).
S3DB_EXPORT Result<std::unique_ptr<ObjectStore>> OpenStore(const StoreUri& uri);
S3DB_EXPORT Result<std::unique_ptr<ObjectStore>> OpenStore(const StoreUri& uri, const S3StoreOptions& s3_settings);

}  // namespace s3db

// The S3 ObjectStore: AWS S3, MinIO, Ceph RGW and other S3-compatible servers, spoken to
// over HTTP(S) with libcurl and signed with our own SigV4 (src/s3/sigv4.h).
//
// Usually reached through a connection string (above):
//   s3://KEY:SECRET@bucket/prefix?region=eu-west-1
//   http://KEY:SECRET@127.0.0.1:7480/bucket/prefix        (custom endpoint, path style)
// Credentials not in the URI come from the AWS SDKs' default chain (docs/CREDENTIALS.md):
// the environment, web identity, the profile of ~/.aws/config and ~/.aws/credentials, then,
// for s3:// only, container credentials and EC2 instance metadata; temporary ones are
// refreshed before they expire. The region from ?region=, AWS_REGION, AWS_DEFAULT_REGION,
// the profile, the EC2 instance (when its metadata gave the credentials), else us-east-1; the endpoint from the URI,
// AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, the profile's endpoint_url, else https://s3.<region>.amazonaws.com.
//
// The store is the whole bucket: keys are used as given (the Database adds the URI's
// prefix to its keys itself). It keeps the ObjectStore contract (object_store.h) with these
// S3-specific points:
//  - Thread-safe. At most `concurrency` requests are in flight at once (the connection pool
//    size); more callers wait for a free connection.
//  - Retries: retryable failures only (5xx, 503 SlowDown, 429, timeouts, resets), exponential
//    backoff with full jitter, Retry-After honoured, at most `max_attempts` attempts: the
//    executor's retry policy (src/exec/retry_policy.h). A Database gives the store its
//    ExecutorOptions' retries + 1, retry_delay and max_retry_delay. 409
//    ConditionalRequestConflict is returned as kConflict at once: re-reading is the caller's
//    job.
//  - Conditional writes and lost responses: every conditional Put (If-None-Match / If-Match)
//    carries a random 16-character write tag in the reserved user-metadata key `_wt`. When a
//    conditional Put had to be retried (say its first response timed out after the server
//    had committed it) and the retry is refused (412, or 409), the store HEADs the key: if the
//    stored `_wt` is this Put's tag, the first attempt did succeed, and Put reports success
//    with the stored ETag instead of a false kPreconditionFailed (slatedb #766). `_wt` is
//    removed from metadata returned by Get and Head, and a caller may not set it itself
//    (kInvalidArgument). The tag's 20 bytes on the wire are reserved out of S3's 2048-byte
//    limit, so capabilities().metadata_limit is 2028 (the record layer's default budget is
//    2000).
//  - If-Match is sent without quotes (Ceph RGW matches only the bare ETag; AWS accepts
//    both). If-Match on an absent key is kPreconditionFailed whether the server says 404
//    (AWS) or 412 (RGW).
//  - Capabilities: unless `probe` is false, opening the store runs the conditional-write
//    probe (src/store/capability_probe.h, the one a Database runs too): a probe object under
//    the URI's prefix written with If-None-Match: * twice and once with a wrong If-Match, then
//    deleted. A server that does not refuse the second and third writes (s3rver) gets
//    capabilities().conditional_writes == false, a one-time warning on stderr, and conditional
//    Puts fall back to HEAD-then-PUT, which concurrent writers can race. The first probe
//    PUT's ETag, compared with its body's MD5, sets capabilities().etag_is_body_md5 (false
//    under SSE-KMS, SSE-C, S3 Express; assumed true without a probe). The probe also fails
//    fast on wrong credentials or a missing bucket.
//  - Describe() is the connection string with the secret key and session token masked. No
//    message, log line or Status ever carries a secret.
namespace s3db {

struct S3DB_EXPORT S3StoreOptions {
  StoreUri uri;  // an s3://, http:// or https:// connection string, parsed

  int concurrency = 8;  // connection pool size
  // Idle connections kept open after a burst; 0: all of them (concurrency).
  int max_idle_connections = 0;
  bool keep_alive = true;  // reuse connections; false: a new connection for every request
  // TCP keep-alive probes of idle connections: the first after this long (whole seconds).
  std::chrono::milliseconds keep_alive_interval{60000};
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds request_timeout{30000};  // one attempt, body included
  int max_attempts = 4;                              // per request, the first included
  std::chrono::milliseconds retry_base_delay{50};
  std::chrono::milliseconds retry_max_delay{5000};
  bool probe = true;  // probe conditional-write support at open (3 PUTs, 2 HEADs, 1 DELETE)
  // Without a probe: what to assume (a caller that cached an earlier probe's answer).
  bool assume_conditional_writes = true;
  bool verify_tls = true;  // false only for tests against a self-signed server
  std::string ca_file;     // PEM bundle for TLS; empty: the system's

  // Called for every HTTP request sent, retries included (cost accounting); may be empty.
  // Runs on the requesting thread; must be quick and must not throw.
  RequestObserver on_request;

  // The environment to resolve credentials, region and endpoint from; nullopt reads the
  // process environment. The shared config and credentials files are read from disk at the
  // paths this environment names (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, HOME).
  std::optional<std::map<std::string, std::string>> environment;

  // kInvalidArgument naming the first bad option.
  Status Validate() const;
};

// Reads the store options a connection string carries in StoreUri::options (probe,
// concurrency, connectTimeoutMs, requestTimeoutMs, maxAttempts, tlsVerify), on top of
// `settings` (what the URI does not say; its uri field is replaced by `uri`). An unknown
// option or a bad value is kInvalidArgument.
S3DB_EXPORT Result<S3StoreOptions> S3StoreOptionsFromUri(const StoreUri& uri, S3StoreOptions settings = {});

// Opens the store: resolves credentials, region and endpoint, then probes (unless
// options.probe is false). Fails with kInvalidArgument for bad options or missing
// credentials, with the probe's error (kAccessDenied for a wrong key or secret, kNotFound
// for a missing bucket, kNetwork / kTimeout for an unreachable endpoint) otherwise.
S3DB_EXPORT Result<std::unique_ptr<ObjectStore>> NewS3Store(const S3StoreOptions& options);

// Who an S3 connection would act as, without sending any S3 request (`s3db whoami`): the
// credential source the chain picked (docs/CREDENTIALS.md), the access key id with all but
// its first and last 4 characters masked, whether there is a session token and when the
// credentials expire, the region and the endpoint. Resolving may call a credential_process,
// the container or EC2 metadata service or STS, as opening the store would. Never carries
// the secret key or the session token.
struct S3DB_EXPORT S3Identity {
  std::string source;         // "profile [dev] of /home/u/.aws/config (static keys)"
  std::string access_key_id;  // "AKIA************WXYZ"
  bool session_token = false;
  std::string expiration;  // ISO 8601; empty for long-term credentials
  std::string region;
  std::string endpoint;
};
S3DB_EXPORT Result<S3Identity> ResolveS3Identity(const S3StoreOptions& options);

}  // namespace s3db

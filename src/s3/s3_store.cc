#include "s3/s3_store.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <utility>
#include <vector>

#include "s3/credentials.h"
#include "exec/retry_policy.h"
#include "s3/s3_xml.h"
#include "s3db/stores.h"
#include "store/metadata_rules.h"
#include "util/crypto_hash.h"
#include "util/text.h"

namespace s3db {
namespace s3 {
namespace {

constexpr std::string_view kMetaPrefix = "x-amz-meta-";

bool IsIpLiteral(std::string_view host) {
  if (!host.empty() && host.front() == '[') return true;  // IPv6
  return !host.empty() && std::all_of(host.begin(), host.end(), [](char c) {
    return (c >= '0' && c <= '9') || c == '.';
  });
}

std::string Quoted(std::string_view key) { return "'" + std::string(key) + "'"; }

std::string QuotedEtag(std::string_view etag) {
  if (etag.empty() || etag.front() == '"') return std::string(etag);
  return "\"" + std::string(etag) + "\"";
}

std::string BareEtag(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    return std::string(etag.substr(1, etag.size() - 2));
  }
  return std::string(etag);
}

bool IsSuccess(int status) { return status >= 200 && status <= 299; }

std::atomic<bool> warned_no_conditional_writes{false};

}  // namespace

Result<Addressing> MakeAddressing(const std::string& endpoint, const std::string& bucket,
                                  bool force_path_style) {
  Addressing addressing;
  std::string_view rest;
  if (util::StartsWith(endpoint, "https://")) {
    addressing.https = true;
    rest = std::string_view(endpoint).substr(8);
  } else if (util::StartsWith(endpoint, "http://")) {
    addressing.https = false;
    rest = std::string_view(endpoint).substr(7);
  } else {
    return Status(ErrorCode::kInvalidArgument, "S3 endpoint must start with http:// or https://");
  }
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.empty() || rest.find_first_of("/?#@") != std::string_view::npos) {
    return Status(ErrorCode::kInvalidArgument, "S3 endpoint must be http(s)://host[:port]");
  }
  std::string host(rest);
  // The Host header carries the port only when it is not the scheme's default. (A bracketed
  // IPv6 host without a port ends with ']', so this never cuts into an address.)
  const std::string default_port = addressing.https ? ":443" : ":80";
  if (util::EndsWith(host, default_port)) host.resize(host.size() - default_port.size());
  std::string bare_host = host;
  if (bare_host.front() != '[') bare_host = bare_host.substr(0, bare_host.find(':'));
  if (bucket.empty()) return Status(ErrorCode::kInvalidArgument, "missing bucket");
  addressing.host = std::move(host);
  addressing.bucket = bucket;
  addressing.path_style = force_path_style || IsIpLiteral(bare_host) ||
                          bare_host == "localhost" || bucket.find('.') != std::string::npos;
  return addressing;
}

RequestTarget BuildTarget(const Addressing& addressing, std::string_view key,
                          const QueryParams& query) {
  RequestTarget target;
  if (addressing.path_style) {
    target.host = addressing.host;
    target.path = "/" + addressing.bucket;
    if (!key.empty()) target.path += "/" + std::string(key);
  } else {
    target.host = addressing.bucket + "." + addressing.host;
    target.path = "/" + std::string(key);
  }
  target.url = (addressing.https ? "https://" : "http://") + target.host + CanonicalPath(target.path);
  std::string canonical_query = CanonicalQueryString(query);
  if (!canonical_query.empty()) target.url += "?" + canonical_query;
  return target;
}

std::string EncodeMetadataKey(std::string_view key) {
  std::string wire;
  wire.reserve(key.size() + 2);
  for (char c : key) {
    if (c == '-') {
      wire += "--";
    } else if (c == '_') {
      wire += "-u";
    } else {
      wire.push_back(c);
    }
  }
  return wire;
}

std::optional<std::string> DecodeMetadataKey(std::string_view wire) {
  std::string key;
  key.reserve(wire.size());
  for (size_t i = 0; i < wire.size(); ++i) {
    if (wire[i] != '-') {
      key.push_back(wire[i]);
      continue;
    }
    if (i + 1 >= wire.size()) return std::nullopt;
    char next = wire[++i];
    if (next == '-') {
      key.push_back('-');
    } else if (next == 'u') {
      key.push_back('_');
    } else {
      return std::nullopt;
    }
  }
  return key;
}

size_t WireMetadataSize(const Metadata& metadata) {
  size_t total = 0;
  for (const auto& [key, value] : metadata) total += EncodeMetadataKey(key).size() + value.size();
  return total;
}

Metadata MetadataFromHeaders(const HttpHeaders& headers, bool keep_write_tag) {
  Metadata metadata;
  for (const auto& [name, value] : headers) {
    std::string lower = util::ToLower(name);
    if (!util::StartsWith(lower, kMetaPrefix)) continue;
    std::string wire = lower.substr(kMetaPrefix.size());
    if (wire.empty()) continue;
    std::string key = DecodeMetadataKey(wire).value_or(wire);
    if (!keep_write_tag && key == kWriteTagKey) continue;
    metadata[key] = value;
  }
  return metadata;
}

std::optional<int64_t> ParseHttpDate(std::string_view text) {
  using namespace std::chrono;
  // "Sun, 06 Nov 1994 08:49:37 GMT"
  if (text.size() != 29 || text[3] != ',' || text.substr(25) != " GMT") return std::nullopt;
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  auto number = [&](size_t pos, size_t len, int* out) {
    int value = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      value = value * 10 + (text[i] - '0');
    }
    *out = value;
    return true;
  };
  int d = 0, y = 0, h = 0, mi = 0, s = 0;
  if (!number(5, 2, &d) || !number(12, 4, &y) || !number(17, 2, &h) || !number(20, 2, &mi) ||
      !number(23, 2, &s) || text[19] != ':' || text[22] != ':') {
    return std::nullopt;
  }
  unsigned month = 0;
  for (unsigned i = 0; i < 12; ++i) {
    if (text.substr(8, 3) == kMonths[i]) month = i + 1;
  }
  const year_month_day ymd{year{y}, std::chrono::month{month}, day{static_cast<unsigned>(d)}};
  if (month == 0 || !ymd.ok() || h > 23 || mi > 59 || s > 60) return std::nullopt;
  int64_t secs = sys_days(ymd).time_since_epoch() / seconds(1) + h * 3600 + mi * 60 + s;
  return secs * 1000;
}

namespace {

// One S3 operation, before signing.
struct S3Call {
  std::string method = "GET";
  std::string key;  // empty: the bucket
  QueryParams query;
  HeaderList headers;  // signed and sent
  std::string body;
  std::string what;    // "PUT 'key'", for messages
};

struct Reply {
  HttpResponse response;
  int attempts = 0;
};

class S3Store final : public ObjectStore {
 public:
  S3Store(StoreUri uri, Addressing addressing, ResolvedCredentials credentials,
          std::string region, std::unique_ptr<HttpClient> http, exec::RetryPolicy retry)
      : uri_(std::move(uri)),
        addressing_(std::move(addressing)),
        credentials_(std::move(credentials)),
        region_(std::move(region)),
        http_(std::move(http)),
        retry_(std::move(retry)) {}

  Status Probe();
  void AssumeConditionalWrites(bool value) { conditional_writes_ = value; }
  void SetRequestObserver(RequestObserver observer) { on_request_ = std::move(observer); }

  Result<ObjectInfo> Put(const PutRequest& request) override;
  Result<GetResult> Get(const std::string& key) override;
  Result<ObjectInfo> Head(const std::string& key) override;
  Status Delete(const std::string& key) override;
  Result<DeleteManyResult> DeleteMany(const std::vector<std::string>& keys) override;
  Result<ListPage> List(const ListRequest& request) override;

  Capabilities capabilities() const override {
    Capabilities capabilities;
    capabilities.conditional_writes = conditional_writes_;
    capabilities.metadata_limit = kUserMetadataLimit;
    return capabilities;
  }
  std::string Describe() const override { return uri_.ToString(); }

 private:
  // Signs and sends `call`, retrying retryable failures. An HTTP error status comes back as
  // a response (the caller maps it); a transport failure that outlasted the retries as a
  // Status.
  Result<Reply> Execute(const S3Call& call);
  // The Status for a non-2xx reply, naming the operation, masked.
  Status Failure(const S3Call& call, const Reply& reply) const;
  Status Masked(Status status) const {
    if (status.ok()) return status;
    StoreUri secrets;
    secrets.secret_key = credentials_.credentials.secret_access_key;
    secrets.session_token = credentials_.credentials.session_token;
    return Status(status.code(), MaskSecrets(status.message(), secrets));
  }
  Result<ObjectInfo> HeadInternal(const std::string& key, bool keep_write_tag);
  Result<ObjectInfo> PutUnchecked(const PutRequest& request, const store::ValidatedPut& put);
  ObjectInfo InfoFromHeaders(const std::string& key, const HttpResponse& response,
                             bool keep_write_tag) const;

  const StoreUri uri_;
  const Addressing addressing_;
  const ResolvedCredentials credentials_;
  const std::string region_;
  std::unique_ptr<HttpClient> http_;
  const exec::RetryPolicy retry_;
  std::atomic<bool> conditional_writes_{true};
  RequestObserver on_request_;  // set before first use, then only read
};

Result<Reply> S3Store::Execute(const S3Call& call) {
  const RequestTarget target = BuildTarget(addressing_, call.key, call.query);
  SigningRequest signing;
  signing.method = call.method;
  signing.host = target.host;
  signing.path = target.path;
  signing.query = call.query;
  signing.headers = call.headers;
  signing.payload_hash = PayloadHash(call.body);
  SigningContext context;
  context.credentials = credentials_.credentials;
  context.region = region_;

  Reply reply;
  for (int attempt = 1;; ++attempt) {
    reply.attempts = attempt;
    // Signed afresh for each attempt: x-amz-date must be the time of sending.
    context.time = std::chrono::system_clock::now();
    Result<SignedRequest> signed_request = SignV4(signing, context);
    if (!signed_request.ok()) {
      return Masked(Status(signed_request.code(),
                           call.what + ": " + signed_request.status().message()));
    }
    HttpRequest http;
    http.method = call.method;
    http.url = target.url;
    http.headers.emplace_back("Host", target.host);
    for (const auto& header : call.headers) http.headers.push_back(header);
    for (const auto& header : signed_request->headers_to_add) http.headers.push_back(header);
    http.body = call.body;

    Result<HttpResponse> response = http_->Send(http);
    if (on_request_) {
      SentRequest sent;
      sent.method = call.method;
      for (const auto& [name, value] : call.query) sent.list |= name == "list-type";
      sent.key = call.key;
      for (const auto& [name, value] : call.query) {
        if (name == "prefix") sent.key = value;
      }
      sent.bytes_out = call.body.size();
      for (const auto& [name, value] : call.headers) {
        if (name.rfind("x-amz-meta-", 0) == 0) sent.bytes_out += value.size();
      }
      sent.bytes_in = response.ok() ? response->body.size() : 0;
      on_request_(sent);
    }
    Status failure;
    std::optional<std::chrono::milliseconds> retry_after;
    if (!response.ok()) {
      failure = response.status();
    } else if (response->status < 300) {
      reply.response = std::move(response).value();
      return reply;
    } else {
      failure = StatusFromS3Response(response->status, response->body);
      if (const std::string* header = response->Header("retry-after")) {
        retry_after = exec::ParseRetryAfter(*header);
      }
      if (!retry_.ShouldRetry(failure, attempt)) {
        reply.response = std::move(response).value();
        return reply;
      }
    }
    if (!retry_.ShouldRetry(failure, attempt)) {
      std::string message = call.what + ": " + failure.message();
      if (attempt > 1) message += " (after " + std::to_string(attempt) + " attempts)";
      return Masked(Status(failure.code(), std::move(message)));
    }
    std::this_thread::sleep_for(retry_.Delay(attempt, retry_after));
  }
}

Status S3Store::Failure(const S3Call& call, const Reply& reply) const {
  Status mapped = StatusFromS3Response(reply.response.status, reply.response.body);
  std::string message = call.what + ": " + mapped.message();
  if (reply.attempts > 1) message += " (after " + std::to_string(reply.attempts) + " attempts)";
  return Masked(Status(mapped.code(), std::move(message)));
}

ObjectInfo S3Store::InfoFromHeaders(const std::string& key, const HttpResponse& response,
                                    bool keep_write_tag) const {
  ObjectInfo info;
  info.key = key;
  if (const std::string* etag = response.Header("etag")) info.etag = QuotedEtag(*etag);
  if (const std::string* modified = response.Header("last-modified")) {
    info.last_modified_ms = ParseHttpDate(*modified).value_or(0);
  }
  if (const std::string* length = response.Header("content-length")) {
    try {
      info.size = std::stoull(*length);
    } catch (const std::exception&) {
      info.size = 0;
    }
  }
  if (const std::string* type = response.Header("content-type")) info.content_type = *type;
  info.metadata = MetadataFromHeaders(response.headers, keep_write_tag);
  return info;
}

Result<ObjectInfo> S3Store::PutUnchecked(const PutRequest& request,
                                         const store::ValidatedPut& put) {
  const bool conditional = request.if_none_match_star || request.if_match.has_value();
  const bool server_checks = conditional && conditional_writes_;
  S3Call call;
  call.method = "PUT";
  call.key = request.key;
  call.body = request.body;
  call.what = "PUT " + Quoted(request.key);
  call.headers.emplace_back("Content-Type", put.content_type);
  for (const auto& [key, value] : put.metadata) {
    call.headers.emplace_back(std::string(kMetaPrefix) + EncodeMetadataKey(key), value);
  }
  std::string tag;
  if (server_checks) {
    tag = util::RandomAlnum(kWriteTagLength);
    call.headers.emplace_back(std::string(kMetaPrefix) + EncodeMetadataKey(kWriteTagKey), tag);
    if (request.if_none_match_star) call.headers.emplace_back("If-None-Match", "*");
    // Ceph RGW matches If-Match only against the bare ETag; AWS accepts both forms.
    if (request.if_match) call.headers.emplace_back("If-Match", BareEtag(*request.if_match));
  }

  Result<Reply> reply = Execute(call);
  if (!reply.ok()) return reply.status();
  if (IsSuccess(reply->response.status)) {
    ObjectInfo info;
    info.key = request.key;
    const std::string* etag = reply->response.Header("etag");
    info.etag = etag != nullptr ? QuotedEtag(*etag) : put.etag;
    if (const std::string* modified = reply->response.Header("last-modified")) {
      info.last_modified_ms = ParseHttpDate(*modified).value_or(0);
    }
    info.size = request.body.size();
    info.content_type = put.content_type;
    info.metadata = put.metadata;
    return info;
  }
  Status failure = Failure(call, *reply);
  if (request.if_match && failure.code() == ErrorCode::kNotFound) {
    // AWS answers If-Match on an absent key with 404 NoSuchKey (RGW with 412).
    failure = Status(ErrorCode::kPreconditionFailed,
                     "object " + Quoted(request.key) + " does not exist (if_match): " +
                         failure.message());
  }
  if (server_checks && reply->attempts > 1 &&
      (failure.code() == ErrorCode::kPreconditionFailed || failure.code() == ErrorCode::kConflict)) {
    // Was an earlier attempt committed although its response was lost? Then the object
    // carries our tag, and the refusal is about our own write.
    Result<ObjectInfo> head = HeadInternal(request.key, /*keep_write_tag=*/true);
    if (head.ok()) {
      auto stored = head->metadata.find(std::string(kWriteTagKey));
      if (stored != head->metadata.end() && stored->second == tag) {
        ObjectInfo info = std::move(head).value();
        info.metadata.erase(std::string(kWriteTagKey));
        return info;
      }
    }
  }
  return failure;
}

Result<ObjectInfo> S3Store::Put(const PutRequest& request) {
  for (const auto& [key, value] : request.metadata) {
    if (util::ToLower(key) == kWriteTagKey) {
      return Status(ErrorCode::kInvalidArgument,
                    "metadata key '" + std::string(kWriteTagKey) +
                        "' is reserved by the S3 store (its write tag)");
    }
  }
  Result<store::ValidatedPut> put = store::ValidatePut(request, capabilities());
  if (!put.ok()) return put.status();
  // The escaped keys (EncodeMetadataKey) are what S3 counts; the tag is already reserved.
  size_t wire = WireMetadataSize(put->metadata);
  if (wire > kUserMetadataLimit) {
    return Status(ErrorCode::kMetadataTooLarge,
                  "metadata is " + std::to_string(wire) +
                      " bytes on the wire ('-' and '_' in keys are escaped, one extra byte "
                      "each), over the limit of " + std::to_string(kUserMetadataLimit));
  }
  const bool conditional = request.if_none_match_star || request.if_match.has_value();
  if (conditional && !conditional_writes_) {
    // The server ignores conditions: check first, then write. Racy, and said so at open.
    Result<ObjectInfo> current = Head(request.key);
    if (!current.ok() && current.code() != ErrorCode::kNotFound) return current.status();
    Status holds = store::CheckPrecondition(request, current.ok() ? &current->etag : nullptr);
    if (!holds.ok()) return holds;
  }
  return PutUnchecked(request, *put);
}

Result<GetResult> S3Store::Get(const std::string& key) {
  if (Status status = store::ValidateObjectKey(key); !status.ok()) return status;
  S3Call call;
  call.method = "GET";
  call.key = key;
  call.what = "GET " + Quoted(key);
  Result<Reply> reply = Execute(call);
  if (!reply.ok()) return reply.status();
  if (!IsSuccess(reply->response.status)) return Failure(call, *reply);
  GetResult result;
  result.info = InfoFromHeaders(key, reply->response, /*keep_write_tag=*/false);
  result.body = std::move(reply->response.body);
  result.info.size = result.body.size();
  return result;
}

Result<ObjectInfo> S3Store::HeadInternal(const std::string& key, bool keep_write_tag) {
  if (Status status = store::ValidateObjectKey(key); !status.ok()) return status;
  S3Call call;
  call.method = "HEAD";
  call.key = key;
  call.what = "HEAD " + Quoted(key);
  Result<Reply> reply = Execute(call);
  if (!reply.ok()) return reply.status();
  // A HEAD response has no body: the status alone says what went wrong.
  if (!IsSuccess(reply->response.status)) return Failure(call, *reply);
  return InfoFromHeaders(key, reply->response, keep_write_tag);
}

Result<ObjectInfo> S3Store::Head(const std::string& key) {
  return HeadInternal(key, /*keep_write_tag=*/false);
}

Status S3Store::Delete(const std::string& key) {
  if (Status status = store::ValidateObjectKey(key); !status.ok()) return status;
  S3Call call;
  call.method = "DELETE";
  call.key = key;
  call.what = "DELETE " + Quoted(key);
  Result<Reply> reply = Execute(call);
  if (!reply.ok()) return reply.status();
  if (IsSuccess(reply->response.status)) return Status::Ok();
  // S3 answers 204 for an absent key; a server that says NoSuchKey means the same.
  if (reply->response.status == 404) {
    std::optional<S3Error> error = ParseErrorBody(reply->response.body);
    if (error && error->code == "NoSuchKey") return Status::Ok();
  }
  return Failure(call, *reply);
}

Result<DeleteManyResult> S3Store::DeleteMany(const std::vector<std::string>& keys) {
  if (keys.size() > 1000) {
    return Status(ErrorCode::kInvalidArgument,
                  "DeleteMany takes at most 1000 keys, got " + std::to_string(keys.size()));
  }
  DeleteManyResult result;
  std::vector<std::string> batch;
  std::vector<std::string> one_by_one;  // valid keys that XML 1.0 cannot carry
  for (const std::string& key : keys) {
    if (Status status = store::ValidateObjectKey(key); !status.ok()) {
      result.errors.emplace_back(key, status);
    } else if (BuildDeleteObjectsBody({key}).ok()) {
      batch.push_back(key);
    } else {
      one_by_one.push_back(key);
    }
  }
  for (const std::string& key : one_by_one) {
    Status status = Delete(key);
    if (status.ok()) {
      result.deleted.push_back(key);
    } else {
      result.errors.emplace_back(key, status);
    }
  }
  if (batch.empty()) return result;

  Result<DeleteObjectsBody> body = BuildDeleteObjectsBody(batch);
  if (!body.ok()) return body.status();
  S3Call call;
  call.method = "POST";
  call.query = {{"delete", ""}};
  call.headers = {{"Content-MD5", body->content_md5}, {"Content-Type", "application/xml"}};
  call.body = std::move(body->xml);
  call.what = "DeleteObjects (" + std::to_string(batch.size()) + " keys)";
  Result<Reply> reply = Execute(call);
  if (!reply.ok()) return reply.status();
  if (!IsSuccess(reply->response.status)) return Failure(call, *reply);
  Result<DeleteManyResult> parsed = ParseDeleteObjectsResult(reply->response.body, batch);
  if (!parsed.ok()) return Masked(Status(parsed.code(), call.what + ": " + parsed.status().message()));
  for (std::string& key : parsed->deleted) result.deleted.push_back(std::move(key));
  for (auto& error : parsed->errors) result.errors.push_back(std::move(error));
  return result;
}

Result<ListPage> S3Store::List(const ListRequest& request) {
  S3Call call;
  call.method = "GET";
  call.query = {{"list-type", "2"},
                {"encoding-type", "url"},
                {"max-keys", std::to_string(std::clamp(request.max_keys, 1, 1000))}};
  if (!request.prefix.empty()) call.query.emplace_back("prefix", request.prefix);
  if (!request.start_after.empty()) call.query.emplace_back("start-after", request.start_after);
  if (!request.continuation_token.empty()) {
    call.query.emplace_back("continuation-token", request.continuation_token);
  }
  call.what = "LIST " + Quoted(request.prefix);
  Result<Reply> reply = Execute(call);
  if (!reply.ok()) return reply.status();
  if (!IsSuccess(reply->response.status)) return Failure(call, *reply);
  Result<ListPage> page = ParseListObjectsV2(reply->response.body);
  if (!page.ok()) return Masked(Status(page.code(), call.what + ": " + page.status().message()));
  return page;
}

Status S3Store::Probe() {
  std::string key = ".s3db-probe-" + util::RandomAlnum(16);
  if (!uri_.prefix.empty()) key = uri_.prefix + "/" + key;
  PutRequest create;
  create.key = key;
  create.body = "s3db capability probe";
  create.if_none_match_star = true;
  Result<ObjectInfo> first = Put(create);
  if (!first.ok()) {
    return Status(first.code(), "cannot open " + Describe() + ": " + first.status().message());
  }
  auto honoured = [&](const Result<ObjectInfo>& again) -> Result<bool> {
    if (again.ok()) return false;  // the write went through: the condition was ignored
    if (again.code() == ErrorCode::kPreconditionFailed) return true;
    // 501 NotImplemented, or a 400 for a header the server does not know.
    if (again.code() == ErrorCode::kUnsupported || again.code() == ErrorCode::kInvalidArgument) {
      return false;
    }
    return again.status();
  };
  Result<bool> if_none_match = honoured(Put(create));
  PutRequest update = create;
  update.if_none_match_star = false;
  update.if_match = "\"00000000000000000000000000000000\"";
  Result<bool> if_match = if_none_match.ok() ? honoured(Put(update)) : Result<bool>(false);
  Status cleanup = Delete(key);
  (void)cleanup;  // a probe object left behind is harmless; the result matters more
  if (!if_none_match.ok()) return if_none_match.status();
  if (!if_match.ok()) return if_match.status();
  conditional_writes_ = *if_none_match && *if_match;
  if (!conditional_writes_ && !warned_no_conditional_writes.exchange(true)) {
    std::fprintf(stderr,
                 "s3db: warning: %s does not honour conditional writes (If-None-Match: *%s); "
                 "falling back to check-then-write, which concurrent writers can race\n",
                 Describe().c_str(), *if_none_match ? "" : ", If-Match");
  }
  return Status::Ok();
}

}  // namespace
}  // namespace s3

Status S3StoreOptions::Validate() const {
  auto invalid = [](const std::string& why) {
    return Status(ErrorCode::kInvalidArgument, "S3 store options: " + why);
  };
  if (uri.scheme != StoreScheme::kS3 && uri.scheme != StoreScheme::kHttp &&
      uri.scheme != StoreScheme::kHttps) {
    return invalid("the connection string must be s3://, http:// or https://");
  }
  if (uri.bucket.empty()) return invalid("missing bucket");
  if (concurrency < 1 || concurrency > 1024) {
    return invalid("concurrency must be 1 to 1024, got " + std::to_string(concurrency));
  }
  if (connect_timeout.count() <= 0 || request_timeout.count() <= 0) {
    return invalid("timeouts must be positive");
  }
  exec::RetryOptions retry;
  retry.max_attempts = max_attempts;
  retry.base_delay = retry_base_delay;
  retry.max_delay = retry_max_delay;
  if (Status status = retry.Validate(); !status.ok()) return invalid(status.message());
  return Status::Ok();
}

Result<S3StoreOptions> S3StoreOptionsFromUri(const StoreUri& uri) {
  S3StoreOptions options;
  options.uri = uri;
  auto invalid = [](const std::string& why) {
    return Status(ErrorCode::kInvalidArgument, "invalid connection string: " + why);
  };
  auto number = [&](const std::string& name, const std::string& value, int64_t low,
                    int64_t high) -> Result<int64_t> {
    int64_t parsed = 0;
    if (value.empty() || value.size() > 12 ||
        value.find_first_not_of("0123456789") != std::string::npos) {
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

Result<std::unique_ptr<ObjectStore>> NewS3Store(const S3StoreOptions& options) {
  if (Status status = options.Validate(); !status.ok()) return status;
  const s3::Environment env = options.environment ? *options.environment : s3::CaptureEnvironment();
  const s3::FileReader reader = options.environment
                                    ? s3::FileReader([](const std::string&) { return std::optional<std::string>(); })
                                    : s3::FileReader(&s3::ReadWholeFile);
  Result<s3::ResolvedCredentials> credentials = s3::ResolveCredentials(options.uri, env, reader);
  if (!credentials.ok()) return credentials.status();
  std::string region = s3::ResolveRegion(options.uri, env);
  Result<std::string> endpoint = s3::ResolveEndpoint(options.uri, env, region);
  if (!endpoint.ok()) return endpoint.status();
  Result<s3::Addressing> addressing =
      s3::MakeAddressing(*endpoint, options.uri.bucket, options.uri.force_path_style);
  if (!addressing.ok()) return addressing.status();

  s3::HttpOptions http_options;
  http_options.max_connections = options.concurrency;
  http_options.connect_timeout = options.connect_timeout;
  http_options.request_timeout = options.request_timeout;
  http_options.verify_tls = options.verify_tls;
  http_options.ca_file = options.ca_file;
  Result<std::unique_ptr<s3::HttpClient>> http = s3::HttpClient::Create(http_options);
  if (!http.ok()) return http.status();
  exec::RetryOptions retry;
  retry.max_attempts = options.max_attempts;
  retry.base_delay = options.retry_base_delay;
  retry.max_delay = options.retry_max_delay;

  auto store = std::make_unique<s3::S3Store>(options.uri, std::move(addressing).value(),
                                             std::move(credentials).value(), std::move(region),
                                             std::move(http).value(), exec::RetryPolicy(retry));
  store->SetRequestObserver(options.on_request);
  if (options.probe) {
    if (Status status = store->Probe(); !status.ok()) return status;
  } else {
    store->AssumeConditionalWrites(options.assume_conditional_writes);
  }
  return std::unique_ptr<ObjectStore>(std::move(store));
}

}  // namespace s3db

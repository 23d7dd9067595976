#include "s3/s3_store.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>

#include "s3/s3_xml.h"
#include "store/capability_probe.h"
#include "util/crypto_hash.h"
#include "util/text.h"

namespace s3db::s3 {
namespace {

std::string Quoted(std::string_view key) { return "'" + std::string(key) + "'"; }

std::string BareEtag(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    return std::string(etag.substr(1, etag.size() - 2));
  }
  return std::string(etag);
}

bool IsSuccess(int status) { return status >= 200 && status <= 299; }

ObjectInfo InfoFromHeaders(const std::string& key, const HttpResponse& response, bool keep_write_tag) {
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

}  // namespace

Result<S3Store::PreparedPut> S3Store::PreparePut(PutRequest request) const {
  for (const auto& [key, value] : request.metadata) {
    if (util::ToLower(key) == kWriteTagKey) {
      return Status(ErrorCode::kInvalidArgument,
                    "metadata key '" + std::string(kWriteTagKey) + "' is reserved by the S3 store (its write tag)");
    }
  }
  Result<store::ValidatedPut> validated = store::ValidatePut(request, capabilities());
  if (!validated.ok()) return validated.status();
  // The escaped keys (EncodeMetadataKey) are what S3 counts; the tag is already reserved.
  size_t wire = WireMetadataSize(validated->metadata);
  if (wire > kUserMetadataLimit) {
    return Status(ErrorCode::kMetadataTooLarge,
                  "metadata is " + std::to_string(wire) +
                      " bytes on the wire ('-' and '_' in keys are escaped, one extra byte "
                      "each), over the limit of " +
                      std::to_string(kUserMetadataLimit));
  }
  PreparedPut prepared;
  prepared.put = std::move(validated).value();
  // Conditions go to the server: one that ignores them sits behind the check-then-write
  // fallback (store/capability_probe.h), which sends none.
  prepared.conditional = request.if_none_match_star || request.if_match.has_value();
  S3Call& call = prepared.call;
  call.method = "PUT";
  call.key = request.key;
  call.body = std::move(request.body);
  call.what = "PUT " + Quoted(request.key);
  call.headers.emplace_back("Content-Type", prepared.put.content_type);
  for (const auto& [key, value] : prepared.put.metadata) {
    call.headers.emplace_back(std::string(kMetaPrefix) + EncodeMetadataKey(key), value);
  }
  if (prepared.conditional) {
    prepared.tag = util::RandomAlnum(kWriteTagLength);
    call.headers.emplace_back(std::string(kMetaPrefix) + EncodeMetadataKey(kWriteTagKey), prepared.tag);
    if (request.if_none_match_star) call.headers.emplace_back("If-None-Match", "*");
    // Ceph RGW matches If-Match only against the bare ETag; AWS accepts both forms.
    if (request.if_match) call.headers.emplace_back("If-Match", BareEtag(*request.if_match));
  }
  prepared.if_match = request.if_match.has_value();
  return prepared;
}

Result<ObjectInfo> S3Store::PutOutcome(const PreparedPut& prepared, Result<Reply> reply) {
  const S3Call& call = prepared.call;
  if (!reply.ok()) {
    // Out of attempts on a transport failure or a 5xx: any attempt may have been applied
    // with its answer lost. Only the object can say.
    if (prepared.conditional && reply.code() != ErrorCode::kAccessDenied &&
        reply.code() != ErrorCode::kInvalidArgument) {
      return SettleByWriteTag(call.key, prepared.tag, reply.status());
    }
    return reply.status();
  }
  if (IsSuccess(reply->response.status)) {
    ObjectInfo info;
    info.key = call.key;
    const std::string* etag = reply->response.Header("etag");
    info.etag = etag != nullptr ? QuotedEtag(*etag) : prepared.put.etag;
    if (const std::string* modified = reply->response.Header("last-modified")) {
      info.last_modified_ms = ParseHttpDate(*modified).value_or(0);
    }
    info.size = call.body.size();
    info.content_type = prepared.put.content_type;
    info.metadata = prepared.put.metadata;
    return info;
  }
  Status failure = client_.Failure(call, *reply);
  if (prepared.if_match && failure.code() == ErrorCode::kNotFound) {
    // AWS answers If-Match on an absent key with 404 NoSuchKey (RGW with 412).
    failure = Status(ErrorCode::kPreconditionFailed,
                     "object " + Quoted(call.key) + " does not exist (if_match): " + failure.message());
  }
  // A refusal may be about our own earlier attempt, applied with its answer lost; a
  // retryable status given up on may hide an applied attempt the same way. Even a refusal at
  // the first attempt: libcurl sends a request again by itself when a reused connection dies
  // before the answer (a reset after the server acted), and that resend is not an attempt
  // we can count.
  const bool refused = failure.code() == ErrorCode::kPreconditionFailed || failure.code() == ErrorCode::kConflict;
  if (prepared.conditional && (refused || failure.retryable())) {
    return SettleByWriteTag(call.key, prepared.tag, std::move(failure));
  }
  return failure;
}

Result<ObjectInfo> S3Store::SettleByWriteTag(const std::string& key, const std::string& tag, Status failure) {
  // Did an attempt land? Then the object carries its tag, and the write succeeded. The HEAD
  // has retries of its own.
  Result<ObjectInfo> head = HeadInternal(key, /*keep_write_tag=*/true);
  if (head.ok()) {
    auto stored = head->metadata.find(std::string(kWriteTagKey));
    if (stored != head->metadata.end() && stored->second == tag) {
      ObjectInfo info = std::move(head).value();
      info.metadata.erase(std::string(kWriteTagKey));
      return info;
    }
    return failure;  // another write's object: the failure stands
  }
  if (head.code() == ErrorCode::kNotFound) {
    // Nothing landed, unless an attempt cut off by a timeout is still on its way to the server.
    if (failure.code() != ErrorCode::kTimeout) return failure;
    return Status(ErrorCode::kTimeout, failure.message() +
                                           "; the object is absent now, but the attempt that timed out "
                                           "may still be applied by the server");
  }
  // Unknown: never report a refusal that may be about our own write. The caller gets a
  // retryable failure saying the outcome is unknown.
  const ErrorCode code = head.status().retryable() ? head.code() : ErrorCode::kIOError;
  return Status(code, failure.message() + "; whether an earlier attempt of this write was applied is unknown: " +
                          head.status().message());
}

Result<ObjectInfo> S3Store::Put(const PutRequest& request) {
  Result<PreparedPut> prepared = PreparePut(request);
  if (!prepared.ok()) return prepared.status();
  return PutOutcome(*prepared, client_.Execute(prepared->call));
}

Result<GetResult> S3Store::Get(const std::string& key) {
  if (Status status = store::ValidateObjectKey(key); !status.ok()) return status;
  const S3Call call = GetCall(key);
  return GetResultOf(call, client_.Execute(call));
}

S3Call S3Store::GetCall(const std::string& key) {
  S3Call call;
  call.method = "GET";
  call.key = key;
  call.what = "GET " + Quoted(key);
  return call;
}

Result<GetResult> S3Store::GetResultOf(const S3Call& call, Result<Reply> reply) const {
  if (!reply.ok()) return reply.status();
  if (!IsSuccess(reply->response.status)) return client_.Failure(call, *reply);
  GetResult result;
  result.info = InfoFromHeaders(call.key, reply->response, /*keep_write_tag=*/false);
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
  Result<Reply> reply = client_.Execute(call);
  if (!reply.ok()) return reply.status();
  // A HEAD response has no body: the status alone says what went wrong.
  if (!IsSuccess(reply->response.status)) return client_.Failure(call, *reply);
  return InfoFromHeaders(key, reply->response, keep_write_tag);
}

Result<ObjectInfo> S3Store::Head(const std::string& key) { return HeadInternal(key, /*keep_write_tag=*/false); }

Status S3Store::Delete(const std::string& key) {
  if (Status status = store::ValidateObjectKey(key); !status.ok()) return status;
  S3Call call;
  call.method = "DELETE";
  call.key = key;
  call.what = "DELETE " + Quoted(key);
  Result<Reply> reply = client_.Execute(call);
  if (!reply.ok()) return reply.status();
  if (IsSuccess(reply->response.status)) return Status::Ok();
  // S3 answers 204 for an absent key; a server that says NoSuchKey means the same.
  if (reply->response.status == 404) {
    std::optional<S3Error> error = ParseErrorBody(reply->response.body);
    if (error && error->code == "NoSuchKey") return Status::Ok();
  }
  return client_.Failure(call, *reply);
}

Status S3Store::SendDeleteIfMatch(const std::string& key, const std::string& etag) {
  S3Call call;
  call.method = "DELETE";
  call.key = key;
  call.what = "DELETE " + Quoted(key) + " (If-Match " + etag + ")";
  call.headers.emplace_back("If-Match", BareEtag(etag));  // bare, as for PUT
  Result<Reply> reply = client_.Execute(call);
  if (!reply.ok()) return reply.status();
  if (IsSuccess(reply->response.status)) return Status::Ok();
  if (reply->response.status == 404) {
    // After a retry, the absence may be our own earlier attempt's work, its answer lost:
    // the object is gone either way, as asked.
    if (reply->attempts > 1) return Status::Ok();
    return store::CheckDeletePrecondition(key, etag, nullptr);  // kNotFound, worded as every store words it
  }
  return client_.Failure(call, *reply);
}

Status S3Store::DeleteIfMatch(const std::string& key, const std::string& etag) {
  if (Status status = store::ValidateObjectKey(key); !status.ok()) return status;
  if (conditional_deletes_.load(std::memory_order_acquire) == kNotProbed) {
    std::string probe_key = ".s3db-probe-" + util::RandomAlnum(16);
    if (!uri_.prefix.empty()) probe_key = uri_.prefix + "/" + probe_key;
    Result<bool> honoured = store::ProbeConditionalDeletes(
        *this, probe_key, [this](const std::string& k, const std::string& e) { return SendDeleteIfMatch(k, e); });
    if (!honoured.ok()) {
      return Status(honoured.code(), "conditional delete of " + Quoted(key) +
                                         ": probing whether the server honours If-Match on DELETE failed: " +
                                         honoured.status().message());
    }
    conditional_deletes_.store(*honoured ? kHonoured : kIgnored, std::memory_order_release);
    static std::atomic<bool> warned{false};
    if (!*honoured && !warned.exchange(true)) {
      // As for conditional writes (store/capability_probe.h): the caller falls back to a read
      // and a plain DELETE, and a write between the two is lost; say so once per process.
      std::fprintf(stderr,
                   "s3db: warning: %s ignores If-Match on DELETE; deletes at an ETag fall back to "
                   "read-then-delete, so a write landing between the two is deleted\n",
                   Describe().c_str());
    }
  }
  if (conditional_deletes_.load(std::memory_order_acquire) == kIgnored) {
    return Status(ErrorCode::kUnsupported, "conditional delete of " + Quoted(key) + ": " + Describe() +
                                               " ignores If-Match on DELETE (probed), so it cannot delete only "
                                               "at an ETag");
  }
  return SendDeleteIfMatch(key, etag);
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
  Result<Reply> reply = client_.Execute(call);
  if (!reply.ok()) return reply.status();
  if (!IsSuccess(reply->response.status)) return client_.Failure(call, *reply);
  Result<DeleteManyResult> parsed = ParseDeleteObjectsResult(reply->response.body, batch);
  if (!parsed.ok()) return client_.Masked(Status(parsed.code(), call.what + ": " + parsed.status().message()));
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
  Result<Reply> reply = client_.Execute(call);
  if (!reply.ok()) return reply.status();
  if (!IsSuccess(reply->response.status)) return client_.Failure(call, *reply);
  Result<ListPage> page = ParseListObjectsV2(reply->response.body);
  if (!page.ok()) return client_.Masked(Status(page.code(), call.what + ": " + page.status().message()));
  return page;
}

}  // namespace s3db::s3

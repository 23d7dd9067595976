#include "s3/s3_store.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

#include "s3/s3_xml.h"
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

Result<ObjectInfo> S3Store::PutValidated(const PutRequest& request, const store::ValidatedPut& put) {
  // Conditions go to the server: one that ignores them sits behind the check-then-write
  // fallback (store/capability_probe.h), which sends none.
  const bool conditional = request.if_none_match_star || request.if_match.has_value();
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
  if (conditional) {
    tag = util::RandomAlnum(kWriteTagLength);
    call.headers.emplace_back(std::string(kMetaPrefix) + EncodeMetadataKey(kWriteTagKey), tag);
    if (request.if_none_match_star) call.headers.emplace_back("If-None-Match", "*");
    // Ceph RGW matches If-Match only against the bare ETag; AWS accepts both forms.
    if (request.if_match) call.headers.emplace_back("If-Match", BareEtag(*request.if_match));
  }

  Result<Reply> reply = client_.Execute(call);
  if (!reply.ok()) {
    // Out of attempts on a transport failure or a 5xx: any attempt may have been applied
    // with its answer lost. Only the object can say.
    if (conditional && reply.code() != ErrorCode::kAccessDenied && reply.code() != ErrorCode::kInvalidArgument) {
      return SettleByWriteTag(request.key, tag, reply.status());
    }
    return reply.status();
  }
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
  Status failure = client_.Failure(call, *reply);
  if (request.if_match && failure.code() == ErrorCode::kNotFound) {
    // AWS answers If-Match on an absent key with 404 NoSuchKey (RGW with 412).
    failure = Status(ErrorCode::kPreconditionFailed,
                     "object " + Quoted(request.key) + " does not exist (if_match): " + failure.message());
  }
  // A refusal may be about our own earlier attempt, applied with its answer lost; a
  // retryable status given up on may hide an applied attempt the same way. Even a refusal at
  // the first attempt: libcurl sends a request again by itself when a reused connection dies
  // before the answer (a reset after the server acted), and that resend is not an attempt
  // we can count.
  const bool refused = failure.code() == ErrorCode::kPreconditionFailed || failure.code() == ErrorCode::kConflict;
  if (conditional && (refused || failure.retryable())) {
    return SettleByWriteTag(request.key, tag, std::move(failure));
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
  for (const auto& [key, value] : request.metadata) {
    if (util::ToLower(key) == kWriteTagKey) {
      return Status(ErrorCode::kInvalidArgument,
                    "metadata key '" + std::string(kWriteTagKey) + "' is reserved by the S3 store (its write tag)");
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
                      "each), over the limit of " +
                      std::to_string(kUserMetadataLimit));
  }
  return PutValidated(request, *put);
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

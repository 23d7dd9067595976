#include "store/capability_probe.h"

#include <atomic>
#include <cstdio>

#include "store/metadata_rules.h"
#include "util/crypto_hash.h"

namespace s3db::store {
namespace {

// Whether the server refused a write it should refuse; an error that says nothing about
// conditions is the probe's answer itself.
Result<bool> Refused(const Result<ObjectInfo>& write) {
  if (write.ok()) return false;  // the write went through: the condition was ignored
  if (write.code() == ErrorCode::kPreconditionFailed) return true;
  // 501 NotImplemented, or a 400 for a header the server does not know.
  if (write.code() == ErrorCode::kUnsupported || write.code() == ErrorCode::kInvalidArgument) {
    return false;
  }
  return write.status();
}

}  // namespace

Result<ProbedCapabilities> ProbeCapabilities(ObjectStore& store, const std::string& key) {
  PutRequest create;
  create.key = key;
  create.body = "s3db capability probe";
  create.if_none_match_star = true;
  // Refused already: the key exists (a probe left behind), which the second write also sees.
  Result<ObjectInfo> first = store.Put(create);
  if (!first.ok() && first.code() != ErrorCode::kPreconditionFailed) return first.status();
  Result<bool> if_none_match = Refused(store.Put(create));
  PutRequest update = create;
  update.if_none_match_star = false;
  update.if_match = "\"00000000000000000000000000000000\"";
  Result<bool> if_match = if_none_match.ok() ? Refused(store.Put(update)) : Result<bool>(false);
  Status cleanup = store.Delete(key);
  (void)cleanup;  // a probe object left behind is harmless; the answer is what matters
  if (!if_none_match.ok()) return if_none_match.status();
  if (!if_match.ok()) return if_match.status();
  ProbedCapabilities probed;
  probed.conditional_writes = *if_none_match && *if_match;
  if (first.ok()) {
    probed.etag_is_body_md5 = EtagsMatch(first->etag, ComputeEtag(create.body));
  } else {
    Result<bool> md5 = ProbeEtagIsBodyMd5(store, key + "-etag");
    if (!md5.ok()) return md5.status();
    probed.etag_is_body_md5 = *md5;
  }
  return probed;
}

Result<bool> ProbeConditionalWrites(ObjectStore& store, const std::string& key) {
  Result<ProbedCapabilities> probed = ProbeCapabilities(store, key);
  if (!probed.ok()) return probed.status();
  return probed->conditional_writes;
}

Result<bool> ProbeConditionalDeletes(ObjectStore& store, const std::string& key,
                                     const DeleteIfMatchFn& delete_if_match) {
  PutRequest put;
  put.key = key;
  put.body = "s3db conditional delete probe " + util::RandomAlnum(16);
  Result<ObjectInfo> written = store.Put(put);
  if (!written.ok()) return written.status();
  Status deleted = delete_if_match(key, "\"00000000000000000000000000000000\"");
  Result<bool> honoured = false;
  if (deleted.code() == ErrorCode::kPreconditionFailed) {
    Result<ObjectInfo> still = store.Head(key);
    if (still.ok()) {
      honoured = true;
    } else if (still.code() != ErrorCode::kNotFound) {
      honoured = still.status();
    }
  } else if (!deleted.ok() && deleted.code() != ErrorCode::kUnsupported &&
             deleted.code() != ErrorCode::kInvalidArgument) {
    honoured = deleted;
  }
  Status cleanup = store.Delete(key);
  (void)cleanup;  // a probe object left behind is harmless; the answer is what matters
  return honoured;
}

Result<bool> ProbeEtagIsBodyMd5(ObjectStore& store, const std::string& key) {
  PutRequest put;
  put.key = key;
  put.body = "s3db etag probe " + util::RandomAlnum(16);
  Result<ObjectInfo> written = store.Put(put);
  if (!written.ok()) return written.status();
  Status cleanup = store.Delete(key);
  (void)cleanup;  // a probe object left behind is harmless
  return EtagsMatch(written->etag, ComputeEtag(put.body));
}

namespace {

class CheckThenWriteStore : public ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;

  Result<ObjectInfo> Put(const PutRequest& request) override {
    if (request.if_none_match_star || request.if_match) {
      Result<ObjectInfo> head = inner().Head(request.key);
      if (!head.ok() && head.code() != ErrorCode::kNotFound) return head.status();
      Status holds = store::CheckPrecondition(request, head.ok() ? &head->etag : nullptr);
      if (!holds.ok()) return holds;
    }
    PutRequest plain = request;
    plain.if_none_match_star = false;
    plain.if_match.reset();
    return inner().Put(plain);
  }
  // Reads are the inner store's, events loop and all.
  void GetEachFrom(const KeySource& next_key, const GetEachOptions& options, const GetEachVisitor& visit) override {
    inner().GetEachFrom(next_key, options, visit);
  }
  // Writes keep the default PutEachFrom (this Put, on threads): each condition is checked here.
  Capabilities capabilities() const override {
    Capabilities c = inner().capabilities();
    c.conditional_writes = false;
    c.asynchronous_writes = false;
    return c;
  }
};

std::atomic<bool> warned{false};

class EtagsNotMd5Store : public ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  // Reads are the inner store's, event loop and all.
  void GetEachFrom(const KeySource& next_key, const GetEachOptions& options, const GetEachVisitor& visit) override {
    inner().GetEachFrom(next_key, options, visit);
  }
  void PutEachFrom(const PutSource& next, const PutEachOptions& options, const PutEachVisitor& visit) override {
    inner().PutEachFrom(next, options, visit);
  }
  Capabilities capabilities() const override {
    Capabilities c = inner().capabilities();
    c.etag_is_body_md5 = false;
    return c;
  }
};

}  // namespace

std::unique_ptr<ObjectStore> NewEtagsNotMd5Store(std::unique_ptr<ObjectStore> inner) {
  return std::make_unique<EtagsNotMd5Store>(std::move(inner));
}

std::unique_ptr<ObjectStore> NewCheckThenWriteStore(std::unique_ptr<ObjectStore> inner) {
  if (!warned.exchange(true)) {
    std::fprintf(stderr,
                 "s3db: warning: %s does not honour conditional writes (If-None-Match, "
                 "If-Match); falling back to check-then-write, so concurrent writers of one "
                 "object can overwrite each other\n",
                 inner->Describe().c_str());
  }
  return std::make_unique<CheckThenWriteStore>(std::move(inner));
}

}  // namespace s3db::store

// S3Store: the ObjectStore over one S3 bucket, as NewS3Store (include/s3db/stores.h) opens it;
// that header states its contract. It turns each ObjectStore call into S3 calls that its
// S3Client sends (s3/s3_client.h), and maps the replies: ETags, metadata, the write tag of
// conditional Puts, DeleteObjects batches, ListObjectsV2 pages. Whether the server honours
// conditional writes is settled outside it (store/capability_probe.h): the store always
// sends the conditions it is given.
//
// Thread-safe.
//
// May call: exec/ (the retry policy), store/, util/, libcurl, pugixml, OpenSSL.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "s3/s3_client.h"
#include "s3/s3_headers.h"
#include "s3db/object_store.h"
#include "s3db/stores.h"
#include "store/metadata_rules.h"

namespace s3db::s3 {

class S3Store final : public ObjectStore {
 public:
  S3Store(StoreUri uri, S3Client client) : uri_(std::move(uri)), client_(std::move(client)) {}

  Result<ObjectInfo> Put(const PutRequest& request) override;
  Result<GetResult> Get(const std::string& key) override;
  Result<ObjectInfo> Head(const std::string& key) override;
  Status Delete(const std::string& key) override;
  Result<DeleteManyResult> DeleteMany(const std::vector<std::string>& keys) override;
  Result<ListPage> List(const ListRequest& request) override;
  // From the client's event loop (s3/http_engine.h): one submitting thread (the caller's) and
  // a few that hand the answers to `visit`, whatever the concurrency. An answer that needs
  // another attempt (a retryable failure, expired credentials) is finished there as Get
  // would, blocking that thread. s3_store_each.cc.
  void GetEachFrom(const KeySource& next_key, const GetEachOptions& options, const GetEachVisitor& visit) override;
  // The same for PUTs: each request checked and signed on the calling thread, its answer
  // finished as Put finishes it (a conditional PUT settled by its write tag) on a drainer.
  void PutEachFrom(const PutSource& next, const PutEachOptions& options, const PutEachVisitor& visit) override;

  Capabilities capabilities() const override {
    Capabilities capabilities;
    capabilities.conditional_writes = true;  // else NewS3Store wraps it in the fallback
    capabilities.metadata_limit = kUserMetadataLimit;
    capabilities.asynchronous_reads = true;
    capabilities.asynchronous_writes = true;
    capabilities.conditional_deletes = conditional_deletes_.load(std::memory_order_acquire) == kHonoured;
    return capabilities;
  }
  std::string Describe() const override { return uri_.ToString(); }
  // DELETE with If-Match. Whether the server honours it is probed at the first call
  // (store::ProbeConditionalDeletes: a PUT, a DELETE, a HEAD and a DELETE of a probe object);
  // a server that ignores it (Ceph RGW 16) gets kUnsupported from then on, never an
  // unconditional delete.
  Status DeleteIfMatch(const std::string& key, const std::string& etag) override;

 private:
  static S3Call GetCall(const std::string& key);
  // A GET's answer as Get returns it.
  Result<GetResult> GetResultOf(const S3Call& call, Result<Reply> reply) const;
  Result<ObjectInfo> HeadInternal(const std::string& key, bool keep_write_tag);
  // A Put checked and turned into its call (the body moved into it), with what its answer
  // needs: Put is PreparePut, Execute, PutOutcome.
  struct PreparedPut {
    S3Call call;
    store::ValidatedPut put;
    bool conditional = false;
    bool if_match = false;
    std::string tag;  // a conditional PUT's write tag
  };
  Result<PreparedPut> PreparePut(PutRequest request) const;
  // Put's answer from the call's reply: a conditional PUT refused or failed is settled by
  // its write tag (a HEAD, blocking).
  Result<ObjectInfo> PutOutcome(const PreparedPut& prepared, Result<Reply> reply);
  // The outcome of a conditional Put whose attempts may have been applied unseen (an answer
  // lost, a refusal met by a retry): success when the object carries `tag`, else `failure`;
  // a retryable "outcome unknown" failure when the object cannot be read.
  Result<ObjectInfo> SettleByWriteTag(const std::string& key, const std::string& tag, Status failure);

  // The DELETE with If-Match itself, whatever the server makes of it.
  Status SendDeleteIfMatch(const std::string& key, const std::string& etag);

  const StoreUri uri_;
  S3Client client_;
  enum : int { kNotProbed, kHonoured, kIgnored };
  std::atomic<int> conditional_deletes_{kNotProbed};  // two first calls may both probe: harmless
};

}  // namespace s3db::s3

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
  // would, blocking that thread. s3_store_get_each.cc.
  void GetEachFrom(const KeySource& next_key, const GetEachOptions& options, const GetEachVisitor& visit) override;

  Capabilities capabilities() const override {
    Capabilities capabilities;
    capabilities.conditional_writes = true;  // else NewS3Store wraps it in the fallback
    capabilities.metadata_limit = kUserMetadataLimit;
    capabilities.asynchronous_reads = true;
    return capabilities;
  }
  std::string Describe() const override { return uri_.ToString(); }

 private:
  static S3Call GetCall(const std::string& key);
  // A GET's answer as Get returns it.
  Result<GetResult> GetResultOf(const S3Call& call, Result<Reply> reply) const;
  Result<ObjectInfo> HeadInternal(const std::string& key, bool keep_write_tag);
  Result<ObjectInfo> PutValidated(const PutRequest& request, const store::ValidatedPut& put);
  // The outcome of a conditional Put whose attempts may have been applied unseen (an answer
  // lost, a refusal met by a retry): success when the object carries `tag`, else `failure`;
  // a retryable "outcome unknown" failure when the object cannot be read.
  Result<ObjectInfo> SettleByWriteTag(const std::string& key, const std::string& tag, Status failure);

  const StoreUri uri_;
  S3Client client_;
};

}  // namespace s3db::s3

// The conditional-write probe and the check-then-write fallback, on real stores.
#include <gtest/gtest.h>

#include "s3db/database.h"
#include "s3db/object_store.h"
#include "s3db/plugin.h"
#include "s3db/stores.h"
#include "store/capability_probe.h"
#include "support/counting_store.h"
#include "support/raw_objects.h"
#include "support/test_stores.h"

namespace s3db {
namespace {

// A store that ignores conditional headers, as s3rver does, or only If-Match. (No real
// backend here behaves so; this wrapper over a real MemoryStore stands in for one.)
class IgnoresConditions : public ForwardingStore {
 public:
  explicit IgnoresConditions(std::unique_ptr<ObjectStore> inner, bool only_if_match = false)
      : ForwardingStore(std::move(inner)), only_if_match_(only_if_match) {}
  Result<ObjectInfo> Put(const PutRequest& r) override {
    PutRequest plain = r;
    plain.if_match.reset();
    if (!only_if_match_) plain.if_none_match_star = false;
    return inner().Put(plain);
  }

 private:
  const bool only_if_match_;
};

TEST(CapabilityProbe, TellsHonouringFromIgnoringStoresAndCleansUp) {
  auto honest = NewMemoryStore("probe-honest");
  Result<bool> honest_answer = store::ProbeConditionalWrites(*honest, "p/probe");
  ASSERT_TRUE(honest_answer.ok());
  EXPECT_TRUE(*honest_answer);
  EXPECT_EQ(honest->Head("p/probe").code(), ErrorCode::kNotFound);
  IgnoresConditions careless(NewMemoryStore("probe-careless"));
  Result<bool> careless_answer = store::ProbeConditionalWrites(careless, "p/probe");
  ASSERT_TRUE(careless_answer.ok());
  EXPECT_FALSE(*careless_answer);
  EXPECT_EQ(careless.Head("p/probe").code(), ErrorCode::kNotFound);
  ClearMemoryBucket("probe-honest");
  ClearMemoryBucket("probe-careless");
}

// A store that refuses a second create but lets a stale If-Match through is no help to the
// record layer's updates: the probe says no.
TEST(CapabilityProbe, ChecksIfMatchAsWellAsIfNoneMatch) {
  IgnoresConditions half(NewMemoryStore("probe-half"), /*only_if_match=*/true);
  Result<bool> answer = store::ProbeConditionalWrites(half, "p/probe");
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  EXPECT_FALSE(*answer);
  EXPECT_EQ(half.Head("p/probe").code(), ErrorCode::kNotFound);
  ClearMemoryBucket("probe-half");
}

// ETags as SSE-KMS, SSE-C and S3 Express give them: not the MD5 of the body. None of those
// runs here (RGW gives MD5 ETags), so this wrapper over a real MemoryStore stands in for one.
class CapabilityProbeOpaqueEtags : public ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  Result<ObjectInfo> Put(const PutRequest& r) override {
    Result<ObjectInfo> put = inner().Put(r);
    if (put.ok()) put->etag = "\"kms-" + std::to_string(++writes_) + "\"";
    return put;
  }

 private:
  int writes_ = 0;
};

TEST(CapabilityProbe, OneProbeTellsConditionalWritesAndMd5EtagsWithNoExtraRequest) {
  auto honest_counts = std::make_shared<testing::RequestCounts>();
  testing::CountingStore honest(NewMemoryStore("probe-md5-honest"), honest_counts);
  Result<store::ProbedCapabilities> probed = store::ProbeCapabilities(honest, "p/probe");
  ASSERT_TRUE(probed.ok()) << probed.status().ToString();
  EXPECT_TRUE(probed->conditional_writes);
  EXPECT_TRUE(probed->etag_is_body_md5);
  // The conditional-write probe's own requests: 3 PUTs and the DELETE, nothing more.
  EXPECT_EQ(honest_counts->get("put"), 3u);
  EXPECT_EQ(honest_counts->get("delete"), 1u);
  EXPECT_EQ(honest_counts->get("head") + honest_counts->get("get") + honest_counts->get("list"), 0u);

  CapabilityProbeOpaqueEtags kms(NewMemoryStore("probe-md5-kms"));
  Result<store::ProbedCapabilities> other = store::ProbeCapabilities(kms, "p/probe");
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  EXPECT_TRUE(other->conditional_writes);
  EXPECT_FALSE(other->etag_is_body_md5);
  EXPECT_EQ(kms.Head("p/probe").code(), ErrorCode::kNotFound);

  // A probe object left behind (the first create refused): the ETag is probed on its own.
  PutRequest leftover;
  leftover.key = "p/left";
  leftover.body = "left by an earlier probe";
  ASSERT_TRUE(kms.Put(leftover).ok());
  Result<store::ProbedCapabilities> after_leftover = store::ProbeCapabilities(kms, "p/left");
  ASSERT_TRUE(after_leftover.ok()) << after_leftover.status().ToString();
  EXPECT_FALSE(after_leftover->etag_is_body_md5);
  leftover.key = "p/left-too";
  ASSERT_TRUE(honest.Put(leftover).ok());
  honest_counts->Clear();
  Result<store::ProbedCapabilities> honest_leftover = store::ProbeCapabilities(honest, "p/left-too");
  EXPECT_EQ(honest_counts->get("put"), 4u);  // the three conditional PUTs, then the ETag probe's own
  ASSERT_TRUE(honest_leftover.ok());
  EXPECT_TRUE(honest_leftover->etag_is_body_md5);

  // What an opening store does with a "no": the same store, saying so.
  std::unique_ptr<ObjectStore> marked =
      store::NewEtagsNotMd5Store(std::make_unique<CapabilityProbeOpaqueEtags>(NewMemoryStore("probe-md5-kms")));
  EXPECT_FALSE(marked->capabilities().etag_is_body_md5);
  EXPECT_TRUE(marked->capabilities().conditional_writes);
  EXPECT_EQ(marked->capabilities().metadata_limit, NewMemoryStore("probe-md5-x")->capabilities().metadata_limit);
  ClearMemoryBucket("probe-md5-honest");
  ClearMemoryBucket("probe-md5-kms");
  ClearMemoryBucket("probe-md5-x");
}

TEST(CapabilityProbe, FallbackStoreChecksBeforeWriting) {
  auto store = store::NewCheckThenWriteStore(std::make_unique<IgnoresConditions>(NewMemoryStore("probe-fallback")));
  PutRequest put;
  put.key = "k";
  put.body = "1";
  put.if_none_match_star = true;
  Result<ObjectInfo> first = store->Put(put);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(store->Put(put).code(), ErrorCode::kPreconditionFailed);
  PutRequest update;
  update.key = "k";
  update.body = "2";
  update.if_match = "\"wrong\"";
  EXPECT_EQ(store->Put(update).code(), ErrorCode::kPreconditionFailed);
  update.if_match = first->etag;
  EXPECT_TRUE(store->Put(update).ok());
  EXPECT_FALSE(store->capabilities().conditional_writes);
  ClearMemoryBucket("probe-fallback");
}

TEST(CapabilityProbe, TellsWhetherIfMatchOnDeleteIsHonoured) {
  auto store = NewMemoryStore("probe-deletes");
  Result<bool> honoured = store::ProbeConditionalDeletes(
      *store, "p/probe", [&](const std::string& k, const std::string& e) { return store->DeleteIfMatch(k, e); });
  ASSERT_TRUE(honoured.ok()) << honoured.status().ToString();
  EXPECT_TRUE(*honoured);
  EXPECT_EQ(store->Head("p/probe").code(), ErrorCode::kNotFound);
  // A server that drops the header deletes anyway (Ceph RGW 16): the plain DELETE stands in.
  Result<bool> ignored = store::ProbeConditionalDeletes(
      *store, "p/probe", [&](const std::string& k, const std::string&) { return store->Delete(k); });
  ASSERT_TRUE(ignored.ok()) << ignored.status().ToString();
  EXPECT_FALSE(*ignored);
  // One that rejects the header as unknown.
  Result<bool> refused = store::ProbeConditionalDeletes(*store, "p/probe", [](const std::string&, const std::string&) {
    return Status(ErrorCode::kUnsupported, "501 NotImplemented");
  });
  ASSERT_TRUE(refused.ok());
  EXPECT_FALSE(*refused);
  EXPECT_EQ(store->Head("p/probe").code(), ErrorCode::kNotFound);
  ClearMemoryBucket("probe-deletes");
}

// What the S3 store finds out at its first conditional delete on the test server: Ceph RGW
// 16 (Debian 12) deletes whatever the If-Match says, so the store answers kUnsupported and
// deletes nothing, and capabilities() says so from then on.
TEST(CapabilityProbe, S3StoreProbesConditionalDeletesAtFirstUse) {
  const std::string base = testing::TestS3Uri();
  if (base.empty()) GTEST_SKIP() << "S3DB_TEST_S3_URI is not set: no S3 server to test on";
  testing::StoreFactory factory(testing::Backend::kS3);
  std::unique_ptr<ObjectStore> store = factory.Open();
  EXPECT_FALSE(store->capabilities().conditional_deletes);  // not probed yet
  ObjectInfo written = testing::MustPut(*store, "k", "one");
  Status deleted = store->DeleteIfMatch("k", "\"00000000000000000000000000000000\"");
  if (store->capabilities().conditional_deletes) {
    // A server that honours it (AWS, a newer RGW): the wrong ETag is refused.
    EXPECT_EQ(deleted.code(), ErrorCode::kPreconditionFailed) << deleted.ToString();
    EXPECT_TRUE(store->DeleteIfMatch("k", written.etag).ok());
  } else {
    EXPECT_EQ(deleted.code(), ErrorCode::kUnsupported) << deleted.ToString();
    EXPECT_NE(deleted.message().find("ignores If-Match on DELETE"), std::string::npos) << deleted.message();
    EXPECT_TRUE(store->Head("k").ok()) << "a refused conditional delete deleted the object";
    EXPECT_EQ(store->DeleteIfMatch("k", written.etag).code(), ErrorCode::kUnsupported);  // probed once
    EXPECT_TRUE(store->Delete("k").ok());
  }
}

TEST(CapabilityProbe, ConnectOnS3ProbesOnceAndKeepsTheAnswerInTheCatalog) {
  const std::string base = testing::TestS3Uri();
  if (base.empty()) GTEST_SKIP() << "S3DB_TEST_S3_URI is not set: no S3 server to test on";
  const std::string prefix = "probe-" + std::to_string(::getpid()) + "-" + testing::StoreFactory::RandomTag();
  DatabaseOptions options;
  options.uri = base + "/" + prefix;
  auto db = Database::Connect(options);
  ResourceDefinition def;
  def.name = "things";
  def.attributes = Json{{"name", "string"}};
  db->CreateResource(def);
  Result<GetResult> catalog = db->store().Get(prefix + "/s3db.json");
  ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
  Json doc = Json::parse(catalog->body);
  EXPECT_EQ(doc["capabilities"]["conditionalWrites"], true);
  EXPECT_EQ(doc["capabilities"]["etagIsBodyMd5"], true);  // RGW without SSE-KMS
  EXPECT_TRUE(db->store().capabilities().etag_is_body_md5);
  // No probe object is left behind.
  ListRequest list;
  list.prefix = prefix + "/s3db-probe";
  Result<ListPage> page = db->store().List(list);
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->objects.empty());
  db->DropResource("things");
}

TEST(CapabilityProbe, CostsOnS3CountWhatTheStoreSendsOnce) {
  const std::string base = testing::TestS3Uri();
  if (base.empty()) GTEST_SKIP() << "S3DB_TEST_S3_URI is not set: no S3 server to test on";
  const std::string prefix = "costs-" + std::to_string(::getpid()) + "-" + testing::StoreFactory::RandomTag();
  DatabaseOptions options;
  options.uri = base + "/" + prefix;
  {
    auto db = Database::Connect(options);  // probes, then the first resource writes the catalog
    ResourceDefinition def;
    def.name = "things";
    def.attributes = Json{{"name", "string"}};
    db->CreateResource(def);
  }
  auto costs = std::make_shared<CostsPlugin>();
  options.plugins.push_back(costs);
  auto db = Database::Connect(options);
  EXPECT_EQ(costs->Totals().count(RequestKind::kGet), 1u) << "connect is one GET of the catalog";
  EXPECT_EQ(costs->Totals().total_requests(), 1u);
  Resource& things = db->resource("things");
  things.Insert({{"id", "a"}, {"name", "x"}});
  things.Get("a");
  EXPECT_TRUE(things.Exists("a"));
  const CostTotals totals = costs->Totals();
  EXPECT_EQ(totals.count(RequestKind::kPut), 1u);
  EXPECT_EQ(totals.count(RequestKind::kGet), 2u);
  EXPECT_EQ(totals.count(RequestKind::kHead), 1u);
  EXPECT_EQ(totals.total_requests(), 4u);
  db->DropResource("things");
}

}  // namespace
}  // namespace s3db

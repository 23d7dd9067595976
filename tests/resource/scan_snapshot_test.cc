// Scans with a scan snapshot (issue 24, index/scan_snapshot.h) on every backend: a scan that
// takes records from the snapshot returns, record by record, what LIST + GET return; records
// changed, deleted or inserted again since the compaction are read with GETs; a torn, missing
// or foreign snapshot is ignored; eight writers racing scans and compactions never make a scan
// return a record no write left; and the requests a fresh snapshot saves are counted.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "index/scan_snapshot.h"
#include "s3db/database.h"
#include "store/capability_probe.h"
#include "support/counting_store.h"
#include "support/test_scale.h"
#include "support/test_stores.h"

namespace s3db {
namespace {

using testing::Backend;
using testing::CountingStore;
using testing::RequestCounts;
using testing::StoreFactory;

ResourceDefinition SnapshotItems() {
  ResourceDefinition d;
  d.name = "snapitems";
  d.attributes = Json{{"n", "number"}, {"group", "string"}, {"note", "string|optional"}, {"token", "secret|optional"}};
  return d;
}

// Record i: every fourth has a note too long for metadata (so its fields overflow to the
// body), every third a secret.
Json SnapshotItem(int i, const std::string& tag = "") {
  Json j{{"id", "item-" + std::to_string(100000 + i)}, {"n", i}, {"group", i % 2 ? "odd" : "even"}};
  if (i % 4 == 0) j["note"] = std::string(2500, static_cast<char>('a' + i % 26)) + tag;
  if (i % 3 == 0) j["token"] = "secret-" + std::to_string(i) + tag;
  return j;
}

// Everything a caller can see of a record.
void ExpectSameRecords(const std::vector<Record>& got, const std::vector<Record>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].id, want[i].id) << what << " #" << i;
    EXPECT_EQ(got[i].data, want[i].data) << what << " " << want[i].id;
    EXPECT_EQ(got[i].etag, want[i].etag) << what << " " << want[i].id;
    EXPECT_EQ(got[i].last_modified_ms, want[i].last_modified_ms) << what << " " << want[i].id;
    EXPECT_EQ(got[i].schema_version, want[i].schema_version) << what << " " << want[i].id;
    EXPECT_EQ(got[i].truncated, want[i].truncated) << what << " " << want[i].id;
  }
}

class ScanSnapshotTest : public ::testing::TestWithParam<Backend> {
 protected:
  std::unique_ptr<Database> Connect() {
    DatabaseOptions options;
    options.passphrase = "scan snapshot test passphrase";
    return Database::Open(std::make_unique<CountingStore>(stores_.Open(), counts_), "db", options);
  }
  bool OnS3() const { return GetParam() == Backend::kS3; }

  std::vector<Record> Load(int n) {
    std::vector<Json> items;
    for (int i = 0; i < n; ++i) items.push_back(SnapshotItem(i));
    InsertManyResult done = items_.InsertMany(items);
    EXPECT_TRUE(done.errors.empty()) << done.errors.front().message;
    return done.inserted;
  }

  // What LIST + GET return now: the ids listed, each read with a GET.
  std::vector<Record> Truth() {
    GetManyResult got = items_.GetMany(items_.ListIds());
    EXPECT_TRUE(got.missing.empty());
    return got.records;
  }

  std::vector<Record> Scanned() {
    std::vector<Record> out;
    for (Record& r : items_.Scan()) out.push_back(std::move(r));
    return out;
  }

  // Every scan of the whole resource, each compared with the truth.
  void ExpectEveryScanEquals(const std::vector<Record>& truth, const std::string& when) {
    ExpectSameRecords(items_.GetAll(), truth, when + ": getAll");
    ExpectSameRecords(items_.List(), truth, when + ": list");
    ExpectSameRecords(Scanned(), truth, when + ": scan");
    std::vector<Record> odd;
    for (const Record& r : truth) {
      if (r.data.value("group", "") == "odd") odd.push_back(r);
    }
    ExpectSameRecords(items_.Query({{"group", "odd"}}), odd, when + ": query");
    PageOptions page;
    page.offset = 100;
    page.size = 150;
    std::vector<Record> window(truth.begin() + std::min<size_t>(100, truth.size()),
                               truth.begin() + std::min<size_t>(250, truth.size()));
    ExpectSameRecords(items_.Page(page).items, window, when + ": page");
    // A window of List: listed page by page from the offset, records from the snapshot.
    ListOptions some;
    some.offset = 100;
    some.limit = 150;
    ExpectSameRecords(items_.List(some), window, when + ": list with offset and limit");
  }

  uint64_t Requests(const std::string& kind) const { return counts_->get(kind); }

  StoreFactory stores_{GetParam()};
  std::shared_ptr<RequestCounts> counts_ = std::make_shared<RequestCounts>();
  std::unique_ptr<Database> db_ = Connect();
  Resource& items_ = db_->CreateResource(SnapshotItems());
};

TEST_P(ScanSnapshotTest, AFreshSnapshotServesEveryScanWithAboutOneListPerThousandRecords) {
  const int n = OnS3() ? 1500 : 2500;  // more than one page of keys, so the fences are used
  Load(n);
  const std::vector<Record> truth = Truth();
  ASSERT_EQ(truth.size(), static_cast<size_t>(n));

  const CompactResult compacted = items_.Compact();
  EXPECT_EQ(compacted.resource, "snapitems");
  EXPECT_EQ(compacted.generation, 1u);
  EXPECT_EQ(compacted.records, static_cast<size_t>(n));
  EXPECT_EQ(compacted.fetched, static_cast<size_t>(n));
  EXPECT_EQ(compacted.reused, 0u);
  EXPECT_EQ(compacted.skipped, 0u);
  EXPECT_GE(compacted.segments, 1u);

  counts_->Clear();
  ExpectSameRecords(items_.GetAll(), truth, "getAll");
  // One GET for the manifest, one per segment; LISTs: the first page, the manifest, and one
  // per fence range (n / 1000 + 1).
  EXPECT_EQ(Requests("get"), 1 + compacted.segments);
  EXPECT_EQ(Requests("list"), 2 + static_cast<uint64_t>(n / 1000 + 1));
  EXPECT_EQ(Requests("head"), 0u);
  ExpectEveryScanEquals(truth, "fresh snapshot");

  // Compacting again reads nothing: every record is in the snapshot as it is.
  const CompactResult again = items_.Compact();
  EXPECT_EQ(again.generation, 2u);
  EXPECT_EQ(again.reused, static_cast<size_t>(n));
  EXPECT_EQ(again.fetched, 0u);
  ExpectEveryScanEquals(truth, "second generation");
}

TEST_P(ScanSnapshotTest, RecordsChangedDeletedOrInsertedAgainSinceTheSnapshotAreReadWithGets) {
  const int n = 300;
  std::vector<Record> loaded = Load(n);
  items_.Compact();

  for (int i = 0; i < 5; ++i) items_.Update(loaded[10 + i].id, {{"n", 1000 + i}});
  for (int i = 0; i < 3; ++i) items_.Delete(loaded[20 + i].id);
  // Deleted and inserted again, once with other data and once with the very same data: the
  // new write has a new ETag either way, so the snapshot's copy is never taken for it.
  items_.Delete(loaded[30].id);
  items_.Insert(SnapshotItem(30, "-again"));
  items_.Delete(loaded[31].id);
  const Record same = items_.Insert(SnapshotItem(31));
  EXPECT_NE(same.etag, loaded[31].etag);
  for (int i = 0; i < 4; ++i) items_.Insert(SnapshotItem(n + i));

  const std::vector<Record> truth = Truth();
  ASSERT_EQ(truth.size(), static_cast<size_t>(n - 3 + 4));
  counts_->Clear();
  ExpectSameRecords(items_.GetAll(), truth, "getAll");
  // The manifest, the segment, and a GET for each of the 5 + 2 + 4 records written since.
  EXPECT_EQ(Requests("get"), 2u + 5 + 2 + 4);
  EXPECT_EQ(Requests("list"), 2u);  // one page of keys, the manifest
  ExpectEveryScanEquals(truth, "after changes");

  // The next compaction takes the unchanged ones from the previous snapshot.
  const CompactResult next = items_.Compact();
  EXPECT_EQ(next.records, truth.size());
  EXPECT_EQ(next.fetched, 11u);
  EXPECT_EQ(next.reused, truth.size() - 11);
  counts_->Clear();
  ExpectSameRecords(items_.GetAll(), truth, "getAll after the second compaction");
  EXPECT_EQ(Requests("get"), 2u);
}

TEST_P(ScanSnapshotTest, ATornMissingOrForeignSnapshotIsIgnored) {
  const int n = 150;
  Load(n);
  items_.Compact();
  const std::vector<Record> truth = Truth();
  auto store = stores_.Open();  // the same objects, without the counter
  const format::KeyLayout layout("db");
  const std::string manifest_key = core::ManifestKey(layout, "snapitems", 1);
  Result<GetResult> manifest = store->Get(manifest_key);
  ASSERT_TRUE(manifest.ok()) << manifest.status().ToString();
  const std::optional<core::SnapshotManifest> decoded = core::DecodeManifest(manifest->body);
  ASSERT_TRUE(decoded.has_value());
  ASSERT_EQ(decoded->segments.size(), 1u);
  const std::string segment_key = decoded->segments[0].key;
  Result<GetResult> segment = store->Get(segment_key);
  ASSERT_TRUE(segment.ok());

  auto put = [&](const std::string& key, const std::string& body) {
    PutRequest request;
    request.key = key;
    request.body = body;
    ASSERT_TRUE(store->Put(request).ok());
  };
  auto expect_fallback = [&](const std::string& what, uint64_t snapshot_gets) {
    counts_->Clear();
    ExpectSameRecords(items_.GetAll(), truth, what);
    EXPECT_EQ(Requests("get"), snapshot_gets + n) << what;
    ExpectSameRecords(Scanned(), truth, what + " (scan)");
  };

  put(manifest_key, manifest->body.substr(0, manifest->body.size() / 2));
  expect_fallback("a torn manifest", 1);

  Json foreign = Json::parse(manifest->body);
  foreign["version"] = core::kScanSnapshotVersion + 1;  // a later version's layout
  put(manifest_key, foreign.dump());
  expect_fallback("a manifest of another version", 1);
  foreign["version"] = 0;  // or an older one
  put(manifest_key, foreign.dump());
  expect_fallback("a manifest of an older version", 1);

  put(manifest_key, manifest->body);
  put(segment_key, segment->body.substr(0, segment->body.size() - 7));
  expect_fallback("a torn segment", 2);
  std::string flipped = segment->body;
  flipped[flipped.size() / 2] ^= 0x20;
  put(segment_key, flipped);
  expect_fallback("a segment whose bytes changed", 2);
  ASSERT_TRUE(store->Delete(segment_key).ok());
  expect_fallback("a missing segment", 2);

  put(segment_key, segment->body);
  counts_->Clear();
  ExpectSameRecords(items_.GetAll(), truth, "restored");
  EXPECT_EQ(Requests("get"), 2u);
}

TEST_P(ScanSnapshotTest, CompactionKeepsThePreviousGenerationAndRemovesOlderOnes) {
  Load(120);
  auto store = stores_.Open();
  const format::KeyLayout layout("db");
  const std::string prefix = core::SnapshotPrefix(layout, "snapitems");
  auto generations = [&] {
    std::set<uint64_t> seen;
    ListRequest request;
    request.prefix = prefix;
    Result<ListPage> page = store->List(request);
    EXPECT_TRUE(page.ok());
    for (const auto& o : page->objects) {
      std::optional<uint64_t> g = core::GenerationOfSnapshotKey(prefix, o.key);
      EXPECT_TRUE(g.has_value()) << "a stray object " << o.key;
      if (g) seen.insert(*g);
    }
    return seen;
  };
  items_.Compact();
  EXPECT_EQ(generations(), (std::set<uint64_t>{1}));
  items_.Compact();
  EXPECT_EQ(generations(), (std::set<uint64_t>{1, 2}));
  const CompactResult third = items_.Compact();
  EXPECT_EQ(generations(), (std::set<uint64_t>{2, 3}));
  EXPECT_GE(third.deleted_objects, 2u);  // generation 1's manifest and segment

  // Snapshot objects are never records, and dropping every record takes them too.
  EXPECT_EQ(items_.Count(), 120u);
  EXPECT_EQ(items_.DeleteAll(), 120u);
  EXPECT_TRUE(generations().empty());
}

// Eight writers update, delete, insert again and insert while scans and compactions run.
// A scan may take a record from the snapshot or GET it; either way, each record it returns
// must be exactly what the write with that ETag stored (so it is what LIST + GET could have
// returned for that listing), and once the writers stop every scan equals LIST + GET.
TEST_P(ScanSnapshotTest, EightConcurrentWritersNeverMakeAScanReturnWhatNoWriteStored) {
  const int n = testing::ScaledForSanitizers(OnS3() ? 300 : 600, 150);
  const int writes_each = testing::ScaledForSanitizers(OnS3() ? 40 : 80, 20);
  std::mutex mu;
  std::map<std::string, Json> written;  // ETag -> data of every write
  for (const Record& r : Load(n)) written[r.etag] = r.data;
  items_.Compact();

  std::atomic<int> writers_left{8};
  std::vector<std::thread> writers;
  for (int w = 0; w < 8; ++w) {
    writers.emplace_back([&, w] {
      std::mt19937 rng(static_cast<unsigned>(w * 7919 + 1));
      for (int k = 0; k < writes_each; ++k) {
        const int i = static_cast<int>(rng() % static_cast<unsigned>(n + 40));
        const std::string id = SnapshotItem(i)["id"].get<std::string>();
        try {
          std::optional<Record> wrote;
          switch (rng() % 4) {
            case 0:
            case 1:
              wrote = items_.Update(id, {{"n", static_cast<int>(rng() % 100000)}});
              break;
            case 2:
              items_.Delete(id);
              break;
            default:
              wrote = items_.Insert(SnapshotItem(i, "-w" + std::to_string(w)));
              break;
          }
          if (wrote) {
            std::lock_guard lock(mu);
            written[wrote->etag] = wrote->data;
          }
        } catch (const NotFound&) {       // deleted by another writer
        } catch (const AlreadyExists&) {  // inserted by another writer
        } catch (const Conflict&) {       // an update that kept losing its If-Match race
        }
      }
      --writers_left;
    });
  }

  int scans = 0;
  // A write lands before its writer records the ETag it got back, so a scan may meet an ETag
  // not recorded yet: such records are checked again once every writer has finished.
  std::vector<std::pair<Record, std::string>> unrecorded_yet;
  auto check = [&](const std::vector<Record>& got, const std::string& what) {
    std::lock_guard lock(mu);
    for (size_t i = 0; i < got.size(); ++i) {
      if (i > 0) {
        ASSERT_LT(got[i - 1].id, got[i].id) << what << ": out of order or repeated";
      }
      auto it = written.find(got[i].etag);
      if (it == written.end()) {
        unrecorded_yet.emplace_back(got[i], what);
        continue;
      }
      ASSERT_EQ(got[i].data, it->second) << what << ": record " << got[i].id << " is not what its write stored";
    }
  };
  while (writers_left > 0 || scans < 3) {
    check(items_.GetAll(), "getAll");
    check(Scanned(), "scan");
    if (scans % 2 == 1) {
      try {
        items_.Compact();
      } catch (const Conflict&) {
      }
    }
    ++scans;
  }
  for (auto& t : writers) t.join();
  for (const auto& [record, what] : unrecorded_yet) {
    auto it = written.find(record.etag);
    ASSERT_NE(it, written.end()) << what << ": record " << record.id << " has an ETag no write returned";
    ASSERT_EQ(record.data, it->second) << what << ": record " << record.id << " is not what its write stored";
  }

  const std::vector<Record> truth = Truth();
  check(truth, "the truth");
  ExpectEveryScanEquals(truth, "after the writers");
  items_.Compact();
  ExpectEveryScanEquals(truth, "after the last compaction");
}

// ETags as SSE-KMS, SSE-C and S3 Express give them: not the MD5 of the body. None of those
// can run here (RGW gives MD5 ETags), so this decorator stands in for one: every ETag the
// store reports becomes an opaque digest of the real one, the same for the same object
// (If-Match still works through it, as on those backends).
class OpaqueEtagStore : public ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  Result<ObjectInfo> Put(const PutRequest& r) override {
    PutRequest inner_request = r;
    if (r.if_match) inner_request.if_match = Real(*r.if_match);
    return Opaque(inner().Put(inner_request));
  }
  Result<GetResult> Get(const std::string& key) override {
    Result<GetResult> got = inner().Get(key);
    if (got.ok()) got->info.etag = Disguise(got->info.etag);
    return got;
  }
  Result<ObjectInfo> Head(const std::string& key) override { return Opaque(inner().Head(key)); }
  Result<ListPage> List(const ListRequest& r) override {
    Result<ListPage> page = inner().List(r);
    if (page.ok()) {
      for (auto& o : page->objects) o.etag = Disguise(o.etag);
    }
    return page;
  }

 private:
  std::string Disguise(const std::string& etag) {
    std::lock_guard lock(mu_);
    std::string opaque = "\"kms-" + std::to_string(std::hash<std::string>{}(etag)) + "\"";
    real_[opaque] = etag;
    return opaque;
  }
  std::string Real(const std::string& opaque) {
    std::lock_guard lock(mu_);
    auto it = real_.find(opaque);
    return it == real_.end() ? opaque : it->second;
  }
  Result<ObjectInfo> Opaque(Result<ObjectInfo> info) {
    if (info.ok()) info->etag = Disguise(info->etag);
    return info;
  }
  std::mutex mu_;
  std::map<std::string, std::string> real_;
};

TEST_P(ScanSnapshotTest, ABackendWhoseEtagsAreNotBodyMd5GetsNoSnapshotAndScansStillWork) {
  const int n = 150;
  Load(n);
  const std::vector<Record> truth = Truth();
  DatabaseOptions options;
  options.passphrase = "scan snapshot test passphrase";
  auto opaque_counts = std::make_shared<RequestCounts>();
  // What opening such a backend does: the capability probe finds the ETags are not MD5s and
  // the store says so from then on (NewS3Store and Database::Connect do the same).
  auto backend = std::make_unique<OpaqueEtagStore>(stores_.Open());
  Result<store::ProbedCapabilities> probed = store::ProbeCapabilities(*backend, "db/s3db-probe-snapshot-test");
  ASSERT_TRUE(probed.ok()) << probed.status().ToString();
  EXPECT_FALSE(probed->etag_is_body_md5);
  EXPECT_TRUE(probed->conditional_writes);
  auto opaque = Database::Open(
      std::make_unique<CountingStore>(store::NewEtagsNotMd5Store(std::move(backend)), opaque_counts), "db", options);
  Resource& items = opaque->resource("snapitems");
  opaque_counts->Clear();
  try {
    items.Compact();
    FAIL() << "Compact wrote a snapshot on a backend whose ETags are not MD5";
  } catch (const Unsupported& e) {
    EXPECT_NE(std::string(e.what()).find("not the MD5 of the body"), std::string::npos) << e.what();
    EXPECT_EQ(e.resource(), "snapitems");
  }
  EXPECT_EQ(opaque_counts->get("put") + opaque_counts->get("list") + opaque_counts->get("get"), 0u)
      << "Compact asks the store's capabilities, it neither probes nor lists again";
  auto expect_data = [&](const std::vector<Record>& got) {
    ASSERT_EQ(got.size(), truth.size());
    for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].data, truth[i].data) << truth[i].id;
  };
  expect_data(items.GetAll());
  // A snapshot written through an honest connection is never even opened through this one
  // (no manifest LIST or GET, no segment GET): every record is read with a GET.
  items_.Compact();
  opaque_counts->Clear();
  expect_data(items.GetAll());
  EXPECT_EQ(opaque_counts->get("get"), static_cast<uint64_t>(n));
  opaque_counts->Clear();
  std::vector<Record> scanned;
  for (Record& r : items.Scan()) scanned.push_back(std::move(r));
  expect_data(scanned);
  EXPECT_EQ(opaque_counts->get("get"), static_cast<uint64_t>(n));
  // The same records through the honest connection come from the snapshot.
  counts_->Clear();
  expect_data(items_.GetAll());
  EXPECT_LT(counts_->get("get"), 10u);
}

INSTANTIATE_TEST_SUITE_P(Backends, ScanSnapshotTest, ::testing::ValuesIn(testing::TestBackends()),
                         [](const auto& info) { return testing::BackendName(info.param); });

}  // namespace
}  // namespace s3db

// The scan snapshot's encodings and key-range listing (index/scan_snapshot.h): segments and
// manifests come back as written and anything else is refused (so a reader falls back to
// GETs), keys name their generation, and listing between fences equals one sequential
// listing whatever changed between the fences since they were taken.
#include <gtest/gtest.h>
#include <zlib.h>

#include <string>
#include <vector>

#include "index/scan_snapshot.h"
#include "s3db/record.h"
#include "s3db/stores.h"
#include "store/capability_probe.h"
#include "support/counting_store.h"

namespace s3db::core {
namespace {

std::vector<SnapshotEntry> SampleEntries() {
  std::vector<SnapshotEntry> entries;
  for (int i = 0; i < 50; ++i) {
    SnapshotEntry e;
    e.encoded_id = "id-" + std::to_string(1000 + i);
    e.info.etag = "\"" + std::string(32, static_cast<char>('a' + i % 6)) + "\"";
    e.info.last_modified_ms = 1700000000000 + i;
    e.info.size = static_cast<uint64_t>(i);
    e.info.content_type = "application/json";
    e.info.metadata = {{"_v", "1"}, {"0", "s" + std::to_string(i)}};
    e.body = std::string("{\"w\":\"tag\"}") + std::string(1, '\0') + "\xff\xfe";  // any bytes
    entries.push_back(std::move(e));
  }
  return entries;
}

TEST(ScanSnapshotFormatTest, SegmentsComeBackAsWrittenAndDamageIsRefused) {
  const std::vector<SnapshotEntry> entries = SampleEntries();
  const std::string stored = EncodeSegment(entries);
  std::optional<std::vector<SnapshotEntry>> back = DecodeSegment(stored);
  ASSERT_TRUE(back.has_value());
  ASSERT_EQ(back->size(), entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ((*back)[i].encoded_id, entries[i].encoded_id);
    EXPECT_EQ((*back)[i].info.etag, entries[i].info.etag);
    EXPECT_EQ((*back)[i].info.last_modified_ms, entries[i].info.last_modified_ms);
    EXPECT_EQ((*back)[i].info.size, entries[i].info.size);
    EXPECT_EQ((*back)[i].info.content_type, entries[i].info.content_type);
    EXPECT_EQ((*back)[i].info.metadata, entries[i].info.metadata);
    EXPECT_EQ((*back)[i].body, entries[i].body);
  }
  EXPECT_FALSE(DecodeSegment(stored.substr(0, stored.size() - 1)).has_value());
  EXPECT_FALSE(DecodeSegment(stored.substr(0, 5)).has_value());
  EXPECT_FALSE(DecodeSegment("").has_value());
  std::string flipped = stored;
  flipped[stored.size() / 2] ^= 0x01;
  EXPECT_FALSE(DecodeSegment(flipped).has_value());
  std::vector<SnapshotEntry> unordered = entries;
  std::swap(unordered[3], unordered[4]);
  EXPECT_FALSE(DecodeSegment(EncodeSegment(unordered)).has_value());
}

// `stored` unpacked, its first `from.size()` bytes replaced by `to`, and packed again as
// EncodeSegment packs (docs/FORMAT.md "Segment"): what another format version might write.
std::string RepackedWithHeader(const std::string& stored, const std::string& from, const std::string& to) {
  uint64_t raw_size = 0;
  for (int i = 7; i >= 0; --i) raw_size = (raw_size << 8) | static_cast<unsigned char>(stored[static_cast<size_t>(i)]);
  std::string raw(raw_size, '\0');
  uLongf got = static_cast<uLongf>(raw_size);
  EXPECT_EQ(uncompress(reinterpret_cast<Bytef*>(raw.data()), &got, reinterpret_cast<const Bytef*>(stored.data() + 8),
                       static_cast<uLong>(stored.size() - 8)),
            Z_OK);
  EXPECT_EQ(raw.compare(0, from.size(), from), 0);
  raw = to + raw.substr(from.size());
  uLongf bound = compressBound(static_cast<uLong>(raw.size()));
  std::string out(8 + bound, '\0');
  for (int i = 0; i < 8; ++i) out[static_cast<size_t>(i)] = static_cast<char>((raw.size() >> (8 * i)) & 0xFF);
  EXPECT_EQ(compress2(reinterpret_cast<Bytef*>(out.data() + 8), &bound, reinterpret_cast<const Bytef*>(raw.data()),
                      static_cast<uLong>(raw.size()), 6),
            Z_OK);
  out.resize(8 + bound);
  return out;
}

TEST(ScanSnapshotFormatTest, ASegmentOfAnotherFormatVersionIsRefused) {
  const std::string stored = EncodeSegment(SampleEntries());
  const std::string header = "s3db-snapshot-segment 1\n";
  // The repacking itself is faithful: the same header gives a segment that decodes.
  ASSERT_TRUE(DecodeSegment(RepackedWithHeader(stored, header, header)).has_value());
  EXPECT_FALSE(DecodeSegment(RepackedWithHeader(stored, header, "s3db-snapshot-segment 0\n")).has_value());
  EXPECT_FALSE(DecodeSegment(RepackedWithHeader(stored, header, "s3db-snapshot-segment 2\n")).has_value());
}

SnapshotManifest SampleManifest() {
  SnapshotManifest m;
  m.resource = "users";
  m.generation = 7;
  m.created_ms = 1700000000000;
  m.records = 30;
  m.segments = {{"k0", "a", "f", 10, 100, "00"}, {"k1", "g", "p", 20, 200, "11"}};
  m.fences = {"c", "m"};
  return m;
}

TEST(ScanSnapshotFormatTest, ManifestsComeBackAsWrittenAndOthersAreRefused) {
  const SnapshotManifest m = SampleManifest();
  std::optional<SnapshotManifest> back = DecodeManifest(EncodeManifest(m));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->resource, "users");
  EXPECT_EQ(back->generation, 7u);
  EXPECT_EQ(back->records, 30u);
  ASSERT_EQ(back->segments.size(), 2u);
  EXPECT_EQ(back->segments[1].key, "k1");
  EXPECT_EQ(back->segments[1].first, "g");
  EXPECT_EQ(back->segments[1].sha256, "11");
  EXPECT_EQ(back->fences, m.fences);

  const Json good = Json::parse(EncodeManifest(m));
  auto refused = [](Json j) { return !DecodeManifest(j.dump()).has_value(); };
  Json other = good;
  other["version"] = kScanSnapshotVersion + 1;
  EXPECT_TRUE(refused(other)) << "a later version";
  other["version"] = "1";
  EXPECT_TRUE(refused(other)) << "a version that is not a number";
  other = good;
  other["format"] = "something-else";
  EXPECT_TRUE(refused(other));
  other = good;
  other["segments"][1]["first"] = "e";  // overlaps the first segment
  EXPECT_TRUE(refused(other));
  other = good;
  other["records"] = 31;  // not what the segments add up to
  EXPECT_TRUE(refused(other));
  other = good;
  other["fences"] = Json::array({"m", "c"});
  EXPECT_TRUE(refused(other));
  other = good;
  other.erase("fences");
  EXPECT_TRUE(refused(other));
  EXPECT_FALSE(DecodeManifest(EncodeManifest(m).substr(0, 40)).has_value());
  EXPECT_FALSE(DecodeManifest("").has_value());
}

TEST(ScanSnapshotFormatTest, KeysNameTheirGenerationAndTheNewestManifestListsFirst) {
  const format::KeyLayout layout("db");
  const std::string prefix = SnapshotPrefix(layout, "users");
  EXPECT_EQ(prefix, "db/resource=users/snapshot/");
  EXPECT_LT(ManifestKey(layout, "users", 2), ManifestKey(layout, "users", 1));
  for (uint64_t g : {uint64_t{1}, uint64_t{2}, uint64_t{1} << 40}) {
    EXPECT_EQ(GenerationOfSnapshotKey(prefix, ManifestKey(layout, "users", g)), g);
  }
  EXPECT_EQ(GenerationOfSnapshotKey(prefix, prefix + "segment=00000000000000000042-abcdefgh-000003"), 42u);
  EXPECT_FALSE(GenerationOfSnapshotKey(prefix, prefix + "probe-abc").has_value());
  EXPECT_FALSE(GenerationOfSnapshotKey(prefix, prefix + "manifest=12").has_value());
  EXPECT_FALSE(GenerationOfSnapshotKey(prefix, "db/resource=users/data/id=x").has_value());
  // Never a record key or a partition reference of the resource.
  EXPECT_FALSE(layout.IdFromRecordKey("users", ManifestKey(layout, "users", 1)).has_value());
  EXPECT_FALSE(layout.ParsePartitionKey("users", ManifestKey(layout, "users", 1)).has_value());

  EXPECT_TRUE(EtagIsBodyMd5("\"5d41402abc4b2a76b9719d911017c592\"", "hello"));
  EXPECT_TRUE(EtagIsBodyMd5("5d41402abc4b2a76b9719d911017c592", "hello"));
  EXPECT_FALSE(EtagIsBodyMd5("\"5d41402abc4b2a76b9719d911017c592\"", "hello!"));
}

TEST(ScanSnapshotFormatTest, ListingBetweenFencesEqualsOneSequentialListing) {
  auto counts = std::make_shared<testing::RequestCounts>();
  testing::CountingStore store(NewMemoryStore("scan-snapshot-fences"), counts);
  const std::string prefix = "db/resource=r/data/id=";
  auto key_of = [&](int i) { return prefix + "k" + std::to_string(100000 + i); };
  auto put = [&](const std::string& key) {
    PutRequest r;
    r.key = key;
    r.body = key;
    ASSERT_TRUE(store.Put(r).ok());
  };
  for (int i = 0; i < 3500; i += 1) put(key_of(i * 2));  // even numbers: room between them
  std::vector<std::string> fences;
  for (int i = 999; i < 3500; i += 1000) fences.push_back(key_of(i * 2).substr(prefix.size()));

  auto sequential = [&] {
    std::vector<std::string> keys;
    ListRequest request;
    request.prefix = prefix;
    while (true) {
      Result<ListPage> page = store.List(request);
      EXPECT_TRUE(page.ok());
      for (const auto& o : page->objects) keys.push_back(o.key.substr(prefix.size()));
      if (!page->truncated) return keys;
      request.continuation_token = page->next_continuation_token;
    }
  };
  auto fenced = [&] {
    Result<std::vector<ListedRecordKey>> listed = ListRecordKeysWithFences(store, prefix, fences, 4);
    EXPECT_TRUE(listed.ok());
    std::vector<std::string> keys;
    for (const auto& k : *listed) keys.push_back(k.encoded_id);
    return keys;
  };

  counts->Clear();
  EXPECT_EQ(fenced(), sequential());
  EXPECT_EQ(counts->get("list"), 4u + 4);  // one LIST per range, then the sequential four

  // Changes between the fences: range 1 loses 300 keys, range 2 gains 1500, a key lands
  // before the first key and after the last.
  for (int i = 1000; i < 1300; ++i) ASSERT_TRUE(store.Delete(key_of(i * 2)).ok());
  for (int i = 2000; i < 3500; ++i) put(key_of(i * 2 + 1));
  put(prefix + "a-first");
  put(prefix + "z-last");
  const std::vector<std::string> want = sequential();
  counts->Clear();
  EXPECT_EQ(fenced(), want);
  // Ranges of 1001 (a key before the first), 700, 1999 and 1002 keys: a range over a page
  // takes a second LIST.
  EXPECT_EQ(counts->get("list"), 2u + 1 + 2 + 2);

  // No fences: one range, the whole listing.
  fences.clear();
  EXPECT_EQ(fenced(), want);
}

TEST(ScanSnapshotFormatTest, TheEtagProbeTellsMd5EtagsFromOthers) {
  auto store = NewMemoryStore("scan-snapshot-probe");
  Result<bool> md5 = store::ProbeEtagIsBodyMd5(*store, "probe-key");
  ASSERT_TRUE(md5.ok());
  EXPECT_TRUE(*md5);
  EXPECT_EQ(store->Head("probe-key").code(), ErrorCode::kNotFound);  // cleaned up

  // A backend whose PUT answers another ETag (SSE-KMS, S3 Express; none runs here, so a
  // decorator stands in for one).
  class RenamingEtags : public ForwardingStore {
   public:
    using ForwardingStore::ForwardingStore;
    Result<ObjectInfo> Put(const PutRequest& r) override {
      Result<ObjectInfo> put = inner().Put(r);
      if (put.ok()) put->etag = "\"opaque-etag-0001\"";
      return put;
    }
  };
  RenamingEtags opaque(NewMemoryStore("scan-snapshot-probe-2"));
  Result<bool> other = store::ProbeEtagIsBodyMd5(opaque, "probe-key");
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(*other);
}

}  // namespace
}  // namespace s3db::core

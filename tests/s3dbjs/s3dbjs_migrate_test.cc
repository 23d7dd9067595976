// Reading and migrating what the real s3db.js 21.6.2 wrote (tests/s3dbjs/s3dbjs_fixture.h):
// on the file store (s3db.js writes memory://, its objects are copied byte for byte into a
// file store, since s3db.js's own file:// layout is not an S3 bucket's) and on the real S3
// server, where s3db.js writes directly.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <set>

#include "s3db/database.h"
#include "s3db/resource.h"
#include "s3db/s3dbjs.h"
#include "s3db/stores.h"
#include "s3dbjs_fixture.h"
#include "support/test_stores.h"

namespace s3db {
namespace {

using s3dbjs_testing::RunS3dbJsFixture;
using s3dbjs_testing::S3dbJsExpectedRecord;
using s3dbjs_testing::S3dbJsFixtureRun;

using s3dbjs_testing::kBulkRecords;
using s3dbjs_testing::kFixturePassphrase;

const S3dbJsFixtureRun& MemoryFixture() { return s3dbjs_testing::MemoryS3dbJsFixture(); }

// Every key and ETag of a file store directory, to show the source was not written.
std::map<std::string, std::string> Snapshot(ObjectStore& store) {
  std::map<std::string, std::string> out;
  ListRequest request;
  for (;;) {
    Result<ListPage> page = store.List(request);
    EXPECT_TRUE(page.ok());
    if (!page.ok()) break;
    for (const ObjectInfo& o : page->objects) out[o.key] = o.etag;
    if (!page->truncated) break;
    request.continuation_token = page->next_continuation_token;
  }
  return out;
}

// The untranslatable fields (devices.addr) read as stored; everything else as s3db.js reads it.
Json WithoutUntranslatable(const std::string& resource, Json data) {
  if (resource == "devices") data.erase("addr");
  return data;
}

#define ADD_FAILURE_IF_NOT_DEVICES(e) \
  if ((e).resource != "devices") ADD_FAILURE() << (e).ToJson().dump()

class S3dbJsMigrateFileStore : public ::testing::Test {
 protected:
  void SetUp() override {
    s3dbjs_testing::OpenFileStoreWithS3dbJsFixture((dir_.path() / "source").string(), &source_store_);
    if (HasFatalFailure()) return;
    source_uri_ = "file://" + (dir_.path() / "source").string();
    target_uri_ = "file://" + (dir_.path() / "target").string();
  }

  S3dbJsMigrationOptions Options() const {
    S3dbJsMigrationOptions options;
    options.from = source_uri_;
    options.to = target_uri_;
    options.from_passphrase = kFixturePassphrase;
    options.to_passphrase = "target-passphrase";
    return options;
  }

  std::unique_ptr<Database> Target() const {
    DatabaseOptions options;
    options.uri = target_uri_;
    options.passphrase = "target-passphrase";
    return Database::Connect(options);
  }

  testing::TempDir dir_;
  std::unique_ptr<ObjectStore> source_store_;
  std::string source_uri_;
  std::string target_uri_;
};

TEST_F(S3dbJsMigrateFileStore, ReadsEveryRecordAsS3dbJsGetReturnsIt) {
  auto source = S3dbJsDatabase::Open({source_uri_, kFixturePassphrase});
  EXPECT_EQ(source->s3db_version(), "21.6.2");
  EXPECT_EQ(source->ResourceNames(),
            (std::vector<std::string>{"bulk", "devices", "events", "notes_body_only", "notes_body_overflow",
                                      "notes_enforce_limits", "notes_truncate_data", "notes_user_managed", "people"}));
  const S3dbJsFixtureRun& run = MemoryFixture();
  for (const S3dbJsExpectedRecord& want : run.expected) {
    std::optional<S3dbJsRecord> got = source->Get(want.resource, want.id);
    ASSERT_TRUE(got) << want.resource << "/" << want.id;
    EXPECT_EQ(WithoutUntranslatable(want.resource, got->data), WithoutUntranslatable(want.resource, want.data))
        << want.resource << "/" << want.id;
  }
  EXPECT_FALSE(source->Get("people", "no-such-id"));
  EXPECT_THROW(source->Get("no_such_resource", "x"), NotFound);

  // Every id, in key order, a page at a time.
  std::vector<std::string> ids;
  for (std::string after;;) {
    std::vector<std::string> page = source->ListIds("bulk", after, 64);
    if (page.empty()) break;
    ids.insert(ids.end(), page.begin(), page.end());
    after = page.back();
  }
  EXPECT_EQ(ids.size(), static_cast<size_t>(kBulkRecords));
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
}

TEST_F(S3dbJsMigrateFileStore, TranslatesTheSchemaAndReportsWhatItCannot) {
  auto source = S3dbJsDatabase::Open({source_uri_, kFixturePassphrase});
  const S3dbJsResourceInfo& people = source->resource("people");
  EXPECT_EQ(people.translated.attributes["visits"], "number|integer:true|optional");
  EXPECT_EQ(people.translated.attributes["apiKey"], "secret|optional");
  EXPECT_EQ(people.translated.partitions, Json::parse(R"({"byRegion": {"fields": {"region": "string"}}})"));
  EXPECT_TRUE(people.untranslatable.empty());
  const S3dbJsResourceInfo& devices = source->resource("devices");
  ASSERT_EQ(devices.untranslatable.size(), 1u);
  EXPECT_EQ(devices.untranslatable[0].path, "addr");
  EXPECT_EQ(devices.untranslatable[0].rule, "ip4|optional");
  EXPECT_EQ(source->resource("notes_body_only").translated.behavior, "body-only");
  EXPECT_TRUE(source->resource("events").translated.timestamps);
}

TEST_F(S3dbJsMigrateFileStore, MigratesEveryRecordWithoutWritingTheSource) {
  const auto before = Snapshot(*source_store_);
  std::vector<S3dbJsMigrationError> errors;
  S3dbJsMigrationOptions options = Options();
  options.on_error = [&](const S3dbJsMigrationError& e) { errors.push_back(e); };
  const S3dbJsMigrationResult result = MigrateFromS3dbJs(options);
  EXPECT_EQ(Snapshot(*source_store_), before);

  // devices has an untranslatable field: reported, not migrated, not guessed.
  for (const auto& e : errors) ADD_FAILURE_IF_NOT_DEVICES(e);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].resource, "devices");
  EXPECT_EQ(errors[0].stage, "schema");
  EXPECT_NE(errors[0].message.find("addr"), std::string::npos) << errors[0].message;
  EXPECT_EQ(result.errors, 1u);

  auto target = Target();
  EXPECT_FALSE(target->ResourceExists("devices"));
  size_t compared = 0;
  for (const S3dbJsExpectedRecord& want : MemoryFixture().expected) {
    if (want.resource == "devices") continue;
    Record got = target->resource(want.resource).Get(want.id);
    Json data = want.data;
    if (want.id == "ev-1") {  // s3db.js's update() leaked these; they are not in its schema
      EXPECT_EQ(data.erase("metadata") + data.erase("metadata_updatedat"), 2u);
    }
    EXPECT_EQ(got.data, data) << want.resource << "/" << want.id;
    ++compared;
  }
  EXPECT_EQ(compared, MemoryFixture().expected.size() - 1);
  for (const S3dbJsResourceSummary& r : result.resources) {
    if (r.name == "devices") {
      EXPECT_FALSE(r.migrated);
      continue;
    }
    EXPECT_TRUE(r.migrated) << r.name;
    if (r.name == "events") {
      EXPECT_EQ(r.undeclared_dropped, (std::map<std::string, size_t>{{"metadata", 1}, {"metadata_updatedat", 1}}));
    } else {
      EXPECT_TRUE(r.undeclared_dropped.empty()) << r.name;
    }
    EXPECT_EQ(r.copied, r.source_records) << r.name;
    EXPECT_EQ(r.failed, 0u) << r.name;
  }

  // Partitions rebuilt from the records, as s3db.js had them.
  ListOptions br;
  br.partition = "byRegion";
  br.partition_values = {{"region", "br"}};
  std::vector<std::string> in_br = target->resource("people").ListIds(br);
  std::sort(in_br.begin(), in_br.end());
  EXPECT_EQ(in_br, (std::vector<std::string>{"user-1", "user-7"}));
  ListOptions g1;
  g1.partition = "byGroup";
  g1.partition_values = {{"group", "g1"}};
  EXPECT_EQ(target->resource("bulk").ListIds(g1).size(), static_cast<size_t>(kBulkRecords / 4));

  // Secrets re-encrypted under the target's passphrase: never stored as plain text.
  FileStoreOptions raw_options;
  raw_options.root = (dir_.path() / "target").string();
  auto raw = NewFileStore(raw_options);
  ASSERT_TRUE(raw.ok());
  size_t objects = 0;
  for (const auto& [key, etag] : Snapshot(**raw)) {
    Result<GetResult> got = (*raw)->Get(key);
    ASSERT_TRUE(got.ok()) << key;
    std::string all = got->body;
    for (const auto& [k, v] : got->info.metadata) all += v;
    EXPECT_EQ(all.find("sk-live-123"), std::string::npos) << key;
    ++objects;
  }
  EXPECT_GT(objects, static_cast<size_t>(kBulkRecords));
}

TEST_F(S3dbJsMigrateFileStore, RefusesS3dbJsBefore21NamingTheVersion) {
  Result<GetResult> catalog = source_store_->Get("s3db.json");
  ASSERT_TRUE(catalog.ok());
  Json doc = Json::parse(catalog->body);
  for (const char* version : {"20.3.1", ""}) {
    if (*version) {
      doc["s3dbVersion"] = version;
    } else {
      doc.erase("s3dbVersion");
    }
    PutRequest put;
    put.key = "s3db.json";
    put.body = doc.dump();
    ASSERT_TRUE(source_store_->Put(put).ok());
    try {
      S3dbJsDatabase::Open({source_uri_, kFixturePassphrase});
      ADD_FAILURE() << "opened a catalog of s3db.js '" << version << "'";
    } catch (const S3dbJsVersionUnsupported& e) {
      EXPECT_EQ(e.found_version(), version);
      EXPECT_NE(std::string(e.what()).find(*version ? "s3db.js 20.3.1" : "no s3dbVersion"), std::string::npos)
          << e.what();
      EXPECT_NE(std::string(e.what()).find("21"), std::string::npos) << e.what();
    }
  }
  // The migration refuses before writing anything.
  EXPECT_THROW(MigrateFromS3dbJs(Options()), S3dbJsVersionUnsupported);
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "target" / "s3db.json"));
}

TEST_F(S3dbJsMigrateFileStore, AWrongPassphraseFailsEachSecretRecordAndNamesNoSecret) {
  std::vector<S3dbJsMigrationError> errors;
  S3dbJsMigrationOptions options = Options();
  options.from_passphrase = "not-the-passphrase";
  options.resources = {"people"};
  options.on_error = [&](const S3dbJsMigrationError& e) { errors.push_back(e); };
  const S3dbJsMigrationResult result = MigrateFromS3dbJs(options);
  std::set<std::string> failed;
  for (const S3dbJsMigrationError& e : errors) {
    EXPECT_EQ(e.stage, "read");
    EXPECT_EQ(e.code, "access_denied");
    EXPECT_NE(e.message.find("apiKey"), std::string::npos) << e.message;
    EXPECT_EQ(e.message.find("not-the-passphrase"), std::string::npos) << e.message;
    failed.insert(e.id);
  }
  // The records whose apiKey s3db.js encrypted; the others are copied.
  EXPECT_TRUE(failed.count("user-1") && failed.count("user-3") && failed.count("user-4")) << errors.size();
  ASSERT_EQ(result.resources.size(), 1u);
  EXPECT_EQ(result.resources[0].failed, failed.size());
  EXPECT_EQ(result.resources[0].copied + failed.size(), 8u);
  EXPECT_FALSE(Target()->resource("people").TryGet("user-1"));
}

TEST_F(S3dbJsMigrateFileStore, StopsAtACheckpointAndResumes) {
  S3dbJsMigrationOptions options = Options();
  options.resources = {"bulk"};
  options.ranges = 4;
  options.checkpoint_every = 10;
  std::atomic<size_t> seen{0};
  options.on_progress = [&](const S3dbJsMigrationProgress& p) {
    if (!p.finished) ++seen;
  };
  options.should_stop = [&] { return seen.load() >= 100; };
  const S3dbJsMigrationResult first = MigrateFromS3dbJs(options);
  EXPECT_TRUE(first.interrupted);
  ASSERT_EQ(first.resources.size(), 1u);
  const size_t copied_first = first.resources[0].copied;
  EXPECT_GE(copied_first, 100u);
  EXPECT_LT(copied_first, static_cast<size_t>(kBulkRecords));

  options.should_stop = nullptr;
  options.verify = true;
  const S3dbJsMigrationResult second = MigrateFromS3dbJs(options);
  EXPECT_FALSE(second.interrupted);
  EXPECT_TRUE(second.resources[0].resumed);
  // Each range went on after its checkpoint: nothing copied twice, nothing missed.
  EXPECT_EQ(second.resources[0].already_present, 0u);
  EXPECT_EQ(copied_first + second.resources[0].copied, static_cast<size_t>(kBulkRecords));
  EXPECT_EQ(second.resources[0].verified, static_cast<size_t>(kBulkRecords));
  EXPECT_EQ(second.errors, 0u);
  EXPECT_EQ(Target()->resource("bulk").Count(), static_cast<size_t>(kBulkRecords));

  // A third run finds every range done.
  options.verify = false;
  const S3dbJsMigrationResult third = MigrateFromS3dbJs(options);
  EXPECT_EQ(third.resources[0].copied + third.resources[0].already_present, 0u);
}

TEST_F(S3dbJsMigrateFileStore, VerifyReportsRecordsThatDiffer) {
  S3dbJsMigrationOptions options = Options();
  options.resources = {"bulk", "notes_body_only"};
  ASSERT_EQ(MigrateFromS3dbJs(options).errors, 0u);
  auto target = Target();
  std::vector<std::string> ids = target->resource("bulk").ListIds();
  ASSERT_EQ(ids.size(), static_cast<size_t>(kBulkRecords));
  target->resource("bulk").Update(ids[3], {{"label", "changed here"}});
  target->resource("bulk").Delete(ids[7]);

  std::vector<S3dbJsMigrationError> errors;
  options.copy = false;
  options.verify = true;
  options.on_error = [&](const S3dbJsMigrationError& e) { errors.push_back(e); };
  const S3dbJsMigrationResult result = MigrateFromS3dbJs(options);
  ASSERT_EQ(errors.size(), 2u);
  std::map<std::string, std::string> by_id;
  for (const auto& e : errors) {
    EXPECT_EQ(e.stage, "verify");
    EXPECT_EQ(e.code, "mismatch");
    by_id[e.id] = e.message;
  }
  EXPECT_NE(by_id[ids[3]].find("label"), std::string::npos) << by_id[ids[3]];
  EXPECT_NE(by_id[ids[7]].find("missing"), std::string::npos) << by_id[ids[7]];
  EXPECT_EQ(result.resources[0].verified, static_cast<size_t>(kBulkRecords) - 2);
  EXPECT_EQ(result.resources[0].mismatched, 2u);
  EXPECT_EQ(result.resources[1].verified, 3u);
}

TEST_F(S3dbJsMigrateFileStore, LeavesAnExistingResourceOfAnotherDefinitionAlone) {
  auto target = Target();
  ResourceDefinition other;
  other.name = "bulk";
  other.attributes = {{"n", "number"}};
  target->CreateResource(other);
  std::vector<S3dbJsMigrationError> errors;
  S3dbJsMigrationOptions options = Options();
  options.resources = {"bulk"};
  options.on_error = [&](const S3dbJsMigrationError& e) { errors.push_back(e); };
  MigrateFromS3dbJs(options);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].code, "already_exists");
  EXPECT_EQ(Target()->resource("bulk").Count(), 0u);
}

// What the migration inserts through: a record's own timestamps kept, checked as ISO 8601.
TEST(S3dbJsInsertKeepingTimestamps, KeepsValidTimestampsAndStampsMissingOnes) {
  testing::TempDir dir;
  DatabaseOptions options;
  options.uri = "file://" + dir.path().string();
  auto db = Database::Connect(options);
  ResourceDefinition definition;
  definition.name = "stamped";
  definition.attributes = {{"n", "number"}};
  definition.timestamps = true;
  Resource& resource = db->CreateResource(definition);
  Record kept = resource.InsertKeepingTimestamps(
      {{"id", "a"}, {"n", 1}, {"createdAt", "2020-01-02T03:04:05.678Z"}, {"updatedAt", "2021-01-02T03:04:05.678Z"}});
  EXPECT_EQ(kept.data["createdAt"], "2020-01-02T03:04:05.678Z");
  EXPECT_EQ(resource.Get("a").data["updatedAt"], "2021-01-02T03:04:05.678Z");
  Record stamped = resource.InsertKeepingTimestamps({{"id", "b"}, {"n", 2}, {"createdAt", "2020-01-02T03:04:05.678Z"}});
  EXPECT_EQ(stamped.data["createdAt"], "2020-01-02T03:04:05.678Z");
  EXPECT_NE(stamped.data["updatedAt"], "2020-01-02T03:04:05.678Z");  // now
  EXPECT_THROW(resource.InsertKeepingTimestamps({{"id", "c"}, {"n", 3}, {"createdAt", "yesterday"}}), ValidationError);
  EXPECT_THROW(resource.InsertKeepingTimestamps({{"id", "d"}, {"n", 4}, {"updatedAt", 12}}), ValidationError);
  EXPECT_FALSE(resource.TryGet("c"));
  // Insert itself still stamps now, whatever the data says.
  Record plain = resource.Insert(Json{{"id", "e"}, {"n", 5}, {"createdAt", "2020-01-02T03:04:05.678Z"}});
  EXPECT_NE(plain.data["createdAt"], "2020-01-02T03:04:05.678Z");
}

// s3db.js writes straight to the real S3 server (Ceph RGW), which renames its "_v"-style
// metadata keys ("-v"); the migration reads it there and writes to another prefix.
class S3dbJsMigrateOnS3 : public ::testing::Test {
 protected:
  void SetUp() override {
    if (testing::TestS3Uri().empty()) GTEST_SKIP() << "no S3 server ($S3DB_TEST_S3_URI unset)";
    static const std::string tag = "s3dbjs-" + std::to_string(::getpid()) + "-" + testing::StoreFactory::RandomTag();
    base_ = testing::TestS3Uri() + "/" + tag;
  }
  // One s3db.js run per process, shared by the cases (it takes seconds).
  const S3dbJsFixtureRun& Fixture() {
    static const S3dbJsFixtureRun run = RunS3dbJsFixture(base_ + "/source", 120, /*dump=*/false);
    return run;
  }
  std::string base_;
};

TEST_F(S3dbJsMigrateOnS3, ReadsAndMigratesWhatS3dbJsWroteThere) {
  const S3dbJsFixtureRun& run = Fixture();
  ASSERT_TRUE(run.ok) << run.error;
  auto source = S3dbJsDatabase::Open({base_ + "/source", kFixturePassphrase});
  for (const S3dbJsExpectedRecord& want : run.expected) {
    std::optional<S3dbJsRecord> got = source->Get(want.resource, want.id);
    ASSERT_TRUE(got) << want.resource << "/" << want.id;
    Json got_data = WithoutUntranslatable(want.resource, got->data);
    Json want_data = WithoutUntranslatable(want.resource, want.data);
    if (want.id == "ev-1") {
      // The key update() leaked, "metadata_updatedat", is "metadata-updatedat" on RGW, and
      // s3db's S3 store reads a foreign "-u" as its escape of '_' ("metadata_pdatedat"). It
      // is not in the schema, so the migration leaves it out whatever its name.
      EXPECT_EQ(want_data.erase("metadata-updatedat"), 1u);
      EXPECT_EQ(got_data.erase("metadata_pdatedat"), 1u);
    }
    EXPECT_EQ(got_data, want_data) << want.resource << "/" << want.id;
  }

  S3dbJsMigrationOptions options;
  options.from = base_ + "/source";
  options.to = base_ + "/target";
  options.from_passphrase = kFixturePassphrase;
  options.to_passphrase = "target-passphrase";
  options.drop_untranslatable = true;
  options.verify = true;
  const S3dbJsMigrationResult result = MigrateFromS3dbJs(options);
  EXPECT_EQ(result.errors, 0u) << result.ToJson().dump();
  size_t verified = 0;
  for (const auto& r : result.resources) verified += r.verified;
  EXPECT_EQ(verified, run.expected.size());

  DatabaseOptions target_options;
  target_options.uri = base_ + "/target";
  target_options.passphrase = "target-passphrase";
  auto target = Database::Connect(target_options);
  EXPECT_EQ(target->resource("devices").Get("d1").data, Json::parse(R"({"label": "router"})"));
  EXPECT_EQ(target->resource("people").Get("user-3").data["apiKey"], "ключ-секрет");
  EXPECT_EQ(target->resource("notes_body_only").Get("big").data["body"].get<std::string>().size(), 2500u);
}

}  // namespace
}  // namespace s3db

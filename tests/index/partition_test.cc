// Partitions on every backend (memory, file, and S3 when $S3DB_TEST_S3_URI is set): the
// reference keys, reads through a partition, keeping references in step with writes (also
// under concurrent writers and with asyncPartitions), and repair after a crash.
#include "partition_fixture.h"

namespace s3db::partition_testing {
namespace {

TEST_P(PartitionTest, InsertWritesOneEmptyReferencePerPartitionInTheDocumentedLayout) {
  Resource& users = db_->CreateResource(Users());
  users.Insert(Ada());
  const std::set<std::string> expected = {
      "db/resource=users/partition=byActive/active=true/id=ada",
      "db/resource=users/partition=byBorn/born=1990-05-17/id=ada",        // date: the day
      "db/resource=users/partition=byCountry/address.country=Po/id=ada",  // maxlength:2
      "db/resource=users/partition=byPlace/address.country=Portugal/address.state=Lisboa/id=ada",
      // The array form keeps its order: tier before region, not byte order.
      "db/resource=users/partition=byTierRegion/tier=gold/region=eu/id=ada",
      "db/resource=users/partition=byRegion/region=eu/id=ada",
  };
  EXPECT_EQ(References(), expected);
  EXPECT_EQ(Expected(users, {"ada"}), expected);
  Result<GetResult> ref = stores_.Open()->Get("db/resource=users/partition=byRegion/region=eu/id=ada");
  ASSERT_TRUE(ref.ok());
  EXPECT_EQ(ref->body, "");
  EXPECT_TRUE(ref->info.metadata.empty());
  EXPECT_EQ(users.ListIds(), std::vector<std::string>{"ada"});  // records never meet references
}

TEST_P(PartitionTest, AValueNeverMatchesALongerOneThatStartsWithIt) {
  Resource& users = db_->CreateResource(Users());
  for (const auto& [id, region] :
       std::vector<std::pair<std::string, std::string>>{{"a", "eu"}, {"b", "eu-west"}, {"c", "eu/west"}, {"d", "e"}}) {
    users.Insert({{"id", id}, {"name", id}, {"region", region}});
  }
  EXPECT_EQ(users.ListIds(In("byRegion", {{"region", "eu"}})), std::vector<std::string>{"a"});
  EXPECT_EQ(users.ListIds(In("byRegion", {{"region", "eu-west"}})), std::vector<std::string>{"b"});
  EXPECT_EQ(users.ListIds(In("byRegion", {{"region", "eu/west"}})), std::vector<std::string>{"c"});
  EXPECT_EQ(users.ListIds(In("byRegion", {{"region", "e"}})), std::vector<std::string>{"d"});
  EXPECT_EQ(users.Count(In("byRegion", {{"region", "eu"}})), 1u);
  EXPECT_EQ(users.Count(In("byRegion", {{"region", "e"}})), 1u);
  EXPECT_EQ(users.Count(In("byRegion", {{"region", "u"}})), 0u);
}

TEST_P(PartitionTest, ValuesWithSlashesEqualsPercentsSpacesAndUnicodeAreEscaped) {
  Resource& users = db_->CreateResource(Users());
  const std::vector<std::string> values = {"a/b",    "k=v", "50%",       "two words", " lead",
                                           "trail ", "%2F", "id=x/id=y", "São Paulo", "日本",
                                           "😀",      "",    "../..",     "a\\b",      "?&#"};
  for (size_t i = 0; i < values.size(); ++i) {
    users.Insert({{"id", "r" + std::to_string(i)}, {"name", "n"}, {"region", values[i]}});
  }
  for (size_t i = 0; i < values.size(); ++i) {
    SCOPED_TRACE("value '" + values[i] + "'");
    const std::string id = "r" + std::to_string(i);
    EXPECT_EQ(users.ListIds(In("byRegion", {{"region", values[i]}})), std::vector<std::string>{id});
    EXPECT_EQ(users.GetFromPartition(id, "byRegion", {{"region", values[i]}}).data["region"], values[i]);
    const std::string key = *users.GetPartitionKey("byRegion", id, {{"region", values[i]}});
    // One level for the value, escaped as ids are: nothing but unreserved characters and %XX.
    const std::string level = key.substr(key.find("/region=") + 8, key.rfind("/id=") - key.find("/region=") - 8);
    for (char c : level) {
      EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || std::string("-._~%").find(c) != std::string::npos)
          << key;
    }
    EXPECT_TRUE(References().count(key)) << key;
  }
  EXPECT_EQ(References().size(), values.size());
}

TEST_P(PartitionTest, NestedFieldWithMaxlengthAndQueryFiltersWhatTheRuleMerges) {
  Resource& users = db_->CreateResource(Users());
  users.Insert({{"id", "pt"}, {"name", "p"}, {"address", {{"country", "Portugal"}}}});
  users.Insert({{"id", "pl"}, {"name", "p"}, {"address", {{"country", "Poland"}}}});
  users.Insert({{"id", "es"}, {"name", "e"}, {"address", {{"country", "Spain"}}}});
  // The values given go through the rule too, so "Portugal" lists everything under "Po".
  EXPECT_EQ(AsSet(users.ListIds(In("byCountry", {{"address.country", "Po"}}))), (std::set<std::string>{"pl", "pt"}));
  EXPECT_EQ(users.Count(In("byCountry", {{"address.country", "Portugal"}})), 2u);
  // Query narrows to the partition, then compares the whole value.
  std::vector<Record> found = users.Query({{"address.country", "Portugal"}});
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].id, "pt");
  EXPECT_EQ(users.ListByPartition("byCountry", {{"address.country", "Sp"}}).at(0).id, "es");
}

TEST_P(PartitionTest, MultiFieldPartitionsTakeEveryFieldOrALeadingRun) {
  Resource& users = db_->CreateResource(Users());
  users.Insert({{"id", "1"}, {"name", "a"}, {"tier", "gold"}, {"region", "eu"}});
  users.Insert({{"id", "2"}, {"name", "b"}, {"tier", "gold"}, {"region", "us"}});
  users.Insert({{"id", "3"}, {"name", "c"}, {"tier", "silver"}, {"region", "eu"}});
  users.Insert({{"id", "4"}, {"name", "d"}, {"tier", "gold"}});  // no region: no byTierRegion reference
  EXPECT_EQ(users.ListIds(In("byTierRegion", {{"tier", "gold"}, {"region", "eu"}})), std::vector<std::string>{"1"});
  EXPECT_EQ(users.ListIds(In("byTierRegion", {{"tier", "gold"}})), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(users.Count(In("byTierRegion", Json::object())), 3u);  // the whole partition
  // region alone skips tier, the first level: no prefix can express it.
  EXPECT_THROW(users.ListIds(In("byTierRegion", {{"region", "eu"}})), InvalidArgument);
  EXPECT_THROW(users.ListIds(In("byTierRegion", {{"tier", "gold"}, {"regoin", "eu"}})), InvalidArgument);
  EXPECT_THROW(users.GetFromPartition("1", "byTierRegion", {{"tier", "gold"}}), InvalidArgument);
  EXPECT_THROW(users.ListIds(In("byNothing", {{"tier", "gold"}})), InvalidArgument);
  EXPECT_THROW(users.ListIds(In("", {{"tier", "gold"}})), InvalidArgument);
  EXPECT_EQ(users.GetFromPartition("3", "byTierRegion", {{"tier", "silver"}, {"region", "eu"}}).id, "3");
}

TEST_P(PartitionTest, DateRulesKeepTheDayOfTheUtcTimestamp) {
  ResourceDefinition def;
  def.name = "logs";
  def.timestamps = true;
  def.attributes = {{"message", "string"}, {"at", "date"}};
  def.partitions = Json::parse(R"({"byDay": {"fields": {"createdAt": "date|maxlength:10"}},
                                   "byAt": {"fields": {"at": "date"}}})");
  Resource& logs = db_->CreateResource(def);
  logs.Insert({{"id", "1"}, {"message", "a"}, {"at", "2024-06-27T15:30:00Z"}});
  logs.Insert({{"id", "2"}, {"message", "b"}, {"at", "2024-06-27T23:59:59.999Z"}});
  logs.Insert({{"id", "3"}, {"message", "c"}, {"at", "2024-06-28T01:00:00+02:00"}});  // 06-27 in UTC
  logs.Insert({{"id", "4"}, {"message", "d"}, {"at", "2024-06-28T00:00:00Z"}});
  EXPECT_EQ(logs.ListIds(In("byAt", {{"at", "2024-06-27"}})), (std::vector<std::string>{"1", "2", "3"}));
  EXPECT_EQ(logs.Count(In("byAt", {{"at", "2024-06-27T08:00:00Z"}})), 3u);  // any time of the day
  EXPECT_EQ(logs.ListIds(In("byAt", {{"at", "2024-06-28"}})), std::vector<std::string>{"4"});
  const std::string today = logs.Get("1").data["createdAt"].get<std::string>().substr(0, 10);
  EXPECT_EQ(logs.Count(In("byDay", {{"createdAt", today}})), 4u);
  EXPECT_TRUE(References("logs").count("db/resource=logs/partition=byAt/at=2024-06-27/id=3"));
}

TEST_P(PartitionTest, NullOrAbsentFieldsHaveNoReference) {
  Resource& users = db_->CreateResource(Users());
  users.Insert({{"id", "ada"}, {"name", "Ada"}});
  EXPECT_TRUE(References().empty());
  EXPECT_EQ(users.GetPartitionKey("byRegion", "ada", {{"name", "Ada"}}), std::nullopt);
  users.Update("ada", {{"region", "eu"}});
  EXPECT_EQ(References(), std::set<std::string>{"db/resource=users/partition=byRegion/region=eu/id=ada"});
  users.Update("ada", {{"region", nullptr}});
  EXPECT_TRUE(References().empty());
  EXPECT_EQ(users.Count(In("byRegion", {{"region", "eu"}})), 0u);
  EXPECT_THROW(users.ListIds(In("byRegion", {{"region", nullptr}})), InvalidArgument);
}

TEST_P(PartitionTest, UpdateMovesARecordTouchingOnlyTheReferencesThatChange) {
  Resource& users = db_->CreateResource(Users());
  users.Insert(Ada());
  control_->ResetCounts();
  users.Update("ada", {{"region", "us"}});
  // byRegion and byTierRegion move: a new reference each, the old one removed; no listing.
  EXPECT_EQ(control_->reference_puts.load(), 2);
  EXPECT_EQ(control_->reference_deletes.load(), 2);
  EXPECT_EQ(control_->lists.load(), 0);
  EXPECT_EQ(References(), Expected(users, {"ada"}));
  EXPECT_TRUE(users.ListIds(In("byRegion", {{"region", "eu"}})).empty());
  EXPECT_EQ(users.ListIds(In("byRegion", {{"region", "us"}})), std::vector<std::string>{"ada"});
  control_->ResetCounts();
  users.Update("ada", {{"name", "Ada L."}, {"age", 36}});  // no partition field changes
  EXPECT_EQ(control_->reference_puts.load(), 0);
  EXPECT_EQ(control_->reference_deletes.load(), 0);
}

TEST_P(PartitionTest, DeleteRemovesTheReferencesBeforeTheRecord) {
  Resource& users = db_->CreateResource(Users());
  users.Insert(Ada());
  users.Insert({{"id", "bob"}, {"name", "Bob"}, {"region", "eu"}});
  // A reference that cannot be removed stops the delete before the record goes.
  control_->FailWhen([](FaultStore::Op op, const std::string& key) {
    return op == FaultStore::Op::kDelete && key.find("partition=byBorn") != std::string::npos;
  });
  EXPECT_THROW(users.Delete("ada"), StorageError);
  EXPECT_TRUE(users.Exists("ada"));
  control_->Heal();
  users.Delete("ada");
  EXPECT_FALSE(users.Exists("ada"));
  EXPECT_EQ(References(), Expected(users, {"bob"}));
}

TEST_P(PartitionTest, StaleReferencesAreSkippedByEveryReadAndRemovedByRepair) {
  Resource& users = db_->CreateResource(Users());
  users.Insert({{"id", "ada"}, {"name", "Ada"}, {"region", "us"}});
  users.Insert({{"id", "bob"}, {"name", "Bob"}, {"region", "eu"}});
  // What an interrupted writer can leave: a reference for a record that moved, one for a
  // record that is gone, one of a partition no longer defined, a key that is no reference.
  PutRawReference(*stores_.Open(), "db/resource=users/partition=byRegion/region=eu/id=ada");
  PutRawReference(*stores_.Open(), "db/resource=users/partition=byRegion/region=eu/id=ghost");
  PutRawReference(*stores_.Open(), "db/resource=users/partition=byOld/x=1/id=bob");
  PutRawReference(*stores_.Open(), "db/resource=users/partition=byRegion/region=eu/stray");

  const ListOptions eu = In("byRegion", {{"region", "eu"}});
  EXPECT_EQ(users.ListIds(eu), std::vector<std::string>{"bob"});
  EXPECT_EQ(users.Count(eu), 1u);
  ASSERT_EQ(users.List(eu).size(), 1u);
  EXPECT_EQ(users.List(eu)[0].id, "bob");
  PageOptions page;
  page.partition = "byRegion";
  page.partition_values = {{"region", "eu"}};
  EXPECT_EQ(users.Page(page).total_items, 1u);
  EXPECT_EQ(users.Query({{"region", "eu"}}).size(), 1u);
  EXPECT_THROW(users.GetFromPartition("ada", "byRegion", {{"region", "eu"}}), NotFound);
  EXPECT_THROW(users.GetFromPartition("ghost", "byRegion", {{"region", "eu"}}), NotFound);
  EXPECT_EQ(users.GetFromPartition("ada", "byRegion", {{"region", "us"}}).id, "ada");

  PartitionRepairOptions dry;
  dry.dry_run = true;
  PartitionRepairResult report = users.RepairPartitions(dry);
  EXPECT_EQ(report.records, 2u);
  EXPECT_EQ(report.orphans, 4u);
  EXPECT_EQ(report.missing, 0u);
  EXPECT_EQ(report.removed, 0u);
  std::map<std::string, std::string> reasons;
  for (const auto& e : report.orphan_examples) reasons[e.key] = e.reason;
  EXPECT_EQ(reasons["db/resource=users/partition=byRegion/region=eu/id=ada"], "record no longer belongs here");
  EXPECT_EQ(reasons["db/resource=users/partition=byRegion/region=eu/id=ghost"], "record does not exist");
  EXPECT_EQ(reasons["db/resource=users/partition=byOld/x=1/id=bob"], "partition 'byOld' is not defined");
  EXPECT_EQ(reasons["db/resource=users/partition=byRegion/region=eu/stray"], "not a partition reference key");
  EXPECT_EQ(References().size(), 6u);  // the dry run changed nothing

  PartitionRepairResult fixed = db_->Repair("users");
  EXPECT_EQ(fixed.removed, 4u);
  EXPECT_TRUE(fixed.failures.empty());
  EXPECT_EQ(References(), Expected(users, {"ada", "bob"}));
}

TEST_P(PartitionTest, UnverifiedReadsTrustTheReferencesAndOnlyList) {
  Resource& users = db_->CreateResource(Users());
  users.Insert({{"id", "ada"}, {"name", "Ada"}, {"region", "us"}});
  users.Insert({{"id", "bob"}, {"name", "Bob"}, {"region", "eu"}});
  users.Insert({{"id", "cy"}, {"name", "Cy"}, {"region", "eu"}});
  PutRawReference(*stores_.Open(), "db/resource=users/partition=byRegion/region=eu/id=ada");    // moved away
  PutRawReference(*stores_.Open(), "db/resource=users/partition=byRegion/region=eu/id=ghost");  // deleted
  PutRawReference(*stores_.Open(), "db/resource=users/partition=byRegion/region=eu/stray");     // no reference key

  ListOptions eu = In("byRegion", {{"region", "eu"}});
  eu.verify = false;
  control_->ResetCounts();
  EXPECT_EQ(users.ListIds(eu), (std::vector<std::string>{"ada", "bob", "cy", "ghost"}));
  EXPECT_EQ(users.Count(eu), 4u);
  EXPECT_EQ(control_->gets.load(), 0);
  EXPECT_EQ(control_->heads.load(), 0);
  EXPECT_EQ(control_->lists.load(), 2);  // one page each

  eu.offset = 1;
  eu.limit = 2;
  EXPECT_EQ(users.ListIds(eu), (std::vector<std::string>{"bob", "cy"}));
  // Reads that return records check them whatever verify says.
  eu.offset = 0;
  eu.limit.reset();
  std::vector<std::string> listed;
  for (const Record& r : users.List(eu)) listed.push_back(r.id);
  EXPECT_EQ(listed, (std::vector<std::string>{"bob", "cy"}));
  eu.verify = true;
  EXPECT_EQ(users.ListIds(eu), (std::vector<std::string>{"bob", "cy"}));
}

TEST_P(PartitionTest, QueryReadsOnlyThePartitionItsFilterPins) {
  Resource& users = db_->CreateResource(Users());
  for (int i = 0; i < 12; ++i) {
    users.Insert(
        {{"id", "u" + std::to_string(i)}, {"name", "n"}, {"region", i % 4 ? "us" : "eu"}, {"active", i % 2 == 0}});
  }
  control_->ResetCounts();
  std::vector<Record> eu = users.Query({{"region", "eu"}});
  EXPECT_EQ(eu.size(), 3u);
  EXPECT_EQ(control_->gets.load(), 3);  // one per reference, not one per record
  control_->ResetCounts();
  EXPECT_EQ(users.Query({{"name", "n"}}).size(), 12u);
  EXPECT_EQ(control_->gets.load(), 12);
  // Explicit partition plus a filter on another field; offset and limit after the filter.
  ListOptions options = In("byRegion", {{"region", "us"}});
  EXPECT_EQ(users.Query({{"active", true}}, options).size(), 3u);
  options.offset = 1;
  options.limit = 1;
  std::vector<Record> one = users.Query({{"active", true}}, options);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].id, "u2");  // u10, u2, u6: key order is byte order
}

TEST_P(PartitionTest, PagesListsAndOffsetsCountOnlyWhatBelongs) {
  Resource& users = db_->CreateResource(Users());
  for (int i = 0; i < 7; ++i) users.Insert({{"id", "e" + std::to_string(i)}, {"name", "n"}, {"region", "eu"}});
  for (int i = 0; i < 3; ++i) users.Insert({{"id", "u" + std::to_string(i)}, {"name", "n"}, {"region", "us"}});
  PutRawReference(*stores_.Open(), "db/resource=users/partition=byRegion/region=eu/id=e00");  // stale: no record
  PageOptions page;
  page.size = 3;
  page.partition = "byRegion";
  page.partition_values = {{"region", "eu"}};
  PageResult first = users.Page(page);
  EXPECT_EQ(first.total_items, 7u);
  EXPECT_EQ(first.total_pages, 3u);
  ASSERT_EQ(first.items.size(), 3u);
  EXPECT_EQ(first.items[0].id, "e0");
  page.offset = 6;
  page.skip_count = true;
  PageResult last = users.Page(page);
  EXPECT_FALSE(last.total_items.has_value());
  ASSERT_EQ(last.items.size(), 1u);
  EXPECT_EQ(last.items[0].id, "e6");
  ListOptions window = In("byRegion", {{"region", "eu"}});
  window.offset = 2;
  window.limit = 2;
  EXPECT_EQ(users.ListIds(window), (std::vector<std::string>{"e2", "e3"}));
  EXPECT_EQ(users.List(window).size(), 2u);
  EXPECT_EQ(users.ListByPartition("byRegion", {{"region", "us"}}).size(), 3u);
}

TEST_P(PartitionTest, ChangingPartitionsInANewVersionIsMendedByRepair) {
  Resource& users = db_->CreateResource(Users());
  users.Insert(Ada());
  ResourceDefinition v2 = Users();
  v2.partitions.erase("byRegion");
  v2.partitions["byName"] = {{"fields", {{"name", "string"}}}};
  CreateResourceResult changed = db_->CreateResourceIfNotExists(v2);
  EXPECT_FALSE(changed.created);
  EXPECT_EQ(users.version(), 2);  // partitions are part of the definition hash
  EXPECT_NE(Users().DefinitionHash(), v2.DefinitionHash());
  PartitionRepairResult fixed = users.RepairPartitions();
  EXPECT_EQ(fixed.orphans, 1u);  // byRegion
  EXPECT_EQ(fixed.orphan_examples.at(0).reason, "partition 'byRegion' is not defined");
  EXPECT_EQ(fixed.missing, 1u);  // byName, for the record written before it existed
  EXPECT_EQ(users.ListIds(In("byName", {{"name", "Ada"}})), std::vector<std::string>{"ada"});
  EXPECT_EQ(References(), Expected(users, {"ada"}));
}

TEST_P(PartitionTest, AReferenceKeyS3WouldRefuseIsAValidationErrorBeforeAnyWrite) {
  Resource& users = db_->CreateResource(Users());
  try {
    users.Insert({{"id", "long"}, {"name", "n"}, {"region", std::string(400, '/')}});  // 1200 escaped bytes
    FAIL() << "accepted a 1200-byte reference key";
  } catch (const ValidationError& e) {
    ASSERT_EQ(e.fields().size(), 1u);  // byRegion (without a tier, byTierRegion has no reference)
    EXPECT_EQ(e.fields()[0].path, "region");
    EXPECT_NE(e.fields()[0].message.find("1024"), std::string::npos) << e.fields()[0].message;
  } catch (const std::exception& e) {
    FAIL() << e.what();
  }
  EXPECT_FALSE(users.Exists("long"));
}

TEST_P(PartitionTest, ReadingThroughAPartitionOfASecretResourceNeedsThePassphraseOnlyForData) {
  DatabaseOptions with;
  with.passphrase = "correct horse";
  with.kdf_iterations = 1000;
  auto owner = Connect(with);
  ResourceDefinition def = Users();
  def.attributes["token"] = "secret|optional";
  Resource& users = owner->CreateResource(def);
  users.Insert({{"id", "ada"}, {"name", "Ada"}, {"region", "eu"}, {"token", "s3cr3t"}});
  auto reader = Connect();  // no passphrase
  Resource& same = reader->resource("users");
  EXPECT_EQ(same.Count(In("byRegion", {{"region", "eu"}})), 1u);
  EXPECT_THROW(same.List(In("byRegion", {{"region", "eu"}})), AccessDenied);
  EXPECT_EQ(users.List(In("byRegion", {{"region", "eu"}})).at(0).data["token"], "s3cr3t");
}

INSTANTIATE_TEST_SUITE_P(Backends, PartitionTest, ::testing::ValuesIn(testing::TestBackends()),
                         [](const auto& info) { return testing::BackendName(info.param); });

}  // namespace
}  // namespace s3db::partition_testing

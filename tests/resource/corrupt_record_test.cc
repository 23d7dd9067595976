// One corrupt object (garbage written by another program, a truncated file) must not lock the
// whole resource: it is counted and listed, reported with its id where it is read, skipped by
// scans that ask for that, deletable and droppable, and repair leaves its references alone.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "s3db/database.h"
#include "support/definitions.h"
#include "support/raw_objects.h"
#include "support/test_stores.h"

namespace s3db {
namespace {

using testing::Backend;
using testing::Def;
using testing::StoreFactory;

class CorruptRecordTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    db_ = stores_.Connect();
    ResourceDefinition def = Def("notes", {{"text", "string"}, {"region", "string"}});
    def.partitions = Json::parse(R"({"byRegion": {"fields": {"region": "string"}}})");
    notes_ = &db_->CreateResource(def);
    for (const char* id : {"a", "b", "c"}) notes_->Insert({{"id", id}, {"text", "note"}, {"region", "eu"}});
    notes_->FlushPartitions();
    ListRequest all;
    all.prefix = "db/";
    auto page = db_->store().List(all);
    ASSERT_TRUE(page.ok());
    for (const ObjectInfo& object : page->objects) {
      if (object.key.find("/data/") != std::string::npos && object.key.size() > 4 &&
          object.key.compare(object.key.size() - 4, 4, "id=b") == 0) {
        key_ = object.key;
      }
    }
    ASSERT_FALSE(key_.empty());
    // Another program overwrites record b with bytes that are no s3db record.
    testing::MustPut(db_->store(), key_, "\x89PNG not a record", {});
  }

  StoreFactory stores_{GetParam()};
  std::unique_ptr<Database> db_;
  Resource* notes_ = nullptr;
  std::string key_;
};

TEST_P(CorruptRecordTest, ReadingItIsCorruptionNamingTheId) {
  try {
    notes_->Get("b");
    FAIL() << "a garbage object was read as a record";
  } catch (const Corruption& e) {
    EXPECT_NE(std::string(e.what()).find("'b'"), std::string::npos) << e.what();
  }
  EXPECT_EQ(notes_->Get("a").data["text"], "note");
}

TEST_P(CorruptRecordTest, CountAndIdsSeeItAndListSkipsItWhenAsked) {
  EXPECT_EQ(notes_->Count(), 3u);
  EXPECT_EQ(notes_->ListIds(), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_THROW(notes_->List(), Corruption);  // without on_error: the caller sees the error

  std::vector<BulkItemError> errors;
  ListOptions options;
  options.on_error = [&](const BulkItemError& e) { errors.push_back(e); };
  std::vector<Record> listed = notes_->List(options);
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].id, "a");
  EXPECT_EQ(listed[1].id, "c");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].id, "b");
  EXPECT_EQ(errors[0].index, 1u);
  EXPECT_EQ(errors[0].code, ErrorCode::kCorruption);

  errors.clear();
  EXPECT_EQ(notes_->Query({{"text", "note"}}, options).size(), 2u);
  EXPECT_EQ(errors.size(), 1u);
  errors.clear();
  ListOptions by_region = options;
  by_region.partition = "byRegion";
  by_region.partition_values = {{"region", "eu"}};
  EXPECT_EQ(notes_->List(by_region).size(), 2u);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].id, "b");
}

TEST_P(CorruptRecordTest, RepairReportsItAndKeepsItsReferences) {
  const PartitionRepairResult repaired = notes_->RepairPartitions();
  EXPECT_EQ(repaired.removed, 0u) << "the unreadable record's reference was judged an orphan";
  EXPECT_EQ(repaired.orphans, 0u);
  ASSERT_EQ(repaired.failures.size(), 1u);
  EXPECT_EQ(repaired.failures[0].id, "b");
  EXPECT_EQ(repaired.failures[0].operation, "read");
  EXPECT_EQ(repaired.failures[0].code, ErrorCode::kCorruption);
  EXPECT_EQ(repaired.records, 2u);
}

TEST_P(CorruptRecordTest, ItCanBeDeletedAndTheResourceDropped) {
  notes_->Delete("b");
  EXPECT_FALSE(notes_->Exists("b"));
  EXPECT_EQ(notes_->List().size(), 2u);
  // Its partition reference was left (what it needed was unknown): reads skip it, repair removes it.
  ListOptions by_region;
  by_region.partition = "byRegion";
  by_region.partition_values = {{"region", "eu"}};
  EXPECT_EQ(notes_->List(by_region).size(), 2u);
  EXPECT_EQ(notes_->RepairPartitions().removed, 1u);
  // The id is free again.
  notes_->Insert({{"id", "b"}, {"text", "again"}, {"region", "eu"}});
  EXPECT_EQ(notes_->Get("b").data["text"], "again");
  db_->DropResource("notes");
  EXPECT_FALSE(db_->ResourceExists("notes"));
}

INSTANTIATE_TEST_SUITE_P(Backends, CorruptRecordTest, ::testing::ValuesIn(testing::TestBackends()),
                         [](const auto& info) { return testing::BackendName(info.param); });

// The file store's own corruption: an object file emptied or cut short (a disk full, a
// hand edit). It is listed, so the resource stays usable, and reading it is Corruption.
TEST(CorruptObjectFileTest, AnEmptiedFileIsListedAndReportedNotFatal) {
  StoreFactory stores{Backend::kFile};
  auto db = stores.Connect();
  Resource& notes = db->CreateResource(Def("notes", {{"text", "string"}}));
  for (const char* id : {"a", "b", "c"}) notes.Insert({{"id", id}, {"text", "note"}});
  namespace fs = std::filesystem;
  std::string emptied;
  for (const auto& entry : fs::recursive_directory_iterator(stores.dir())) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && entry.path().string().find("/data/") != std::string::npos &&
        name.rfind("id=b", 0) == 0) {
      emptied = entry.path();
    }
  }
  ASSERT_FALSE(emptied.empty());
  std::ofstream(emptied, std::ios::trunc).close();
  EXPECT_EQ(notes.Count(), 3u);
  EXPECT_THROW(notes.Get("b"), Corruption);
  size_t errors = 0;
  ListOptions options;
  options.on_error = [&](const BulkItemError&) { ++errors; };
  EXPECT_EQ(notes.List(options).size(), 2u);
  EXPECT_EQ(errors, 1u);
  notes.Delete("b");
  EXPECT_EQ(notes.Count(), 2u);
  db->DropResource("notes");
  EXPECT_FALSE(db->ResourceExists("notes"));
}

}  // namespace
}  // namespace s3db

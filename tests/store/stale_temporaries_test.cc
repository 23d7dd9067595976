// FileStore's temporary files and RemoveStaleTemporaries: what a killed writer left is removed,
// what a live writer may still be writing is kept, and List never shows either.
#include "store/stale_temporaries.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "s3db/stores.h"
#include "store/atomic_write.h"
#include "store/file_key_codec.h"
#include "util/crypto_hash.h"

namespace s3db::store {
namespace {

namespace fs = std::filesystem;
using std::chrono::minutes;
using std::chrono::seconds;

class StaleTempDir {
 public:
  StaleTempDir() : path_(fs::temp_directory_path() / ("s3db-stale-" + util::RandomAlnum(12))) {
    fs::create_directories(path_);
  }
  ~StaleTempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// A pid that existed and is gone now: a child that exited and was reaped. (The kernel could
// reuse it later, which only makes repair keep a file it could have removed.)
pid_t DeadPid() {
  const pid_t pid = fork();
  if (pid == 0) _exit(0);
  int status = 0;
  waitpid(pid, &status, 0);
  return pid;
}

std::string TempName(pid_t pid, const std::string& host) {
  return ".tmp-" + std::to_string(pid) + "-" + host + "-" + util::RandomAlnum(16);
}

// Writes a temporary beside `key`'s object file, last modified `age` ago.
fs::path PlantTemp(const fs::path& root, const std::string& key, const std::string& name, seconds age = seconds(0)) {
  const fs::path dir = (root / ObjectFilePath(key)).parent_path();
  fs::create_directories(dir);
  const fs::path path = dir / name;
  std::ofstream(path) << "{\"v\":1}\nhalf a body";
  if (age.count() > 0) {
    const auto when = fs::file_time_type::clock::now() - age;
    fs::last_write_time(path, when);
  }
  return path;
}

std::unique_ptr<ObjectStore> OpenStore(const fs::path& root) {
  Result<std::unique_ptr<ObjectStore>> store = NewFileStore({root.string(), false});
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return std::move(store).value();
}

std::vector<std::string> AllKeys(ObjectStore& store) {
  std::vector<std::string> keys;
  ListRequest request;
  Result<ListPage> page = store.List(request);
  EXPECT_TRUE(page.ok()) << page.status().ToString();
  for (const ObjectInfo& object : page->objects) keys.push_back(object.key);
  return keys;
}

TEST(StaleTemporaryNameTest, RecordsThisProcessAndHost) {
  const std::string name = NewTemporaryName();
  const std::optional<TemporaryWriter> writer = WriterOfTemporary(name);
  ASSERT_TRUE(writer) << name;
  EXPECT_EQ(writer->pid, getpid());
  EXPECT_EQ(writer->host, ThisHostTag());
  EXPECT_EQ(ThisHostTag().size(), 16u);
  EXPECT_NE(NewTemporaryName(), name);  // the random part differs
}

TEST(StaleTemporaryNameTest, OlderAndForeignNamesRecordNoWriter) {
  for (const std::string name :
       {".tmp-abcdefghijklmnop", ".tmp-", ".tmp-12-0123456789abcdef", ".tmp-x1-0123456789abcdef-abcdefghijklmnop",
        ".tmp-0-0123456789abcdef-abcdefghijklmnop", ".tmp-12-0123456789abcdeg-abcdefghijklmnop",
        ".tmp-12-0123456789abcdef-abcdefghijklmno", ".tmp-12-0123456789abcdef-abcdefghijklmno!", "tmp-12-x-y"}) {
    EXPECT_FALSE(WriterOfTemporary(name)) << name;
  }
  EXPECT_TRUE(WriterOfTemporary(".tmp-12-0123456789abcdef-abcdefghijklmnop"));
}

TEST(StaleTemporaryNameTest, JudgesOnTheEvidence) {
  const std::string host = ThisHostTag();
  const std::string other_host = host == "0123456789abcdef" ? "fedcba9876543210" : "0123456789abcdef";
  const seconds young(1), old = minutes(16), limit = minutes(15);
  EXPECT_EQ(JudgeTemporary(TempName(DeadPid(), host), young, limit), TemporaryVerdict::kStale);
  EXPECT_EQ(JudgeTemporary(TempName(getpid(), host), young, limit), TemporaryVerdict::kMaybeLive);
  EXPECT_EQ(JudgeTemporary(TempName(getpid(), host), old, limit), TemporaryVerdict::kStale);
  // Another host's pid means nothing here, dead or not: only age decides.
  EXPECT_EQ(JudgeTemporary(TempName(DeadPid(), other_host), young, limit), TemporaryVerdict::kMaybeLive);
  EXPECT_EQ(JudgeTemporary(TempName(DeadPid(), other_host), old, limit), TemporaryVerdict::kStale);
  EXPECT_EQ(JudgeTemporary(".tmp-abcdefghijklmnop", young, limit), TemporaryVerdict::kMaybeLive);
  EXPECT_EQ(JudgeTemporary(".tmp-abcdefghijklmnop", old, limit), TemporaryVerdict::kStale);
}

TEST(StaleTemporaryFileStoreTest, RemovesWhatKilledWritersLeftAndKeepsLiveOnes) {
  StaleTempDir dir;
  auto store = OpenStore(dir.path());
  PutRequest put;
  for (const std::string key : {"db/resource=a/data/id=1", "db/resource=a/data/id=2", "db/s3db.json"}) {
    put.key = key;
    put.body = "body of " + key;
    ASSERT_TRUE(store->Put(put).ok());
  }
  const std::string other_host = ThisHostTag() == "0123456789abcdef" ? "fedcba9876543210" : "0123456789abcdef";
  const fs::path dead = PlantTemp(dir.path(), "db/resource=a/data/id=3", TempName(DeadPid(), ThisHostTag()));
  const fs::path live = PlantTemp(dir.path(), "db/resource=a/data/id=4", TempName(getpid(), ThisHostTag()));
  const fs::path old_legacy = PlantTemp(dir.path(), "db/resource=a/data/id=5", ".tmp-abcdefghijklmnop", minutes(20));
  const fs::path young_legacy = PlantTemp(dir.path(), "db/resource=a/data/id=6", ".tmp-ponmlkjihgfedcba");
  const fs::path foreign = PlantTemp(dir.path(), "db/resource=a/data/id=7", TempName(DeadPid(), other_host));
  const fs::path nested =
      PlantTemp(dir.path(), "db/resource=a/partition=p/r=eu/id=1", TempName(DeadPid(), ThisHostTag()));
  const std::vector<std::string> keys = AllKeys(*store);
  ASSERT_EQ(keys.size(), 3u);  // temporaries are never listed

  StaleTemporaryOptions options;
  options.prefix = "db/resource=a/";
  options.dry_run = true;
  Result<StaleTemporaryResult> dry = store->RemoveStaleTemporaries(options);
  ASSERT_TRUE(dry.ok()) << dry.status().ToString();
  EXPECT_EQ(dry->stale, 3u);
  EXPECT_EQ(dry->removed, 0u);
  EXPECT_EQ(dry->kept, 3u);
  EXPECT_TRUE(fs::exists(dead));

  options.dry_run = false;
  Result<StaleTemporaryResult> swept = store->RemoveStaleTemporaries(options);
  ASSERT_TRUE(swept.ok()) << swept.status().ToString();
  EXPECT_EQ(swept->stale, 3u);
  EXPECT_EQ(swept->removed, 3u);
  EXPECT_EQ(swept->kept, 3u);
  EXPECT_EQ(swept->examples.size(), 3u);
  EXPECT_FALSE(fs::exists(dead));
  EXPECT_FALSE(fs::exists(old_legacy));
  EXPECT_FALSE(fs::exists(nested));
  EXPECT_TRUE(fs::exists(live));
  EXPECT_TRUE(fs::exists(young_legacy));
  EXPECT_TRUE(fs::exists(foreign));
  EXPECT_EQ(AllKeys(*store), keys);  // no object touched

  // A shorter age makes the young ones stale too, but never the live writer's... unless
  // it is older than that age.
  options.max_age = seconds(0);
  fs::last_write_time(live, fs::file_time_type::clock::now() - seconds(5));
  fs::last_write_time(young_legacy, fs::file_time_type::clock::now() - seconds(5));
  fs::last_write_time(foreign, fs::file_time_type::clock::now() - seconds(5));
  swept = store->RemoveStaleTemporaries(options);
  ASSERT_TRUE(swept.ok());
  EXPECT_EQ(swept->removed, 3u);
  EXPECT_EQ(AllKeys(*store), keys);
}

TEST(StaleTemporaryFileStoreTest, OnlyTheDirectoriesOfThePrefix) {
  StaleTempDir dir;
  auto store = OpenStore(dir.path());
  const fs::path mine = PlantTemp(dir.path(), "db/resource=a/data/id=1", TempName(DeadPid(), ThisHostTag()));
  const fs::path other = PlantTemp(dir.path(), "db/resource=ab/data/id=1", TempName(DeadPid(), ThisHostTag()));
  const fs::path beside_catalog = PlantTemp(dir.path(), "db/s3db.json", TempName(DeadPid(), ThisHostTag()));
  StaleTemporaryOptions options;
  options.prefix = "db/resource=a/";
  Result<StaleTemporaryResult> swept = store->RemoveStaleTemporaries(options);
  ASSERT_TRUE(swept.ok()) << swept.status().ToString();
  EXPECT_EQ(swept->removed, 1u);
  EXPECT_FALSE(fs::exists(mine));
  EXPECT_TRUE(fs::exists(other));
  EXPECT_TRUE(fs::exists(beside_catalog));

  // The catalog's key: its own directory, not the resources below it.
  options.prefix = "db/s3db.json";
  swept = store->RemoveStaleTemporaries(options);
  ASSERT_TRUE(swept.ok());
  EXPECT_EQ(swept->removed, 1u);
  EXPECT_FALSE(fs::exists(beside_catalog));
  EXPECT_TRUE(fs::exists(other));

  // A prefix with no directory yet finds nothing, and fails nothing.
  options.prefix = "nowhere/";
  swept = store->RemoveStaleTemporaries(options);
  ASSERT_TRUE(swept.ok());
  EXPECT_EQ(swept->stale, 0u);
}

TEST(StaleTemporaryFileStoreTest, WritesUseWriterTaggedNamesAndLeaveNone) {
  // The name every Put writes under records this process and host, so a killed writer's
  // leftover can be judged.
  const fs::path temp = TempPathIn("/some/dir");
  EXPECT_EQ(temp.parent_path(), "/some/dir");
  const std::optional<TemporaryWriter> writer = WriterOfTemporary(temp.filename().string());
  ASSERT_TRUE(writer) << temp;
  EXPECT_EQ(writer->pid, getpid());

  StaleTempDir dir;
  auto store = OpenStore(dir.path());
  PutRequest put;
  put.key = "k";
  put.body = "x";
  ASSERT_TRUE(store->Put(put).ok());
  put.if_none_match_star = true;
  ASSERT_FALSE(store->Put(put).ok());  // refused after writing its temporary: removed again
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    EXPECT_NE(entry.path().filename().string().rfind(".tmp-", 0), 0u) << "a finished Put left " << entry.path();
  }
  // The other stores have no temporaries: the default finds none.
  std::unique_ptr<ObjectStore> memory = NewMemoryStore("stale-temporaries-test");
  Result<StaleTemporaryResult> none = memory->RemoveStaleTemporaries({});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->stale + none->kept, 0u);
}

}  // namespace
}  // namespace s3db::store

// `s3db repair` on the file store removes the temporary files killed writers left, and only
// those (the judgment itself: tests/store/stale_temporaries_test.cc).
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "cli/cli_fixture.h"
#include "store/file_key_codec.h"
#include "store/stale_temporaries.h"
#include "util/crypto_hash.h"

namespace s3db::clitest {
namespace {

class CliRepairTemporariesTest : public CliTest {
 protected:
  // A temporary beside the object file of `key` (relative to the store), as a writer of pid
  // `pid` on this host names it.
  fs::path PlantTemporary(const std::string& key, pid_t pid) {
    const fs::path dir = (fs::path(dir_) / "db" / store::ObjectFilePath(key)).parent_path();
    fs::create_directories(dir);
    const fs::path path =
        dir / (".tmp-" + std::to_string(pid) + "-" + store::ThisHostTag() + "-" + util::RandomAlnum(16));
    WriteFile(path, "{\"v\":1}\nhalf of a record");
    return path;
  }
};

pid_t GonePid() {
  const pid_t pid = fork();
  if (pid == 0) _exit(0);
  int status = 0;
  waitpid(pid, &status, 0);
  return pid;
}

TEST_F(CliRepairTemporariesTest, RemovesWhatKilledWritersLeftAndKeepsLiveOnes) {
  if (OnS3()) GTEST_SKIP() << "S3 keeps no temporary files";
  CreateUsers();
  ImportExamples();
  const fs::path dead_record = PlantTemporary("resource=users/data/id=zz", GonePid());
  const fs::path dead_catalog = PlantTemporary("s3db.json", GonePid());
  const fs::path live = PlantTemporary("resource=users/data/id=zz", getpid());
  EXPECT_EQ(Count(), 8u);  // never listed or counted

  const RunResult dry = Run({"repair", "users", "--dry-run"});
  ASSERT_TRUE(Succeeded(dry));
  const Json dry_report = Json::parse(dry.out);
  EXPECT_EQ(dry_report["staleTemporaries"], 2);
  EXPECT_EQ(dry_report["temporariesRemoved"], 0);
  EXPECT_EQ(dry_report["temporariesKept"], 1);
  EXPECT_TRUE(fs::exists(dead_record));

  const RunResult run = Run({"repair", "users"});
  ASSERT_TRUE(Succeeded(run));
  const Json report = Json::parse(run.out);
  EXPECT_EQ(report["staleTemporaries"], 2);
  EXPECT_EQ(report["temporariesRemoved"], 2);
  EXPECT_EQ(report["temporariesKept"], 1);
  EXPECT_FALSE(fs::exists(dead_record));
  EXPECT_FALSE(fs::exists(dead_catalog));
  EXPECT_TRUE(fs::exists(live));  // this process is alive: it may still be writing it

  // Past --temp-max-age it goes too, whoever wrote it.
  fs::last_write_time(live, fs::file_time_type::clock::now() - std::chrono::seconds(120));
  const RunResult aged = Run({"repair", "users", "--temp-max-age", "60s"});
  ASSERT_TRUE(Succeeded(aged));
  EXPECT_EQ(Json::parse(aged.out)["temporariesRemoved"], 1);
  EXPECT_FALSE(fs::exists(live));
  EXPECT_EQ(Count(), 8u);
}

TEST_F(CliRepairTemporariesTest, TempMaxAgeMustBeASecondOrMore) {
  for (const std::string age : {"500ms", "0", "-5m", "soon"}) {
    const RunResult run = Run({"repair", "users", "--temp-max-age", age});
    EXPECT_EQ(run.exit_code, kUsage) << age << ": " << Describe(run);
    EXPECT_NE(run.err.find("at least 1s"), std::string::npos) << Describe(run);
  }
}

TEST_F(CliRepairTemporariesTest, ImportUpsertCompletesARerun) {
  CreateUsers();
  ImportExamples();
  // Plain import again: the ids exist (exit 5, each named); --upsert rewrites them (exit 0).
  const RunResult again = Run({"import", "users", kUsersJsonl});
  EXPECT_EQ(again.exit_code, kConflict) << Describe(again);
  EXPECT_NE(again.err.find("already exists"), std::string::npos);
  EXPECT_NE(again.err.find("s3db: imported 0, failed 8\n"), std::string::npos) << Describe(again);
  const std::string before = Export();
  const RunResult upsert = Run({"import", "users", kUsersJsonl, "--upsert"});
  EXPECT_EQ(upsert.exit_code, kOk) << Describe(upsert);
  EXPECT_EQ(upsert.err, "s3db: imported 8, failed 0\n");
  EXPECT_EQ(Count(), 8u);
  // The same records (updatedAt moves; the rest is as imported).
  std::vector<Json> was = JsonLines(before), now = JsonLines(Export());
  ASSERT_EQ(was.size(), now.size());
  for (size_t i = 0; i < was.size(); ++i) EXPECT_EQ(WithoutTimestamps(was[i]), WithoutTimestamps(now[i]));
  // A record without an id cannot be upserted: that line fails, the others go in.
  const std::string path =
      WriteTemp("no-id.jsonl", R"({"name":"No Id","email":"n@example.org","address":{"city":"X","country":"Y"}})"
                               "\n");
  const RunResult no_id = Run({"import", "users", path, "--upsert"});
  EXPECT_EQ(no_id.exit_code, kInvalid) << Describe(no_id);
  EXPECT_NE(no_id.err.find("line 1"), std::string::npos) << Describe(no_id);
}

}  // namespace
}  // namespace s3db::clitest

// Crash consistency under kill -9 (docs/TESTING.md "Crash consistency"): the real `s3db`
// binary runs an operation as a child process and is killed with SIGKILL after a random
// delay; then the store must hold every record either fully old or fully new, count must
// equal the number of ids listed, `repair` must leave the partitions verifying clean (and no
// temporary file behind on the file store), and running the same command again must
// complete the job.
//
// Operations: import, delete-all, partition moves (import --upsert, or updates through
// `s3db shell`), and a resource definition change followed by a partition rebuild (shell:
// `resource create --if-not-exists` with a new partition, then `repair`).
//
// S3DB_CRASH_ITERATIONS (default 2, on S3 1) kills per operation, S3DB_CRASH_RECORDS (300, on
// S3 100) records per run; S3DB_CRASH_SEED fixes the random
// delays (printed with every failure: rerun with it and --gtest_filter to retry the same
// points; the child's own timing still varies). Registered on the file store (label crash)
// and on the real S3 server (labels crash;s3, S3DB_CLI_TEST_BACKEND=s3, skipped without one).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cli/cli_fixture.h"
#include "s3db/database.h"
#include "s3db/resource.h"

namespace s3db::crashtest {
namespace {

namespace fs = std::filesystem;
using clitest::Json;
using clitest::RunResult;
using Clock = std::chrono::steady_clock;

constexpr const char* kResource = "crashy";

enum class Version { kAbsent, kOld, kNew };

std::string IdOf(int i) {
  char id[16];
  std::snprintf(id, sizeof(id), "r%04d", i);
  return id;
}

// The two versions of record i. They differ in every field, the partition field included,
// so a record that mixed them would show.
Json OldRecord(int i) {
  return {{"name", "old-" + std::to_string(i)},
          {"region", "eu"},
          {"n", i},
          {"note", "version one of record " + std::to_string(i) + std::string(200, 'o')}};
}
Json NewRecord(int i) {
  return {{"name", "new-" + std::to_string(i)},
          {"region", "us"},
          {"n", 100000 + i},
          {"note", "version two of record " + std::to_string(i) + std::string(300, 'n')}};
}

std::string JsonLinesOf(int records, Json (*version)(int)) {
  std::string text;
  for (int i = 0; i < records; ++i) {
    Json record = version(i);
    record["id"] = IdOf(i);
    text += record.dump() + "\n";
  }
  return text;
}

const char* kSchemaV1 = R"({"attributes":{"name":"string","region":"string","n":"number","note":"string|optional"},)"
                        R"("timestamps":false,"partitions":{"byRegion":{"fields":{"region":"string"}}}})";
// Version 2 adds a partition: records written before need references that repair rebuilds.
const char* kSchemaV2 = R"({"attributes":{"name":"string","region":"string","n":"number","note":"string|optional"},)"
                        R"("timestamps":false,"partitions":{"byRegion":{"fields":{"region":"string"}},)"
                        R"("byName":{"fields":{"name":"string"}}}})";

int EnvInt(const char* name, int fallback) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return fallback;
  return std::atoi(text);
}

uint64_t BaseSeed() {
  static const uint64_t seed = [] {
    const char* text = std::getenv("S3DB_CRASH_SEED");
    if (text != nullptr && *text != '\0') return static_cast<uint64_t>(std::strtoull(text, nullptr, 10));
    return static_cast<uint64_t>(std::random_device{}()) << 32 | std::random_device{}();
  }();
  return seed;
}

// What one operation's kills found, printed at the end of its test (docs/TESTING.md figures).
struct Tally {
  int tried = 0;             // kills sent
  int killed = 0;            // the child died of it (it had not finished)
  int finished_first = 0;    // it had finished before the kill
  int repair_needed = 0;     // repair --dry-run found something to fix
  int temporaries_left = 0;  // file store: .tmp-* files the kills left (repair removed them)
  int reruns = 0;            // reruns that completed the job
};

class CrashConsistencyTest : public clitest::CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    if (IsSkipped()) return;
    // The defaults keep the regular suite's crash label under a minute on both backends
    // together; the full run sets S3DB_CRASH_ITERATIONS=100.
    iterations_ = EnvInt("S3DB_CRASH_ITERATIONS", clitest::OnS3() ? 1 : 2);
    records_ = EnvInt("S3DB_CRASH_RECORDS", clitest::OnS3() ? 100 : 300);
    const std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    seed_ = BaseSeed() ^ std::hash<std::string>{}(test);
    random_.seed(seed_);
    schema_v1_ = WriteTemp("v1.schema.json", kSchemaV1);
    schema_v2_ = WriteTemp("v2.schema.json", kSchemaV2);
    old_file_ = dir_ + "/old.jsonl";  // written by Exercise, once records_ is final
    new_file_ = dir_ + "/new.jsonl";
  }

  void TearDown() override {
    if (!uri_.empty()) DropStore();
    CliTest::TearDown();
  }

  // Each iteration its own store: a directory, or a prefix of the S3 bucket.
  void FreshStore(int iteration) {
    if (!uri_.empty()) DropStore();
    if (clitest::OnS3()) {
      uri_ = s3_uri_ + "/crash-" + std::to_string(iteration);
    } else {
      store_dir_ = dir_ + "/db-" + std::to_string(iteration);
      // A kill loses no written page (the kernel keeps them), so fsync changes nothing it can
      // leave behind, only the time a run takes; S3DB_CRASH_FSYNC=1 keeps it anyway.
      uri_ = "file://" + store_dir_ + (EnvInt("S3DB_CRASH_FSYNC", 0) != 0 ? "" : "?fsync=false");
    }
  }
  void DropStore() {
    if (clitest::OnS3()) {
      try {
        Database::Connect({.uri = uri_})->Clear();
      } catch (const std::exception& error) {
        ADD_FAILURE() << "cannot clear " << uri_ << ": " << error.what();
      }
    } else {
      fs::remove_all(store_dir_);
    }
    uri_.clear();
  }

  std::string Trace(int iteration) const {
    return "S3DB_CRASH_SEED=" + std::to_string(BaseSeed()) + " (this test's seed " + std::to_string(seed_) +
           "), iteration " + std::to_string(iteration) + ", store " + uri_;
  }

  std::vector<std::string> WithUri(std::vector<std::string> args) const {
    args.insert(args.begin(), {"--uri", uri_});
    return args;
  }
  RunResult Cli(const std::vector<std::string>& args, const std::string& stdin_text = "") {
    return clitest::Wait(clitest::Spawn(dir_, WithUri(args), clitest::WithStdin(stdin_text)));
  }
  void MustRun(const std::vector<std::string>& args, const std::string& stdin_text = "") {
    const RunResult run = Cli(args, stdin_text);
    ASSERT_EQ(run.exit_code, clitest::kOk) << clitest::Describe(run);
  }

  // On S3 a killed client's last requests are still served: a DeleteObjects batch sent just
  // before the kill goes on deleting after it. (A killed process's file writes end with it.)
  // The checks wait until two listings 300 ms apart agree, at most 10 s, so they judge what
  // the bucket holds once the requests in flight are done, not a moment in between.
  void AwaitRequestsInFlight() {
    try {
      auto db = Database::Connect({.uri = uri_});
      Resource& resource = db->resource(kResource);
      std::vector<std::string> before = resource.ListIds();
      for (int i = 0; i < 33; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        std::vector<std::string> now = resource.ListIds();
        if (now == before) return;
        before = std::move(now);
      }
    } catch (const Error&) {
      // No resource (yet): nothing to wait for; the checks say what is wrong.
    }
  }

  // Runs the command, sends SIGKILL after `delay`, and says whether it died of it.
  bool RunAndKill(const std::vector<std::string>& args, const std::string& stdin_text, Clock::duration delay,
                  Tally& tally) {
    const clitest::Child child = clitest::Spawn(dir_, WithUri(args), clitest::WithStdin(stdin_text));
    std::this_thread::sleep_for(delay);
    ::kill(child.pid, SIGKILL);  // a child that exited already is a zombie until Wait: still ours
    const RunResult run = clitest::Wait(child);
    ++tally.tried;
    if (run.exit_code == 128 + SIGKILL) {
      ++tally.killed;
      if (clitest::OnS3()) AwaitRequestsInFlight();
      return true;
    }
    ++tally.finished_first;
    EXPECT_EQ(run.exit_code, clitest::kOk) << "finished before the kill, but failed: " << clitest::Describe(run);
    return false;
  }

  // A delay anywhere in the command's run, as long as one uncrashed run took (`calibrated`).
  Clock::duration RandomDelay(Clock::duration calibrated) {
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(calibrated).count();
    std::uniform_int_distribution<long long> pick(0, std::max<long long>(1, micros));
    return std::chrono::microseconds(pick(random_));
  }

  Clock::duration Timed(const std::vector<std::string>& args, const std::string& stdin_text = "") {
    const auto start = Clock::now();
    MustRun(args, stdin_text);
    return Clock::now() - start;
  }

  // The resource as a fresh connection reads it: every record, decoded, must be one of
  // `allowed` versions (kAbsent: it may be missing); count == ids listed == records listed.
  // Returns how many records are in each version.
  std::map<Version, int> CheckRecords(const std::set<Version>& allowed) {
    std::map<Version, int> seen;
    auto db = Database::Connect({.uri = uri_});
    Resource& resource = db->resource(kResource);
    const std::vector<std::string> ids = resource.ListIds();
    const size_t count = resource.Count();
    const std::vector<Record> records = resource.GetAll();
    EXPECT_EQ(count, ids.size()) << "count differs from the ids listed";
    EXPECT_EQ(records.size(), ids.size()) << "records read differ from the ids listed";
    std::set<std::string> present;
    for (const Record& record : records) {
      present.insert(record.id);
      const int i = record.id.size() == 5 && record.id[0] == 'r' ? std::atoi(record.id.c_str() + 1) : -1;
      if (i < 0 || i >= records_ || IdOf(i) != record.id) {
        ADD_FAILURE() << "unexpected record " << record.id << ": " << record.data.dump();
        continue;
      }
      Version version = Version::kAbsent;
      if (record.data == OldRecord(i)) version = Version::kOld;
      if (record.data == NewRecord(i)) version = Version::kNew;
      if (version == Version::kAbsent || !allowed.count(version)) {
        ADD_FAILURE() << "record " << record.id << " is neither an allowed old nor new version: " << record.data.dump();
        continue;
      }
      ++seen[version];
    }
    const int absent = records_ - static_cast<int>(present.size());
    if (absent > 0) {
      EXPECT_TRUE(allowed.count(Version::kAbsent)) << absent << " records are missing";
      seen[Version::kAbsent] = absent;
    }
    return seen;
  }

  Json Repair(bool dry_run) {
    std::vector<std::string> args = {"repair", kResource};
    if (dry_run) args.push_back("--dry-run");
    const RunResult run = Cli(args);
    EXPECT_EQ(run.exit_code, clitest::kOk) << clitest::Describe(run);
    try {
      return Json::parse(run.out);
    } catch (const std::exception&) {
      ADD_FAILURE() << "repair printed no JSON: " << clitest::Describe(run);
      return Json::object();
    }
  }

  static bool Clean(const Json& report) {
    return report.value("orphans", -1) == 0 && report.value("missing", -1) == 0 &&
           report.value("staleTemporaries", -1) == 0 && report.value("failed", -1) == 0;
  }

  // The file store's temporary files, anywhere under it.
  int TemporaryFiles() const {
    if (clitest::OnS3() || !fs::exists(store_dir_)) return 0;
    int found = 0;
    for (const auto& entry : fs::recursive_directory_iterator(store_dir_)) {
      if (entry.path().filename().string().rfind(".tmp-", 0) == 0) ++found;
    }
    return found;
  }

  // Partitions verify clean, or repair makes them so; no temporary file survives it.
  void RepairUntilClean(Tally& tally) {
    const int temporaries = TemporaryFiles();
    tally.temporaries_left += temporaries;
    const Json dry = Repair(/*dry_run=*/true);
    EXPECT_EQ(dry.value("staleTemporaries", -1), temporaries) << dry.dump();
    if (!Clean(dry)) {
      ++tally.repair_needed;
      const Json fixed = Repair(/*dry_run=*/false);
      EXPECT_EQ(fixed.value("rebuilt", -1), dry.value("missing", -2)) << fixed.dump();
      EXPECT_EQ(fixed.value("temporariesRemoved", -1), temporaries) << fixed.dump();
    }
    const Json after = Repair(/*dry_run=*/true);
    EXPECT_TRUE(Clean(after)) << "partitions do not verify clean after repair: " << after.dump();
    EXPECT_EQ(TemporaryFiles(), 0);
  }

  // Every record is in one partition, the one its region names: the verified counts through
  // byRegion add up to the whole, and trusting the references gives the same numbers.
  void CheckRegionPartition(int eu, int us) {
    auto db = Database::Connect({.uri = uri_});
    Resource& resource = db->resource(kResource);
    for (const auto& [region, expected] : {std::pair<std::string, int>{"eu", eu}, {"us", us}}) {
      ListOptions options;
      options.partition = "byRegion";
      options.partition_values = {{"region", region}};
      EXPECT_EQ(resource.Count(options), static_cast<size_t>(expected)) << "byRegion " << region;
      options.verify = false;
      EXPECT_EQ(resource.Count(options), static_cast<size_t>(expected)) << "byRegion " << region << " unverified";
    }
  }

  void Report(const char* operation, const Tally& tally, Clock::time_point start) const {
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    std::cout << "[crash] " << operation << " on " << (clitest::OnS3() ? "rgw" : "file") << ": " << tally.tried
              << " kills, " << tally.killed << " mid-run, " << tally.finished_first << " after it finished, "
              << tally.repair_needed << " needed repair, " << tally.temporaries_left << " temporary files left, "
              << tally.reruns << " reruns completed; " << records_ << " records, " << seconds
              << " s; S3DB_CRASH_SEED=" << BaseSeed() << "\n";
  }

  void CreateResource() { MustRun({"resource", "create", kResource, "--schema", schema_v1_}); }
  void ImportOld() {
    CreateResource();
    MustRun({"import", kResource, old_file_});
  }

  // A step of Exercise: with no delay, the command run whole and timed (the calibration run);
  // else the command killed after `delay`. Returns how long the whole run took.
  auto Step(std::vector<std::string> args, std::string stdin_text = "") {
    return [this, args = std::move(args), stdin_text = std::move(stdin_text)](std::optional<Clock::duration> delay,
                                                                              Tally& tally) -> Clock::duration {
      if (!delay) return Timed(args, stdin_text);
      RunAndKill(args, stdin_text, *delay, tally);
      return Clock::duration::zero();
    };
  }

  // Each operation: a calibration run (uncrashed, timed, on its own store), then the kills.
  template <typename Setup, typename Crash, typename Check>
  void Exercise(const char* operation, Setup setup, Crash crash, Check check_and_rerun) {
    clitest::WriteFile(old_file_, JsonLinesOf(records_, OldRecord));
    clitest::WriteFile(new_file_, JsonLinesOf(records_, NewRecord));
    const auto start = Clock::now();
    Tally tally;
    FreshStore(-1);
    setup();
    if (HasFatalFailure()) return;
    const Clock::duration calibrated = crash(/*delay=*/std::nullopt, tally);
    for (int iteration = 0; iteration < iterations_ && !HasFailure(); ++iteration) {
      FreshStore(iteration);
      SCOPED_TRACE(Trace(iteration));
      setup();
      if (HasFatalFailure()) return;
      crash(RandomDelay(calibrated), tally);
      check_and_rerun(tally);
    }
    Report(operation, tally, start);
  }

  int iterations_ = 2;
  int records_ = 300;
  uint64_t seed_ = 0;
  std::mt19937_64 random_;
  std::string schema_v1_, schema_v2_, old_file_, new_file_;
  std::string uri_, store_dir_;
};

TEST_F(CrashConsistencyTest, ImportKilledThenRerun) {
  int iteration = 0;
  Exercise(
      "import", [&] { CreateResource(); }, Step({"import", kResource, new_file_}),
      [&](Tally& tally) {
        // Absent or new, never half; then repair, then the rerun completes it. Plain import
        // reports the ids the killed run wrote (exit 5); --upsert completes it with exit 0.
        const auto seen = CheckRecords({Version::kAbsent, Version::kNew});
        const int present = records_ - (seen.count(Version::kAbsent) ? seen.at(Version::kAbsent) : 0);
        RepairUntilClean(tally);
        const bool upsert = iteration++ % 2 == 1;
        std::vector<std::string> rerun = {"import", kResource, new_file_};
        if (upsert) rerun.push_back("--upsert");
        const RunResult run = Cli(rerun);
        const std::vector<std::string> lines = clitest::Lines(run.err);
        ASSERT_FALSE(lines.empty()) << clitest::Describe(run);
        if (upsert || present == 0) {
          EXPECT_EQ(run.exit_code, clitest::kOk) << clitest::Describe(run);
          EXPECT_EQ(lines.back(), "s3db: imported " + std::to_string(records_) + ", failed 0");
        } else {
          EXPECT_EQ(run.exit_code, clitest::kConflict) << clitest::Describe(run);
          EXPECT_EQ(lines.back(),
                    "s3db: imported " + std::to_string(records_ - present) + ", failed " + std::to_string(present));
          for (size_t l = 0; l + 1 < lines.size(); ++l) {
            EXPECT_NE(lines[l].find("already exists"), std::string::npos) << lines[l];
          }
        }
        EXPECT_EQ(CheckRecords({Version::kNew})[Version::kNew], records_);
        CheckRegionPartition(0, records_);
        EXPECT_TRUE(Clean(Repair(/*dry_run=*/true)));
        ++tally.reruns;
      });
}

TEST_F(CrashConsistencyTest, DeleteAllKilledThenRerun) {
  Exercise(
      "delete-all", [&] { ImportOld(); }, Step({"delete-all", kResource, "--yes"}),
      [&](Tally& tally) {
        const auto seen = CheckRecords({Version::kAbsent, Version::kOld});
        RepairUntilClean(tally);
        const int left = seen.count(Version::kOld) ? seen.at(Version::kOld) : 0;
        CheckRegionPartition(left, 0);
        const RunResult run = Cli({"delete-all", kResource, "--yes"});
        EXPECT_EQ(run.exit_code, clitest::kOk) << clitest::Describe(run);
        EXPECT_EQ(run.err, "s3db: deleted " + std::to_string(left) + "\n");
        EXPECT_EQ(CheckRecords({Version::kAbsent})[Version::kAbsent], records_);
        const Json after = Repair(/*dry_run=*/true);
        EXPECT_TRUE(Clean(after));
        EXPECT_EQ(after.value("references", -1), 0) << after.dump();
        ++tally.reruns;
      });
}

TEST_F(CrashConsistencyTest, PartitionMoveByUpsertImportKilledThenRerun) {
  Exercise(
      "partition move (import --upsert)", [&] { ImportOld(); }, Step({"import", kResource, new_file_, "--upsert"}),
      [&](Tally& tally) {
        const auto seen = CheckRecords({Version::kOld, Version::kNew});
        RepairUntilClean(tally);
        CheckRegionPartition(seen.count(Version::kOld) ? seen.at(Version::kOld) : 0,
                             seen.count(Version::kNew) ? seen.at(Version::kNew) : 0);
        MustRun({"import", kResource, new_file_, "--upsert"});
        EXPECT_EQ(CheckRecords({Version::kNew})[Version::kNew], records_);
        CheckRegionPartition(0, records_);
        EXPECT_TRUE(Clean(Repair(/*dry_run=*/true)));
        ++tally.reruns;
      });
}

TEST_F(CrashConsistencyTest, PartitionMoveByShellUpdatesKilledThenRerun) {
  // One process, one update per line: each moves a record from eu to us. Updates run one at
  // a time (four requests each), so fewer records keep the run short.
  records_ = std::min(records_, 60);
  std::string script;
  for (int i = 0; i < records_; ++i)
    script += "update " + std::string(kResource) + " " + IdOf(i) + " '" + NewRecord(i).dump() + "'\n";
  Exercise(
      "partition move (shell update)", [&] { ImportOld(); }, Step({"shell"}, script),
      [&](Tally& tally) {
        const auto seen = CheckRecords({Version::kOld, Version::kNew});
        RepairUntilClean(tally);
        CheckRegionPartition(seen.count(Version::kOld) ? seen.at(Version::kOld) : 0,
                             seen.count(Version::kNew) ? seen.at(Version::kNew) : 0);
        MustRun({"shell"}, script);  // an update that already landed lands again, the same
        EXPECT_EQ(CheckRecords({Version::kNew})[Version::kNew], records_);
        CheckRegionPartition(0, records_);
        EXPECT_TRUE(Clean(Repair(/*dry_run=*/true)));
        ++tally.reruns;
      });
}

TEST_F(CrashConsistencyTest, DefinitionChangeAndRebuildKilledThenRerun) {
  // A new resource version that adds a partition, then the rebuild of its references.
  const std::string script = "resource create " + std::string(kResource) + " --schema " + schema_v2_ +
                             " --if-not-exists\nrepair " + kResource + "\n";
  Exercise(
      "definition change + rebuild", [&] { ImportOld(); }, Step({"shell"}, script),
      [&](Tally& tally) {
        int version = 0;
        {
          auto db = Database::Connect({.uri = uri_});
          version = db->resource(kResource).version();
        }
        EXPECT_TRUE(version == 1 || version == 2) << "version " << version;
        CheckRecords({Version::kOld});
        RepairUntilClean(tally);
        MustRun({"shell"}, script);
        auto db = Database::Connect({.uri = uri_});
        Resource& resource = db->resource(kResource);
        EXPECT_EQ(resource.version(), 2);  // the rerun finds its definition recorded: no third version
        EXPECT_EQ(CheckRecords({Version::kOld})[Version::kOld], records_);
        ListOptions by_name;
        by_name.partition = "byName";
        by_name.partition_values = {{"name", "old-7"}};
        by_name.verify = false;
        EXPECT_EQ(resource.ListIds(by_name), std::vector<std::string>{IdOf(7)});
        EXPECT_TRUE(Clean(Repair(/*dry_run=*/true)));
        ++tally.reruns;
      });
}

}  // namespace
}  // namespace s3db::crashtest

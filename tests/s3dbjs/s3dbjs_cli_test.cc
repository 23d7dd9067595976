// `s3db migrate from-s3dbjs`, the real binary as a child process, on what the real s3db.js
// wrote (copied into a file store): the summary, the error report and exit codes, a kill -9
// in the middle and a Ctrl-C, each resumed by running the same command again.
#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "cli/cli_fixture.h"
#include "s3db/database.h"
#include "s3db/stores.h"
#include "s3dbjs_fixture.h"
#include "support/test_stores.h"

namespace s3db {
namespace {

namespace fs = std::filesystem;
using clitest::Describe;
using clitest::RunOptions;
using clitest::RunResult;

class S3dbJsMigrateCli : public ::testing::Test {
 protected:
  void SetUp() override {
    std::unique_ptr<ObjectStore> source;
    s3dbjs_testing::OpenFileStoreWithS3dbJsFixture((dir_.path() / "source").string(), &source);
    if (HasFatalFailure()) return;
    clitest::WriteFile((dir_.path() / "pass").string(), s3dbjs_testing::kFixturePassphrase);
  }

  std::vector<std::string> Migrate(std::vector<std::string> extra) const {
    std::vector<std::string> args = {"--passphrase-file",
                                     (dir_.path() / "pass").string(),
                                     "migrate",
                                     "from-s3dbjs",
                                     "--from",
                                     "file://" + (dir_.path() / "source").string(),
                                     "--to",
                                     "file://" + (dir_.path() / "target").string(),
                                     "--errors",
                                     (dir_.path() / "errors.jsonl").string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }
  RunResult Run(const std::vector<std::string>& args) const {
    return clitest::Wait(clitest::Spawn(dir_.path().string(), args, RunOptions{}));
  }
  std::vector<Json> ErrorReport() const {
    return clitest::JsonLines(clitest::ReadFile((dir_.path() / "errors.jsonl").string()));
  }
  size_t TargetObjects() const {
    size_t n = 0;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir_.path() / "target", ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      ++n;
    }
    return n;
  }
  // Runs the bulk migration and sends `signal` once it has written some records.
  RunResult RunAndSignal(int signal) const {
    clitest::Child child =
        clitest::Spawn(dir_.path().string(), Migrate({"--resources", "bulk", "--parallel", "2"}), RunOptions{});
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (TargetObjects() < 60 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    kill(child.pid, signal);
    return clitest::Wait(child);
  }
  size_t TargetCount(const std::string& resource) const {
    DatabaseOptions options;
    options.uri = "file://" + (dir_.path() / "target").string();
    options.passphrase = s3dbjs_testing::kFixturePassphrase;
    return Database::Connect(options)->resource(resource).Count();
  }

  testing::TempDir dir_;
};

TEST_F(S3dbJsMigrateCli, PrintsASummaryAndReportsWhatItCouldNotBringOver) {
  RunResult run = Run(Migrate({"--verify"}));
  ASSERT_EQ(run.exit_code, clitest::kInvalid) << Describe(run);
  const Json summary = Json::parse(run.out);
  EXPECT_EQ(summary["s3dbjs_version"], "21.6.2");
  EXPECT_EQ(summary["errors"], 1);
  EXPECT_EQ(summary["resources"].size(), 9u);
  for (const Json& r : summary["resources"]) {
    if (r["resource"] == "devices") continue;
    EXPECT_EQ(r["verified"], r["copied"]) << r.dump();
  }
  const std::vector<Json> report = ErrorReport();
  ASSERT_EQ(report.size(), 1u);
  EXPECT_EQ(report[0]["resource"], "devices");
  EXPECT_EQ(report[0]["code"], "unsupported");
  EXPECT_NE(run.err.find("'addr' (ip4|optional)"), std::string::npos) << run.err;
  EXPECT_EQ(run.err.find(s3dbjs_testing::kFixturePassphrase), std::string::npos);

  // Leaving the field out brings the resource over; the report gains nothing.
  run = Run(Migrate({"--resources", "devices", "--drop-untranslatable"}));
  ASSERT_EQ(run.exit_code, clitest::kOk) << Describe(run);
  EXPECT_EQ(ErrorReport().size(), 1u);
  run = Run({"--uri", "file://" + (dir_.path() / "target").string(), "get", "devices", "d1"});
  ASSERT_EQ(run.exit_code, clitest::kOk) << Describe(run);
  EXPECT_EQ(Json::parse(run.out), Json::parse(R"({"id": "d1", "label": "router"})"));
}

TEST_F(S3dbJsMigrateCli, KilledInTheMiddleItResumesWhereItStopped) {
  RunResult killed = RunAndSignal(SIGKILL);
  ASSERT_EQ(killed.exit_code, 128 + SIGKILL) << "finished before it could be killed: " << Describe(killed);
  RunResult resumed = Run(Migrate({"--resources", "bulk", "--verify"}));
  ASSERT_EQ(resumed.exit_code, clitest::kOk) << Describe(resumed);
  const Json summary = Json::parse(resumed.out)["resources"][0];
  EXPECT_TRUE(summary["resumed"].get<bool>());
  // The records after the last checkpoint are read again and found in place.
  EXPECT_LT(summary["copied"].get<size_t>(), static_cast<size_t>(s3dbjs_testing::kBulkRecords));
  EXPECT_EQ(summary["verified"], s3dbjs_testing::kBulkRecords);
  EXPECT_EQ(summary["mismatched"], 0);
  EXPECT_EQ(TargetCount("bulk"), static_cast<size_t>(s3dbjs_testing::kBulkRecords));
}

TEST_F(S3dbJsMigrateCli, CtrlCStopsAtACheckpointThatTheNextRunContinues) {
  RunResult stopped = RunAndSignal(SIGINT);
  ASSERT_EQ(stopped.exit_code, clitest::kStorage) << Describe(stopped);
  EXPECT_NE(stopped.err.find("interrupted; run the same command again to resume"), std::string::npos) << stopped.err;
  const Json first = Json::parse(stopped.out);
  EXPECT_TRUE(first["interrupted"].get<bool>());
  const size_t copied_first = first["resources"][0]["copied"];

  RunResult resumed = Run(Migrate({"--resources", "bulk"}));
  ASSERT_EQ(resumed.exit_code, clitest::kOk) << Describe(resumed);
  const Json second = Json::parse(resumed.out)["resources"][0];
  EXPECT_EQ(second["already_present"], 0);  // nothing done twice
  EXPECT_EQ(copied_first + second["copied"].get<size_t>(), static_cast<size_t>(s3dbjs_testing::kBulkRecords));
  EXPECT_EQ(TargetCount("bulk"), static_cast<size_t>(s3dbjs_testing::kBulkRecords));
}

TEST_F(S3dbJsMigrateCli, RefusesAnOlderS3dbJsNamingItsVersion) {
  FileStoreOptions options;
  options.root = (dir_.path() / "source").string();
  auto store = NewFileStore(options);
  ASSERT_TRUE(store.ok());
  Json catalog = Json::parse((*store)->Get("s3db.json")->body);
  catalog["s3dbVersion"] = "19.5.10";
  PutRequest put;
  put.key = "s3db.json";
  put.body = catalog.dump();
  ASSERT_TRUE((*store)->Put(put).ok());
  RunResult run = Run(Migrate({}));
  EXPECT_TRUE(clitest::FailedWith(run, clitest::kInvalid, "written by s3db.js 19.5.10; only s3db.js 21.x"));
  EXPECT_FALSE(fs::exists(dir_.path() / "target"));
}

TEST_F(S3dbJsMigrateCli, RefusesTheSourceAsTarget) {
  const std::string source = "file://" + (dir_.path() / "source").string();
  RunResult run = Run({"migrate", "from-s3dbjs", "--from", source, "--to", source});
  EXPECT_TRUE(clitest::FailedWith(run, clitest::kInvalid, "are the same place"));
  run = Run({"migrate", "from-s3dbjs", "--to", source});
  EXPECT_EQ(run.exit_code, clitest::kUsage) << Describe(run);
}

}  // namespace
}  // namespace s3db

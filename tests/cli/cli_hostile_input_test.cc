// Input a careless user or an attacker gives the command: each is a clear error with the
// documented exit code, never a crash, never a secret on stderr, nothing left behind.
#include "cli_fixture.h"

namespace s3db::clitest {
namespace {

std::string Deep(size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

class CliHostileInputTest : public CliTest {};

TEST_F(CliHostileInputTest, JsonNestedTooDeepIsExit4NotACrash) {
  CreateUsers();
  const std::string record = R"({"id":"deep","name":"Deep","email":"d@example.org","tags":)" + Deep(70000) + "}";
  EXPECT_TRUE(FailedWith(Run({"insert", "users"}, WithStdin(record)), kInvalid, "nested deeper than 100 levels"));
  const std::string file = WriteTemp("deep.jsonl", std::string(kAdaJson) + "\n" + record + "\n");
  EXPECT_TRUE(FailedWith(Run({"import", "users", file}), kInvalid, "line 2: invalid JSON: nested deeper than 100"));
  EXPECT_TRUE(FailedWith(Run({"update", "users", "ada", R"({"tags":)" + Deep(5000) + "}"}), kInvalid, "nested deeper"));
  const std::string schema =
      WriteTemp("deep.json", R"({"attributes":{"a":)" + std::string(100000, '{') + std::string(100000, '}') + "}}");
  EXPECT_TRUE(FailedWith(Run({"resource", "create", "deep", "--schema", schema}), kInvalid, "nested deeper than 100"));
  EXPECT_EQ(Count(), 0u);  // the valid first line of the import was not written either
}

TEST_F(CliHostileInputTest, ANumberTooLargeIsExit4NamingFileAndLine) {
  CreateUsers();
  const std::string file =
      WriteTemp("big.jsonl",
                std::string(kAdaJson) + "\n" + R"({"id":"b","name":"Big","email":"b@example.org","age":1e999})" + "\n");
  EXPECT_TRUE(FailedWith(Run({"import", "users", file}), kInvalid, file + " line 2: invalid JSON: number overflow"));
  EXPECT_TRUE(FailedWith(Run({"insert", "users", R"({"id":"b","age":1e999})"}), kInvalid, "number overflow"));
  EXPECT_EQ(Count(), 0u);
}

TEST_F(CliHostileInputTest, AParseErrorNeverQuotesTheValueItStoppedIn) {
  CreateUsers();
  // A secret with a control character: nlohmann's message would end "last read: '...'".
  const std::string record =
      std::string(R"({"id":"s","name":"S","email":"s@example.org","password":"hunter2-)") + '\x01' + R"(topsecret"})";
  const RunResult run = Run({"insert", "users"}, WithStdin(record));
  EXPECT_EQ(run.exit_code, kInvalid) << Describe(run);
  EXPECT_EQ(run.err.find("hunter2"), std::string::npos) << run.err;
  EXPECT_EQ(run.err.find("last read"), std::string::npos) << run.err;
  const std::string file = WriteTemp("bad.jsonl", R"({"id":"t","password":"s3cr3t-\q"})"
                                                  "\n");
  const RunResult import = Run({"import", "users", file});
  EXPECT_EQ(import.exit_code, kInvalid) << Describe(import);
  EXPECT_EQ(import.err.find("s3cr3t"), std::string::npos) << import.err;
}

TEST_F(CliHostileInputTest, ImportOfADirectoryIsAnErrorNotZeroRecords) {
  CreateUsers();
  fs::create_directories(dir_ + "/some-dir");
  EXPECT_TRUE(FailedWith(Run({"import", "users", dir_ + "/some-dir"}), kInvalid, "a directory"));
  EXPECT_TRUE(FailedWith(Run({"resource", "create", "x", "--schema", dir_ + "/some-dir"}), kInvalid, "a directory"));
  EXPECT_TRUE(FailedWith(Run({"--passphrase-file", dir_ + "/some-dir", "count", "users"}), kUsage, "a directory"));
}

TEST_F(CliHostileInputTest, EndlessInputIsRefusedNotReadIntoMemory) {
  CreateUsers();
  // /dev/zero never ends: a schema or passphrase file is bounded, so the command fails fast.
  EXPECT_TRUE(FailedWith(Run({"resource", "create", "z", "--schema", "/dev/zero"}), kInvalid, "larger than 16 MiB"));
  EXPECT_TRUE(FailedWith(Run({"--passphrase-file", "/dev/zero", "count", "users"}), kUsage, "larger than 1 MiB"));
}

TEST_F(CliHostileInputTest, ConcurrencyOutOfRangeIsUsage) {
  const RunResult run = RunRaw({"--uri", StoreUri(), "--concurrency", "1025", "resource", "list"});
  EXPECT_EQ(run.exit_code, kUsage) << Describe(run);
  EXPECT_EQ(RunRaw({"--uri", StoreUri(), "--concurrency", "0", "resource", "list"}).exit_code, kUsage);
  EXPECT_TRUE(Succeeded(RunRaw({"--uri", StoreUri(), "--concurrency", "1024", "resource", "list"})));
}

TEST_F(CliHostileInputTest, ReadingAMistypedPathLeavesNoDirectoriesBehind) {
  if (OnS3()) GTEST_SKIP() << "about file:// paths";
  const std::string typo = dir_ + "/no/such/store";
  EXPECT_EQ(RunRaw({"--uri", "file://" + typo, "count", "users"}).exit_code, kNotFound);
  EXPECT_TRUE(Succeeded(RunRaw({"--uri", "file://" + typo, "resource", "list"})));
  EXPECT_EQ(RunRaw({"--uri", "file://" + typo, "get", "users", "x"}).exit_code, kNotFound);
  EXPECT_FALSE(fs::exists(dir_ + "/no")) << "a read created the store's directories";
  // The first write makes the store.
  ASSERT_TRUE(Succeeded(RunRaw({"--uri", "file://" + typo, "resource", "create", "users", "--schema", kUsersSchema})));
  EXPECT_TRUE(fs::is_directory(typo));
}

TEST_F(CliHostileInputTest, OneCorruptRecordDoesNotLockTheResource) {
  if (OnS3()) GTEST_SKIP() << "empties an object file";
  CreateUsers();
  ImportExamples();
  std::string emptied;
  for (const auto& entry : fs::recursive_directory_iterator(dir_ + "/db")) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && name.rfind("id=grace", 0) == 0) emptied = entry.path();
  }
  ASSERT_FALSE(emptied.empty());
  std::ofstream(emptied, std::ios::trunc).close();

  EXPECT_EQ(Count(), 8u);
  const RunResult list = Run({"list", "users"});
  EXPECT_EQ(list.exit_code, kStorage) << Describe(list);
  EXPECT_EQ(JsonLines(list.out).size(), 7u);  // every other record is printed
  EXPECT_NE(list.err.find("users/grace: "), std::string::npos) << list.err;
  const RunResult query = Run({"query", "users", "{}"});
  EXPECT_EQ(query.exit_code, kStorage);
  EXPECT_EQ(JsonLines(query.out).size(), 7u);
  const RunResult repair = Run({"repair", "users"});
  EXPECT_EQ(repair.exit_code, kStorage) << Describe(repair);
  EXPECT_NE(repair.err.find("grace"), std::string::npos) << repair.err;
  EXPECT_TRUE(Succeeded(Run({"delete", "users", "grace"})));
  EXPECT_EQ(Count(), 7u);
  EXPECT_TRUE(Succeeded(Run({"list", "users"})));
  EXPECT_TRUE(Succeeded(Run({"resource", "drop", "users"})));
}

}  // namespace
}  // namespace s3db::clitest

// End-to-end tests of the `s3db` executable: each test runs the built binary as a child
// process (temp dir as cwd, stdin from a file, stdout/stderr captured, exit code checked)
// against a fresh file:// store, or against memory:// through `s3db shell`.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "s3db/object_store.h"
#include "s3db/stores.h"

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

const std::string kUsersSchema = std::string(S3DB_SOURCE_DIR) + "/examples/users.schema.json";
const std::string kUsersJsonl = std::string(S3DB_SOURCE_DIR) + "/examples/users.jsonl";

// The exit codes of docs/CLI.md.
constexpr int kOk = 0;
constexpr int kUsage = 2;
constexpr int kNotFound = 3;
constexpr int kInvalid = 4;
constexpr int kConflict = 5;
constexpr int kStorage = 6;

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

struct RunOptions {
  std::string stdin_text;
  std::string cwd;  // empty: the test's directory
  // Environment changes for the child: a value sets the variable, nullopt unsets it.
  // S3DB_URI is always unset unless given here, so the developer's own setting never leaks in.
  std::map<std::string, std::optional<std::string>> env;
};

RunOptions WithStdin(std::string text) {
  RunOptions options;
  options.stdin_text = std::move(text);
  return options;
}

RunOptions InDirectory(std::string cwd) {
  RunOptions options;
  options.cwd = std::move(cwd);
  return options;
}

RunOptions WithEnv(const std::string& name, std::string value) {
  RunOptions options;
  options.env[name] = std::move(value);
  return options;
}

std::string ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream file(path, std::ios::binary);
  file << text;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::vector<Json> JsonLines(const std::string& text) {
  std::vector<Json> values;
  for (const std::string& line : Lines(text)) values.push_back(Json::parse(line));
  return values;
}

// A child running the CLI. Its output goes to files, so a large output can never block it.
struct Child {
  pid_t pid = -1;
  std::string out_path;
  std::string err_path;
};

// A pipe whose closing releases children waiting on it, all at the same instant.
struct Gate {
  int read_fd = -1;
  int write_fd = -1;
};

// Spawns the CLI. With a gate, the child waits until the gate's write end is closed by
// everyone (it closes its own copy) before it execs.
Child Spawn(const std::string& work_dir, const std::vector<std::string>& args,
            const RunOptions& options, Gate gate = {}) {
  static int spawned = 0;
  const std::string tag = std::to_string(getpid()) + "-" + std::to_string(spawned++);
  const std::string in_path = work_dir + "/.stdin-" + tag;
  Child child{-1, work_dir + "/.stdout-" + tag, work_dir + "/.stderr-" + tag};
  WriteFile(in_path, options.stdin_text);

  std::vector<std::string> argv_storage = {S3DB_CLI_PATH};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : argv_storage) argv.push_back(arg.data());
  argv.push_back(nullptr);

  child.pid = fork();
  if (child.pid == 0) {
    if (gate.read_fd >= 0) {
      close(gate.write_fd);
      char byte;
      while (read(gate.read_fd, &byte, 1) < 0 && errno == EINTR) {
      }
      close(gate.read_fd);
    }
    const std::string cwd = options.cwd.empty() ? work_dir : options.cwd;
    if (chdir(cwd.c_str()) != 0) _exit(127);
    unsetenv("S3DB_URI");
    for (const auto& [name, value] : options.env) {
      if (value) {
        setenv(name.c_str(), value->c_str(), 1);
      } else {
        unsetenv(name.c_str());
      }
    }
    const int in = open(in_path.c_str(), O_RDONLY);
    const int out = open(child.out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int err = open(child.err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || out < 0 || err < 0) _exit(127);
    dup2(in, STDIN_FILENO);
    dup2(out, STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return child;
}

RunResult Wait(const Child& child) {
  RunResult result;
  int status = 0;
  while (waitpid(child.pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = ReadFile(child.out_path);
  result.err = ReadFile(child.err_path);
  fs::remove(child.out_path);
  fs::remove(child.err_path);
  return result;
}

std::string Describe(const RunResult& run) {
  return "exit " + std::to_string(run.exit_code) + "\nstdout:\n" + run.out + "\nstderr:\n" +
         run.err;
}

// The run exited with `code`; a failure wrote exactly one line, "s3db: ..." mentioning
// `needle`, and nothing on stdout.
::testing::AssertionResult FailedWith(const RunResult& run, int code, const std::string& needle) {
  if (run.exit_code != code) {
    return ::testing::AssertionFailure() << "expected exit " << code << ", got " << Describe(run);
  }
  const std::vector<std::string> lines = Lines(run.err);
  if (lines.size() != 1 || lines[0].rfind("s3db: ", 0) != 0) {
    return ::testing::AssertionFailure()
           << "expected one \"s3db: \" line on stderr, got " << Describe(run);
  }
  if (lines[0].find(needle) == std::string::npos) {
    return ::testing::AssertionFailure() << "stderr lacks \"" << needle << "\": " << Describe(run);
  }
  if (!run.out.empty()) {
    return ::testing::AssertionFailure() << "a failure printed on stdout: " << Describe(run);
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult Succeeded(const RunResult& run) {
  if (run.exit_code == kOk && run.err.empty()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << Describe(run);
}

// A record as printed, without the timestamps the store sets itself.
Json WithoutTimestamps(Json record) {
  record.erase("createdAt");
  record.erase("updatedAt");
  return record;
}

const char* kAdaJson = R"({"id":"ada","name":"Ada Lovelace","email":"ada@example.org","age":36,)"
                       R"("tags":["math"],"address":{"city":"London","country":"UK"}})";

// The suite runs once on file:// and, registered again with S3DB_CLI_TEST_BACKEND=s3
// (tests/CMakeLists.txt), on the real S3 server of $S3DB_TEST_S3_URI (docs/TESTING.md).
bool OnS3() {
  const char* backend = std::getenv("S3DB_CLI_TEST_BACKEND");
  return backend != nullptr && std::string(backend) == "s3";
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "s3db-cli-XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr) << std::strerror(errno);
    dir_ = pattern;
    if (OnS3()) {
      const char* base = std::getenv("S3DB_TEST_S3_URI");
      if (base == nullptr || *base == '\0') GTEST_SKIP() << "S3DB_TEST_S3_URI is not set: no S3 server to test on";
      // Each test its own prefix of the shared bucket: the temp dir's unique name.
      s3_uri_ = std::string(base) + "/cli-" + fs::path(dir_).filename().string() + "-" + std::to_string(getpid());
    }
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string StoreUri() const { return OnS3() ? s3_uri_ : "file://" + dir_ + "/db"; }

  // The CLI with exactly these arguments.
  RunResult RunRaw(const std::vector<std::string>& args, const RunOptions& options = {}) {
    return Wait(Spawn(dir_, args, options));
  }
  // The CLI on this test's file:// store.
  RunResult Run(std::vector<std::string> args, const RunOptions& options = {}) {
    args.insert(args.begin(), {"--uri", StoreUri()});
    return RunRaw(args, options);
  }
  // A script through `s3db --uri memory://... shell`.
  RunResult Shell(const std::string& script, const std::string& bucket = "cli-test") {
    return RunRaw({"--uri", "memory://" + bucket, "shell"}, WithStdin(script));
  }

  void CreateUsers(const std::string& name = "users") {
    ASSERT_TRUE(Succeeded(Run({"resource", "create", name, "--schema", kUsersSchema})));
  }
  void ImportExamples(const std::string& name = "users") {
    const RunResult run = Run({"import", name, kUsersJsonl});
    ASSERT_EQ(run.exit_code, kOk) << Describe(run);
    ASSERT_EQ(run.err, "s3db: imported 8, failed 0\n");
  }
  std::string Export(const std::string& name = "users") {
    const RunResult run = Run({"export", name});
    EXPECT_TRUE(Succeeded(run));
    return run.out;
  }
  size_t Count(const std::string& name = "users") {
    const RunResult run = Run({"count", name});
    EXPECT_TRUE(Succeeded(run));
    return std::stoul(run.out);
  }
  std::string WriteTemp(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    WriteFile(path, text);
    return path;
  }

  std::string dir_;
  std::string s3_uri_;
};

// ---- resources ----------------------------------------------------------------------------

TEST_F(CliTest, ResourceCreateListShowDrop) {
  const RunResult created = Run({"resource", "create", "users", "--schema", kUsersSchema});
  ASSERT_TRUE(Succeeded(created));
  const Json definition = Json::parse(created.out);
  EXPECT_EQ(definition["name"], "users");
  EXPECT_EQ(definition["version"], 1);
  EXPECT_EQ(definition["timestamps"], true);
  EXPECT_EQ(definition["attributes"]["address"]["country"], "string");

  CreateUsers("admins");
  EXPECT_EQ(Run({"resource", "list"}).out, "admins\nusers\n");
  EXPECT_EQ(Json::parse(Run({"--json", "resource", "list"}).out), Json({"admins", "users"}));

  const RunResult shown = Run({"resource", "show", "users"});
  ASSERT_TRUE(Succeeded(shown));
  EXPECT_EQ(Json::parse(shown.out), definition);

  ASSERT_TRUE(Succeeded(Run({"resource", "drop", "admins"})));
  EXPECT_EQ(Run({"resource", "list"}).out, "users\n");
  EXPECT_TRUE(FailedWith(Run({"resource", "show", "admins"}), kNotFound, "admins"));
  EXPECT_TRUE(FailedWith(Run({"resource", "drop", "admins"}), kNotFound, "admins"));
}

TEST_F(CliTest, ResourceCreateRejectsTakenNameAndBadSchemaFiles) {
  CreateUsers();
  EXPECT_TRUE(FailedWith(Run({"resource", "create", "users", "--schema", kUsersSchema}), kConflict,
                         "users"));
  EXPECT_TRUE(FailedWith(Run({"resource", "create", "x", "--schema", dir_ + "/absent.json"}),
                         kInvalid, "absent.json"));
  const std::string malformed = WriteTemp("malformed.json", R"({"attributes": {"name": )");
  EXPECT_TRUE(FailedWith(Run({"resource", "create", "x", "--schema", malformed}), kInvalid,
                         "malformed.json"));
  const std::string bad_rule =
      WriteTemp("bad_rule.json", R"({"attributes": {"name": "no-such-type"}})");
  EXPECT_TRUE(FailedWith(Run({"resource", "create", "x", "--schema", bad_rule}), kInvalid, ""));
  EXPECT_EQ(Run({"resource", "list"}).out, "users\n");
}

// ---- single records -----------------------------------------------------------------------

TEST_F(CliTest, InsertFromArgumentPrintsTheRecordAndGetReadsItBack) {
  CreateUsers();
  const RunResult inserted = Run({"insert", "users", kAdaJson});
  ASSERT_TRUE(Succeeded(inserted));
  const Json record = Json::parse(inserted.out);
  EXPECT_EQ(WithoutTimestamps(record), Json::parse(kAdaJson));
  EXPECT_TRUE(record.contains("createdAt"));  // the schema asks for timestamps

  const RunResult got = Run({"get", "users", "ada"});
  ASSERT_TRUE(Succeeded(got));
  EXPECT_EQ(Json::parse(got.out), record);
  EXPECT_EQ(Lines(got.out).size(), 1u);
}

TEST_F(CliTest, InsertWithoutIdGetsAGeneratedOne) {
  CreateUsers();
  const RunResult inserted = Run({"insert", "users",
                                  R"({"name":"Nobody","email":"n@example.org",)"
                                  R"("address":{"city":"Oslo","country":"NO"}})"});
  ASSERT_TRUE(Succeeded(inserted));
  const std::string id = Json::parse(inserted.out)["id"];
  EXPECT_EQ(id.size(), 22u);
  EXPECT_TRUE(std::all_of(id.begin(), id.end(), [](char c) { return std::isalnum(c) != 0; }));
  EXPECT_TRUE(Succeeded(Run({"get", "users", id})));
}

TEST_F(CliTest, MetaAddsEtagLastModifiedAndVersion) {
  CreateUsers();
  ASSERT_TRUE(Succeeded(Run({"insert", "users", kAdaJson})));
  const Json plain = Json::parse(Run({"get", "users", "ada"}).out);
  EXPECT_FALSE(plain.contains("_etag"));
  const Json with_meta = Json::parse(Run({"get", "users", "ada", "--meta"}).out);
  EXPECT_TRUE(with_meta["_etag"].is_string());
  EXPECT_TRUE(with_meta["_lastModified"].is_string());
  EXPECT_EQ(with_meta["_v"], 1);
  // The flag is global: before the command works as well as after it.
  EXPECT_EQ(Json::parse(Run({"--meta", "get", "users", "ada"}).out), with_meta);
}

TEST_F(CliTest, UnicodeSurvivesTheRoundTrip) {
  CreateUsers();
  const std::string name = "Jörg Schüßler-Ångström 李";
  const Json record = {{"id", "jorg"},
                       {"name", name},
                       {"email", "jorg@example.de"},
                       {"address", {{"city", "Zürich"}, {"country", "CH"}}}};
  ASSERT_TRUE(Succeeded(Run({"insert", "users", record.dump()})));
  const RunResult got = Run({"get", "users", "jorg"});
  EXPECT_EQ(Json::parse(got.out)["name"], name);
  EXPECT_NE(got.out.find(name), std::string::npos) << "printed as UTF-8, not \\u escapes";
}

TEST_F(CliTest, UpdateMergesNestedObjectsAndKeepsOtherFields) {
  CreateUsers();
  ASSERT_TRUE(Succeeded(Run({"insert", "users", kAdaJson})));
  const RunResult updated =
      Run({"update", "users", "ada", R"({"age":37,"address":{"city":"Paris"}})"});
  ASSERT_TRUE(Succeeded(updated));
  const Json record = Json::parse(updated.out);
  EXPECT_EQ(record["age"], 37);
  EXPECT_EQ(record["address"], Json({{"city", "Paris"}, {"country", "UK"}}));
  EXPECT_EQ(record["name"], "Ada Lovelace");
  EXPECT_EQ(record["tags"], Json({"math"}));
  EXPECT_EQ(Json::parse(Run({"get", "users", "ada"}).out), record);

  EXPECT_TRUE(FailedWith(Run({"update", "users", "nobody", R"({"age":1})"}), kNotFound, "nobody"));
  EXPECT_TRUE(FailedWith(Run({"update", "users", "ada", R"({"id":"grace"})"}), kInvalid, "grace"));
}

TEST_F(CliTest, UpsertInsertsWhenAbsentAndMergesWhenPresent) {
  CreateUsers();
  const RunResult inserted = Run(
      {"upsert", "users", "grace",
       R"({"name":"Grace Hopper","email":"grace@navy.mil","address":{"city":"NYC","country":"US"}})"});
  ASSERT_TRUE(Succeeded(inserted));
  EXPECT_EQ(Json::parse(inserted.out)["id"], "grace");
  EXPECT_EQ(Count(), 1u);

  const RunResult merged = Run({"upsert", "users", "grace", R"({"age":85})"});
  ASSERT_TRUE(Succeeded(merged));
  const Json record = Json::parse(merged.out);
  EXPECT_EQ(record["age"], 85);
  EXPECT_EQ(record["name"], "Grace Hopper");
  EXPECT_EQ(record["address"]["city"], "NYC");
  EXPECT_EQ(Count(), 1u);
}

TEST_F(CliTest, ExistsPrintsTrueOrFalseAndExitsZero) {
  CreateUsers();
  ASSERT_TRUE(Succeeded(Run({"insert", "users", kAdaJson})));
  const RunResult yes = Run({"exists", "users", "ada"});
  EXPECT_TRUE(Succeeded(yes));
  EXPECT_EQ(yes.out, "true\n");
  const RunResult no = Run({"exists", "users", "nobody"});
  EXPECT_TRUE(Succeeded(no));
  EXPECT_EQ(no.out, "false\n");
}

TEST_F(CliTest, DeleteRemovesOneOrManyAndNothingIfAnyIdIsMissing) {
  CreateUsers();
  ImportExamples();
  ASSERT_TRUE(Succeeded(Run({"delete", "users", "ada"})));
  EXPECT_EQ(Run({"exists", "users", "ada"}).out, "false\n");
  EXPECT_EQ(Count(), 7u);

  const std::string before = Export();
  EXPECT_TRUE(FailedWith(Run({"delete", "users", "grace", "nobody", "alan"}), kNotFound, "nobody"));
  EXPECT_EQ(Export(), before);

  ASSERT_TRUE(Succeeded(Run({"delete", "users", "grace", "alan", "grace"})));
  EXPECT_EQ(Count(), 5u);
  EXPECT_EQ(Run({"exists", "users", "alan"}).out, "false\n");
}

TEST_F(CliTest, IdsStartingWithADashFollowDoubleDash) {
  CreateUsers();
  ASSERT_TRUE(Succeeded(Run({"insert", "users",
                             R"({"id":"-dash","name":"Dash","email":"d@example.org",)"
                             R"("address":{"city":"x","country":"y"}})"})));
  const RunResult got = Run({"get", "users", "--", "-dash"});
  ASSERT_TRUE(Succeeded(got));
  EXPECT_EQ(Json::parse(got.out)["id"], "-dash");
}

// ---- reading many -------------------------------------------------------------------------

TEST_F(CliTest, ListAndIdsPageWithLimitAndOffset) {
  CreateUsers();
  ImportExamples();
  const std::vector<std::string> all = {"ada",    "alan",  "barbara", "donald",
                                        "edsger", "grace", "jorg",    "sophie"};
  EXPECT_EQ(Lines(Run({"ids", "users"}).out), all);
  EXPECT_EQ(Json::parse(Run({"--json", "ids", "users"}).out), Json(all));
  EXPECT_EQ(Lines(Run({"ids", "users", "--limit", "3", "--offset", "2"}).out),
            std::vector<std::string>({"barbara", "donald", "edsger"}));
  EXPECT_EQ(Run({"ids", "users", "--offset", "8"}).out, "");

  const std::vector<Json> page =
      JsonLines(Run({"list", "users", "--limit", "2", "--offset", "1"}).out);
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0]["id"], "alan");
  EXPECT_EQ(page[1]["id"], "barbara");
  EXPECT_EQ(page[1]["address"]["city"], "Cambridge");
  EXPECT_EQ(JsonLines(Run({"list", "users"}).out).size(), 8u);

  EXPECT_TRUE(FailedWith(Run({"ids", "users", "--limit", "-1"}), kUsage, "--limit"));
  EXPECT_TRUE(FailedWith(Run({"list", "users", "--offset", "two"}), kUsage, "--offset"));
}

TEST_F(CliTest, CountPrintsTheNumberAlone) {
  CreateUsers();
  EXPECT_EQ(Run({"count", "users"}).out, "0\n");
  ImportExamples();
  EXPECT_EQ(Run({"count", "users"}).out, "8\n");
}

TEST_F(CliTest, QueryMatchesANestedDotPath) {
  CreateUsers();
  ImportExamples();
  const RunResult uk = Run({"query", "users", R"({"address.country":"UK"})"});
  ASSERT_TRUE(Succeeded(uk));
  std::vector<std::string> ids;
  for (const Json& record : JsonLines(uk.out)) ids.push_back(record["id"]);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, std::vector<std::string>({"ada", "alan", "sophie"}));

  const RunResult two_fields =
      Run({"query", "users", R"({"address.country":"UK","active":true})", "--limit", "5"});
  ids.clear();
  for (const Json& record : JsonLines(two_fields.out)) ids.push_back(record["id"]);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, std::vector<std::string>({"ada", "sophie"}));

  EXPECT_EQ(Run({"query", "users", R"({"address.country":"FR"})"}).out, "");
  EXPECT_TRUE(FailedWith(Run({"query", "users", "[1]"}), kInvalid, "FILTER_JSON"));
}

// ---- partitions ---------------------------------------------------------------------------

// The seeds' form: partitions under "options", fields as an object (byte order of paths).
constexpr const char* kPeopleSchema = R"({
  "attributes": {"name": "string", "region": "string|optional",
                 "address": {"country": "string", "state": "string|optional"}},
  "options": {"partitions": {
    "byRegion": {"fields": {"region": "string"}},
    "byPlace": {"fields": {"address.country": "string|maxlength:2", "address.state": "string"}}}}})";

constexpr const char* kPeopleLines =
    R"({"id":"p1","name":"A","region":"eu","address":{"country":"Portugal","state":"Lisboa"}})"
    "\n"
    R"({"id":"p2","name":"B","region":"eu-west","address":{"country":"Poland","state":"Mazovia"}})"
    "\n"
    R"({"id":"p3","name":"C","region":"eu","address":{"country":"Portugal","state":"Porto"}})"
    "\n"
    R"({"id":"p4","name":"D","address":{"country":"Spain"}})"
    "\n";

class CliPartitionTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    if (IsSkipped()) return;
    CreatePeople(kPeopleSchema);
  }
  void CreatePeople(const std::string& schema) {
    const std::string path = WriteTemp("people.schema.json", schema);
    ASSERT_TRUE(Succeeded(Run({"resource", "create", "people", "--schema", path})));
    ASSERT_TRUE(Succeeded(Run({"insert", "people"}, WithStdin(kPeopleLines))));
  }
  // The test's store opened past the CLI, and the key prefix its URI names ("" or "p/").
  std::pair<std::unique_ptr<s3db::ObjectStore>, std::string> RawStore() {
    s3db::Result<s3db::StoreUri> uri = s3db::ParseStoreUri(StoreUri());
    EXPECT_TRUE(uri.ok());
    auto store = s3db::OpenStore(*uri);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return {std::move(store).value(), uri->prefix.empty() ? "" : uri->prefix + "/"};
  }
};

TEST_F(CliPartitionTest, IdsCountListAndQueryThroughAPartition) {
  const std::vector<std::string> by_eu = {"ids", "people", "--partition", "byRegion", "--value", "region=eu"};
  EXPECT_EQ(Lines(Run(by_eu).out), std::vector<std::string>({"p1", "p3"}));  // never eu-west
  EXPECT_EQ(Run({"ids", "people", "--partition", "byRegion", "--value", "region=eu-west"}).out, "p2\n");
  EXPECT_EQ(Run({"count", "people", "--partition", "byRegion", "--value", "region=eu"}).out, "2\n");
  EXPECT_EQ(Run({"count", "people"}).out, "4\n");
  const std::vector<Json> one =
      JsonLines(Run({"list", "people", "--partition", "byRegion", "--value", "region=eu", "--limit", "1",
                     "--offset", "1"})
                    .out);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0]["id"], "p3");
  // Two fields, repeated --value; the maxlength:2 rule applies to what is given too.
  EXPECT_EQ(Run({"ids", "people", "--partition", "byPlace", "--value", "address.country=Portugal", "--value",
                 "address.state=Porto"})
                .out,
            "p3\n");
  EXPECT_EQ(Lines(Run({"ids", "people", "--partition", "byPlace", "--value", "address.country=Po"}).out),
            std::vector<std::string>({"p1", "p2", "p3"}));
  const RunResult query = Run({"query", "people", R"({"name":"C"})", "--partition", "byRegion", "--value", "region=eu"});
  ASSERT_TRUE(Succeeded(query));
  EXPECT_EQ(JsonLines(query.out).at(0)["id"], "p3");
  EXPECT_EQ(JsonLines(Run({"query", "people", R"({"region":"eu"})"}).out).size(), 2u);
}

TEST_F(CliPartitionTest, BadPartitionArgumentsAreUsageOrInvalidInput) {
  EXPECT_TRUE(FailedWith(Run({"ids", "people", "--value", "region=eu"}), kUsage, "--partition"));
  EXPECT_TRUE(FailedWith(Run({"ids", "people", "--partition", "byRegion", "--value", "region"}), kUsage,
                         "FIELD=VALUE"));
  EXPECT_TRUE(FailedWith(Run({"count", "people", "--partition", "byNothing", "--value", "region=eu"}), kInvalid,
                         "no partition 'byNothing'"));
  EXPECT_TRUE(FailedWith(Run({"ids", "people", "--partition", "byPlace", "--value", "address.state=Porto"}),
                         kInvalid, "address.country"));
  const std::string bad = WriteTemp("bad.json", R"({"attributes": {"name": "string"},
      "partitions": {"byX": {"fields": {"nope": "string"}}}})");
  EXPECT_TRUE(FailedWith(Run({"resource", "create", "bad", "--schema", bad}), kInvalid, "partition 'byX'"));
}

TEST_F(CliPartitionTest, RepairReportsOrphansAndMissingReferencesThenMendsThem) {
  ASSERT_TRUE(Succeeded(Run({"update", "people", "p1", R"({"region":"us"})"})));
  auto [store, prefix] = RawStore();
  // An orphan (its record never existed) and a missing reference (p3's, as after a crash).
  s3db::PutRequest orphan;
  orphan.key = prefix + "resource=people/partition=byRegion/region=eu/id=ghost";
  ASSERT_TRUE(store->Put(orphan).ok());
  ASSERT_TRUE(store->Delete(prefix + "resource=people/partition=byRegion/region=eu/id=p3").ok());

  const RunResult dry = Run({"repair", "people", "--dry-run"});
  ASSERT_TRUE(Succeeded(dry));
  const Json report = Json::parse(dry.out);
  EXPECT_EQ(report["dryRun"], true);
  EXPECT_EQ(report["records"], 4);
  EXPECT_EQ(report["orphans"], 1);
  EXPECT_EQ(report["missing"], 1);
  EXPECT_EQ(report["removed"], 0);
  EXPECT_EQ(report["rebuilt"], 0);
  EXPECT_EQ(report["orphanExamples"][0]["id"], "ghost");
  EXPECT_EQ(report["orphanExamples"][0]["reason"], "record does not exist");
  EXPECT_EQ(report["missingExamples"][0]["id"], "p3");
  EXPECT_EQ(Run({"ids", "people", "--partition", "byRegion", "--value", "region=eu"}).out, "");
  // Trusting the index lists what the references say, the orphan included.
  EXPECT_EQ(Run({"ids", "people", "--partition", "byRegion", "--value", "region=eu", "--no-verify"}).out, "ghost\n");
  EXPECT_EQ(Run({"count", "people", "--partition", "byRegion", "--value", "region=eu", "--no-verify"}).out, "1\n");

  const RunResult fixed = Run({"repair", "people"});
  ASSERT_TRUE(Succeeded(fixed));
  EXPECT_EQ(Json::parse(fixed.out)["removed"], 1);
  EXPECT_EQ(Json::parse(fixed.out)["rebuilt"], 1);
  EXPECT_EQ(Run({"ids", "people", "--partition", "byRegion", "--value", "region=eu"}).out, "p3\n");
  const Json again = Json::parse(Run({"repair", "people"}).out);
  EXPECT_EQ(again["orphans"], 0);
  EXPECT_EQ(again["missing"], 0);
  EXPECT_TRUE(FailedWith(Run({"repair", "nobody"}), kNotFound, "nobody"));
}

TEST_F(CliTest, AsyncPartitionsAreWrittenBeforeTheCommandExits) {
  std::string schema = kPeopleSchema;
  schema.insert(schema.rfind('}'), R"(, "asyncPartitions": true)");
  const std::string path = WriteTemp("async.schema.json", schema);
  const RunResult created = Run({"resource", "create", "people", "--schema", path});
  ASSERT_TRUE(Succeeded(created));
  EXPECT_EQ(Json::parse(created.out)["asyncPartitions"], true);
  ASSERT_TRUE(Succeeded(Run({"insert", "people"}, WithStdin(kPeopleLines))));
  EXPECT_EQ(Lines(Run({"ids", "people", "--partition", "byRegion", "--value", "region=eu"}).out),
            std::vector<std::string>({"p1", "p3"}));
  ASSERT_TRUE(Succeeded(Run({"delete", "people", "p1"})));
  EXPECT_EQ(Run({"ids", "people", "--partition", "byRegion", "--value", "region=eu"}).out, "p3\n");
  const Json clean = Json::parse(Run({"repair", "people", "--dry-run"}).out);
  EXPECT_EQ(clean["orphans"], 0);
  EXPECT_EQ(clean["missing"], 0);
}

// ---- stdin batches ------------------------------------------------------------------------

TEST_F(CliTest, InsertFromStdinInsertsEveryLineAndPrintsEach) {
  CreateUsers();
  const std::string input =
      R"({"id":"u1","name":"One","email":"one@example.org","address":{"city":"a","country":"b"}})"
      "\n\n"
      R"({"id":"u2","name":"Two","email":"two@example.org","address":{"city":"a","country":"b"}})"
      "\r\n"
      R"({"name":"Three","email":"three@example.org","address":{"city":"a","country":"b"}})";
  const RunResult run = Run({"insert", "users"}, WithStdin(input));
  ASSERT_TRUE(Succeeded(run));
  const std::vector<Json> printed = JsonLines(run.out);
  ASSERT_EQ(printed.size(), 3u);
  EXPECT_EQ(printed[0]["id"], "u1");
  EXPECT_EQ(printed[1]["id"], "u2");
  EXPECT_EQ(printed[2]["name"], "Three");
  EXPECT_EQ(Count(), 3u);
}

TEST_F(CliTest, InsertFromStdinRejectsTheWholeBatchOnAnyBadLine) {
  CreateUsers();
  ImportExamples();
  const std::string before = Export();
  const std::string good =
      R"({"id":"new1","name":"New","email":"new@example.org","address":{"city":"a","country":"b"}})";

  // Malformed JSON on line 3, after a good line: named, nothing written.
  RunResult run = Run({"insert", "users"}, WithStdin(good + "\n\n{oops\n"));
  EXPECT_TRUE(FailedWith(run, kInvalid, "stdin line 3"));

  // A line that is JSON but not an object.
  run = Run({"insert", "users"}, WithStdin(good + "\n[1,2]\n"));
  EXPECT_TRUE(FailedWith(run, kInvalid, "stdin line 2"));

  // Valid JSON that fails the schema on line 2: found before the first write.
  run = Run({"insert", "users"},
            WithStdin(good + "\n" + R"({"id":"new2","name":"X","email":"nope"})" + "\n"));
  EXPECT_TRUE(FailedWith(run, kInvalid, "stdin line 2"));
  EXPECT_NE(run.err.find("name"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("email"), std::string::npos) << run.err;

  // An id that is taken, on line 2: a conflict, and the new line 1 is not written either.
  run = Run(
      {"insert", "users"},
      WithStdin(
          good + "\n" +
          R"({"id":"ada","name":"Ada","email":"a@example.org","address":{"city":"a","country":"b"}})"));
  EXPECT_TRUE(FailedWith(run, kConflict, "line 2"));

  // The same id twice in one batch.
  run = Run({"insert", "users"}, WithStdin(good + "\n" + good + "\n"));
  EXPECT_TRUE(FailedWith(run, kConflict, "line 2"));

  EXPECT_EQ(Export(), before);
}

TEST_F(CliTest, InsertFromStdinRejectsAUniqueValueGivenTwiceInTheBatch) {
  const std::string schema = WriteTemp("handles.json", R"({"attributes": {"handle": "string|unique"}})");
  ASSERT_TRUE(Succeeded(Run({"resource", "create", "handles", "--schema", schema})));
  const RunResult run = Run({"insert", "handles"},
                            WithStdin("{\"id\":\"a\",\"handle\":\"x\"}\n{\"id\":\"b\",\"handle\":\"y\"}\n"
                                      "{\"id\":\"c\",\"handle\":\"x\"}\n"));
  EXPECT_TRUE(FailedWith(run, kConflict, "stdin line 3"));
  EXPECT_NE(run.err.find("line 1"), std::string::npos) << run.err;
  EXPECT_EQ(Count("handles"), 0u);
}

// ---- import / export ----------------------------------------------------------------------

TEST_F(CliTest, ExportReimportedIntoAnotherResourceEqualsTheOriginal) {
  CreateUsers();
  ImportExamples();
  ASSERT_TRUE(Succeeded(Run({"update", "users", "ada", R"({"address":{"city":"Paris"}})"})));
  const std::string exported = Export();
  EXPECT_EQ(JsonLines(exported).size(), 8u);

  CreateUsers("users_copy");
  const RunResult imported = Run({"import", "users_copy", WriteTemp("export.jsonl", exported)});
  ASSERT_EQ(imported.exit_code, kOk) << Describe(imported);
  EXPECT_EQ(imported.err, "s3db: imported 8, failed 0\n");

  // Insert stamps createdAt/updatedAt afresh (the library has no way to keep given ones),
  // so the copy equals the original in everything else.
  const std::vector<Json> original = JsonLines(exported);
  const std::vector<Json> copy = JsonLines(Export("users_copy"));
  ASSERT_EQ(copy.size(), original.size());
  for (size_t i = 0; i < copy.size(); ++i) {
    EXPECT_EQ(WithoutTimestamps(copy[i]), WithoutTimestamps(original[i]));
  }
}

TEST_F(CliTest, ImportReportsEachFailureWithItsLineAndExitsWithTheWorst) {
  CreateUsers();
  ASSERT_TRUE(Succeeded(Run({"insert", "users", kAdaJson})));
  const std::string path = WriteTemp(
      "mixed.jsonl",
      R"({"id":"ok1","name":"Okay","email":"ok1@example.org","address":{"city":"a","country":"b"}})"
      "\n"
      R"({"id":"bad","name":"B","email":"bad@example.org","address":{"city":"a","country":"b"}})"
      "\n\n"
      R"({"id":"ada","name":"Ada again","email":"ada@example.org","address":{"city":"a","country":"b"}})"
      "\n");
  const RunResult run = Run({"import", "users", path});
  EXPECT_EQ(run.exit_code, kConflict) << Describe(run);  // conflict (5) outranks invalid (4)
  std::vector<std::string> lines = Lines(run.err);
  ASSERT_EQ(lines.size(), 3u) << run.err;
  EXPECT_EQ(lines[2], "s3db: imported 1, failed 2");
  // Records are written in parallel: failures come in the order they happen.
  std::sort(lines.begin(), lines.begin() + 2);
  EXPECT_NE(lines[0].find("line 2 (id bad)"), std::string::npos) << run.err;
  EXPECT_NE(lines[0].find("name (min)"), std::string::npos) << "fields listed: " << run.err;
  EXPECT_NE(lines[1].find("line 4 (id ada)"), std::string::npos) << run.err;
  EXPECT_EQ(run.out, "");
  EXPECT_EQ(Run({"exists", "users", "ok1"}).out, "true\n");

  const std::string invalid_only = WriteTemp(
      "invalid.jsonl",
      R"({"id":"ok2","name":"Okay","email":"ok2@example.org","address":{"city":"a","country":"b"}})"
      "\n"
      R"({"id":"bad2","name":"Bad","email":"not-an-email","address":{"city":"a","country":"b"}})");
  EXPECT_EQ(Run({"import", "users", invalid_only}).exit_code, kInvalid);
}

TEST_F(CliTest, ImportOfAMalformedFileImportsNothing) {
  CreateUsers();
  const std::string path = WriteTemp(
      "broken.jsonl",
      R"({"id":"ok1","name":"Okay","email":"ok1@example.org","address":{"city":"a","country":"b"}})"
      "\n{\"id\": \n");
  EXPECT_TRUE(FailedWith(Run({"import", "users", path}), kInvalid, "line 2"));
  EXPECT_EQ(Count(), 0u);
  EXPECT_TRUE(
      FailedWith(Run({"import", "users", dir_ + "/absent.jsonl"}), kInvalid, "absent.jsonl"));
  EXPECT_TRUE(FailedWith(Run({"import", "users", WriteTemp("x.csv", "id\n1\n")}), kUsage, "CSV"));
}

std::string UserLine(const std::string& id, const std::string& name = "Someone") {
  return R"({"id":")" + id + R"(","name":")" + name + R"(","email":")" + id +
         R"(@example.org","address":{"city":"a","country":"b"}})";
}

TEST_F(CliTest, ImportWithFailuresInTheMiddleImportsTheRestAndNamesTheirLines) {
  CreateUsers();
  ASSERT_TRUE(Succeeded(Run({"insert", "users", kAdaJson})));
  // 60 records over 64 lines (blank lines shift the numbering), 3 of them failing.
  std::string text;
  std::map<size_t, std::string> failing;  // line -> what its stderr line names
  size_t line_number = 0;
  for (int i = 0; i < 60; ++i) {
    if (i % 20 == 10) {
      text += "\n";
      ++line_number;
    }
    ++line_number;
    const std::string id = "r" + std::to_string(i);
    if (i == 17) {
      text += UserLine(id, "X") + "\n";  // name too short
      failing[line_number] = "(id r17): users/r17: invalid record: name (min)";
    } else if (i == 33) {
      text += UserLine("ada") + "\n";  // taken
      failing[line_number] = "(id ada): ";
    } else if (i == 45) {
      text += UserLine("bad/id") + "\n";  // not a valid id
      failing[line_number] = "(id bad/id): ";
    } else {
      text += UserLine(id) + "\n";
    }
  }
  text += "\n";
  const std::string path = WriteTemp("middle.jsonl", text);
  const RunResult run = Run({"import", "users", path});
  EXPECT_EQ(run.exit_code, kConflict) << Describe(run);
  const std::vector<std::string> lines = Lines(run.err);
  ASSERT_EQ(lines.size(), failing.size() + 1) << run.err;
  EXPECT_EQ(lines.back(), "s3db: imported 57, failed 3");
  for (const auto& [number, names] : failing) {
    const std::string label = path + " line " + std::to_string(number) + " " + names;
    EXPECT_EQ(std::count_if(lines.begin(), lines.end(),
                            [&](const std::string& l) { return l.find(label) != std::string::npos; }),
              1)
        << label << "\n" << run.err;
  }
  EXPECT_EQ(Count(), 58u);  // and ada
  EXPECT_EQ(Run({"exists", "users", "r59"}).out, "true\n");
  EXPECT_EQ(Run({"exists", "users", "r17"}).out, "false\n");
}

TEST_F(CliTest, ExportOfMoreThanAPageOfRecordsEqualsWhatWasImported) {
  CreateUsers();
  std::string text;
  std::vector<std::string> ids;
  for (int i = 0; i < 1100; ++i) {  // more than one listing page of 1000 keys
    ids.push_back("user" + std::to_string(i));
    text += UserLine(ids.back()) + "\n";
  }
  const RunResult imported = Run({"import", "users", WriteTemp("many.jsonl", text)});
  ASSERT_EQ(imported.exit_code, kOk) << Describe(imported);
  EXPECT_EQ(imported.err, "s3db: imported 1100, failed 0\n");  // no progress without a TTY

  const std::vector<Json> exported = JsonLines(Export());
  std::vector<std::string> exported_ids;
  for (const Json& record : exported) {
    exported_ids.push_back(record["id"]);
    EXPECT_EQ(record["email"], record["id"].get<std::string>() + "@example.org");
  }
  std::sort(ids.begin(), ids.end());  // ids of letters and digits sort as their keys do
  EXPECT_EQ(exported_ids, ids);
}

TEST_F(CliTest, ExportWritesJsonLinesOnlyForNow) {
  CreateUsers();
  ImportExamples();
  EXPECT_EQ(Run({"export", "users", "--format", "jsonl"}).out, Export());
  EXPECT_TRUE(FailedWith(Run({"export", "users", "--format", "csv"}), kUsage, "csv"));
}

// ---- persistence and defaults -------------------------------------------------------------

TEST_F(CliTest, SeparateInvocationsSeeEarlierWrites) {
  CreateUsers();
  ASSERT_TRUE(Succeeded(Run({"insert", "users", kAdaJson})));
  ASSERT_TRUE(Succeeded(Run({"update", "users", "ada", R"({"age":40})"})));
  // A fresh process, a fresh cwd: only the store carries state.
  const std::string elsewhere = dir_ + "/elsewhere";
  fs::create_directory(elsewhere);
  const RunResult got = Run({"get", "users", "ada"}, InDirectory(elsewhere));
  ASSERT_TRUE(Succeeded(got));
  EXPECT_EQ(Json::parse(got.out)["age"], 40);
  EXPECT_EQ(Run({"resource", "list"}, InDirectory(elsewhere)).out, "users\n");
}

TEST_F(CliTest, DefaultStoreIsS3dbDataInTheWorkingDirectory) {
  ASSERT_TRUE(Succeeded(RunRaw({"resource", "create", "users", "--schema", kUsersSchema})));
  EXPECT_TRUE(fs::is_directory(dir_ + "/s3db-data"));
  EXPECT_EQ(RunRaw({"resource", "list"}).out, "users\n");
  // $S3DB_URI replaces the default, and --uri replaces $S3DB_URI.
  const RunOptions with_env = WithEnv("S3DB_URI", StoreUri());
  EXPECT_EQ(RunRaw({"resource", "list"}, with_env).out, "");
  CreateUsers("in_env_store");
  EXPECT_EQ(RunRaw({"resource", "list"}, with_env).out, "in_env_store\n");
  EXPECT_EQ(RunRaw({"--uri", "file://./s3db-data", "resource", "list"}, with_env).out, "users\n");
}

TEST_F(CliTest, UsageErrorsNeverTouchTheStore) {
  EXPECT_EQ(RunRaw({"frobnicate"}).exit_code, kUsage);
  EXPECT_EQ(RunRaw({"insert", "users", "{not json"}).exit_code, kInvalid);
  EXPECT_FALSE(fs::exists(dir_ + "/s3db-data"));
}

// ---- exit codes ---------------------------------------------------------------------------

TEST_F(CliTest, UsageErrorsExitTwo) {
  EXPECT_TRUE(FailedWith(Run({}), kUsage, "a command is required"));
  EXPECT_TRUE(FailedWith(Run({"frobnicate"}), kUsage, "unknown command 'frobnicate'"));
  EXPECT_TRUE(FailedWith(Run({"resource", "rename"}), kUsage, "resource rename"));
  EXPECT_TRUE(FailedWith(Run({"get", "users"}), kUsage, "ID"));
  EXPECT_TRUE(FailedWith(Run({"get", "users", "ada", "extra"}), kUsage, "extra"));
  EXPECT_TRUE(FailedWith(Run({"update", "users", "ada"}), kUsage, "JSON"));
  EXPECT_TRUE(FailedWith(Run({"resource", "create", "users"}), kUsage, "--schema"));
  EXPECT_TRUE(FailedWith(Run({"--concurrency", "0", "count", "users"}), kUsage, "--concurrency"));
  EXPECT_TRUE(FailedWith(Run({"--no-such-flag", "count", "users"}), kUsage, "--no-such-flag"));

  const RunResult help = Run({"--help"});
  EXPECT_TRUE(Succeeded(help));
  EXPECT_NE(help.out.find("Exit codes"), std::string::npos);
}

TEST_F(CliTest, NotFoundExitsThree) {
  CreateUsers();
  EXPECT_TRUE(FailedWith(Run({"get", "users", "nobody"}), kNotFound, "nobody"));
  EXPECT_TRUE(FailedWith(Run({"delete", "users", "nobody"}), kNotFound, "nobody"));
  EXPECT_TRUE(FailedWith(Run({"get", "customers", "ada"}), kNotFound, "customers"));
  EXPECT_TRUE(FailedWith(Run({"count", "customers"}), kNotFound, "customers"));
  EXPECT_TRUE(FailedWith(Run({"insert", "customers", kAdaJson}), kNotFound, "customers"));
}

TEST_F(CliTest, InvalidInputExitsFourAndNamesEveryFailingField) {
  CreateUsers();
  EXPECT_TRUE(FailedWith(Run({"insert", "users", "{\"name\": "}), kInvalid, "JSON"));
  EXPECT_TRUE(FailedWith(Run({"insert", "users", "\"just a string\""}), kInvalid, "object"));
  EXPECT_TRUE(FailedWith(Run({"update", "users", "ada", "nope"}), kInvalid, "JSON"));

  const RunResult invalid =
      Run({"insert", "users", R"({"name":"A","email":"not-an-email","address":{"city":"Rome"}})"});
  ASSERT_TRUE(FailedWith(invalid, kInvalid, "users"));
  // One line, every field with path and rule; expected and actual where the library says.
  for (const char* path : {"name", "email", "address.country"}) {
    EXPECT_NE(invalid.err.find(path), std::string::npos) << path << " missing: " << invalid.err;
  }
  EXPECT_NE(invalid.err.find("(min)"), std::string::npos) << invalid.err;
  EXPECT_NE(invalid.err.find("not-an-email"), std::string::npos) << invalid.err;

  EXPECT_TRUE(FailedWith(RunRaw({"--uri", "ftp://x", "resource", "list"}), kInvalid, "ftp"));
  EXPECT_TRUE(FailedWith(Run({"get", "users", "a/b"}), kInvalid, "a/b"));
}

TEST_F(CliTest, ConflictsExitFive) {
  CreateUsers();
  ASSERT_TRUE(Succeeded(Run({"insert", "users", kAdaJson})));
  EXPECT_TRUE(FailedWith(Run({"insert", "users", kAdaJson}), kConflict, "ada"));
}

TEST_F(CliTest, StorageErrorsExitSix) {
  // A file:// root below a regular file cannot be created.
  const std::string file = WriteTemp("plain-file", "x");
  EXPECT_TRUE(FailedWith(RunRaw({"--uri", "file://" + file + "/db", "resource", "list"}), kStorage,
                         "plain-file"));
}

TEST_F(CliTest, FailingCommandsLeaveTheStoreUnchanged) {
  CreateUsers();
  ImportExamples();
  const std::string before = Export();
  const std::vector<std::vector<std::string>> failing = {
      {"insert", "users", kAdaJson},
      {"insert", "users", R"({"id":"zed","name":"Z","email":"z@example.org"})"},
      {"insert", "users", "{broken"},
      {"update", "users", "ada", R"({"email":"not-an-email"})"},
      {"update", "users", "ada", R"({"age":"old"})"},
      {"update", "users", "nobody", R"({"age":1})"},
      {"upsert", "users", "ada", R"({"name":"A"})"},
      {"upsert", "users", "zed", R"({"name":"Zed"})"},
      {"delete", "users", "ada", "nobody"},
      {"resource", "create", "users", "--schema", kUsersSchema},
      {"resource", "drop", "customers"},
      {"import", "users", dir_ + "/absent.jsonl"},
  };
  for (const std::vector<std::string>& args : failing) {
    const RunResult run = Run(args);
    EXPECT_NE(run.exit_code, kOk) << args[0] << " " << args[1] << ": " << Describe(run);
    EXPECT_EQ(Lines(run.err).size(), 1u) << Describe(run);
  }
  EXPECT_EQ(Count(), 8u);
  EXPECT_EQ(Export(), before);
  EXPECT_EQ(Run({"resource", "list"}).out, "users\n");
}

// ---- secrets ------------------------------------------------------------------------------

TEST_F(CliTest, SecretsInTheUriAreNeverPrinted) {
  // Endpoints point at a closed loopback port, so no test request leaves the machine.
  const std::vector<std::string> uris = {
      "s3://AKIA:supersecret@bucket?endpoint=http://127.0.0.1:1",
      "s3://AKIA:supersecret@bucket/prefix?endpoint=http://127.0.0.1:1&sessionToken=supersecret",
      "http://AKIA:supersecret@127.0.0.1:1/bucket",
      // Percent-encoded: decoded it is the same secret.
      "s3://AKIA:super%73ecret@bucket?endpoint=http://127.0.0.1:1",
      "s3://AKIA:supersecret@",                // malformed: no bucket
      "s3://AKIA:supersecret@bucket?bogus=1",  // malformed: unknown parameter
  };
  for (const std::string& uri : uris) {
    const RunResult run = RunRaw({"--uri", uri, "resource", "list"});
    EXPECT_TRUE(run.exit_code == kStorage || run.exit_code == kInvalid) << Describe(run);
    EXPECT_EQ(run.err.find("supersecret"), std::string::npos) << Describe(run);
    EXPECT_EQ(run.out.find("supersecret"), std::string::npos) << Describe(run);
    EXPECT_EQ(Lines(run.err).size(), 1u) << Describe(run);
  }
  // Also through $S3DB_URI and inside the shell.
  RunResult run = RunRaw({"count", "users"}, WithEnv("S3DB_URI", uris[0]));
  EXPECT_NE(run.exit_code, kOk);
  EXPECT_EQ(run.err.find("supersecret"), std::string::npos) << Describe(run);
  run = RunRaw({"--uri", uris[0], "shell"}, WithStdin("count users\n"));
  EXPECT_NE(run.exit_code, kOk);
  EXPECT_EQ(run.err.find("supersecret"), std::string::npos) << Describe(run);
  // Credentials the S3 store takes from the environment are never printed either.
  RunOptions env_credentials = WithEnv("AWS_SECRET_ACCESS_KEY", "envsecret");
  env_credentials.env["AWS_ACCESS_KEY_ID"] = "AKIA";
  run = RunRaw({"--uri", "s3://bucket?endpoint=http://127.0.0.1:1", "count", "users"},
               env_credentials);
  EXPECT_NE(run.exit_code, kOk);
  EXPECT_EQ(run.err.find("envsecret"), std::string::npos) << Describe(run);
}

// ---- two processes ------------------------------------------------------------------------

TEST_F(CliTest, TwoProcessesInsertingOneIdGiveOneSuccessAndOneConflict) {
  CreateUsers();
  for (int round = 0; round < 20; ++round) {
    const std::string record = Json({{"id", "racer" + std::to_string(round)},
                                     {"name", "Racer"},
                                     {"email", "racer@example.org"},
                                     {"address", {{"city", "Monza"}, {"country", "IT"}}}})
                                   .dump();
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    const Gate gate = {fds[0], fds[1]};
    const std::vector<std::string> args = {"--uri", StoreUri(), "insert", "users", record};
    const Child first = Spawn(dir_, args, {}, gate);
    const Child second = Spawn(dir_, args, {}, gate);
    close(gate.read_fd);
    close(gate.write_fd);  // releases both at once
    const RunResult a = Wait(first);
    const RunResult b = Wait(second);
    std::vector<int> codes = {a.exit_code, b.exit_code};
    std::sort(codes.begin(), codes.end());
    EXPECT_EQ(codes, std::vector<int>({kOk, kConflict})) << "round " << round << "\n"
                                                         << Describe(a) << "\n"
                                                         << Describe(b);
  }
  EXPECT_EQ(Count(), 20u);
}

// ---- shell --------------------------------------------------------------------------------

TEST_F(CliTest, ShellRunsAWholeSessionOnMemory) {
  const std::string script =
      "# users in memory only\n"
      "resource create users --schema '" +
      kUsersSchema +
      "'\n"
      "insert users '" +
      kAdaJson +
      "'\n"
      "\n"
      "   # an indented comment\n"
      "upsert users grace '{\"name\":\"Grace Hopper\",\"email\":\"g@navy.mil\","
      "\"address\":{\"city\":\"NYC\",\"country\":\"US\"}}'\n"
      "update users ada '{\"address\":{\"city\":\"Paris\"}}'\n"
      "get users ada\n"
      "exists users nobody\n"
      "query users '{\"address.country\":\"US\"}'\n"
      "ids users --limit 1 --offset 1\n"
      "count users\n"
      "delete users grace\n"
      "count users\n";
  const RunResult run = Shell(script);
  ASSERT_TRUE(Succeeded(run));
  const std::vector<std::string> lines = Lines(run.out);
  ASSERT_EQ(lines.size(), 10u) << run.out;
  EXPECT_EQ(Json::parse(lines[0])["name"], "users");
  EXPECT_EQ(Json::parse(lines[1])["id"], "ada");
  EXPECT_EQ(Json::parse(lines[2])["id"], "grace");
  EXPECT_EQ(Json::parse(lines[3])["address"], Json({{"city", "Paris"}, {"country", "UK"}}));
  EXPECT_EQ(Json::parse(lines[4]), Json::parse(lines[3]));
  EXPECT_EQ(lines[5], "false");
  EXPECT_EQ(Json::parse(lines[6])["id"], "grace");
  EXPECT_EQ(lines[7], "grace");
  EXPECT_EQ(lines[8], "2");
  EXPECT_EQ(lines[9], "1");
  // memory:// lives as long as the process: a new one starts empty.
  EXPECT_EQ(Shell("resource list\n").out, "");
}

TEST_F(CliTest, ShellGoesOnAfterErrorsAndExitsWithTheLastFailure) {
  const std::string create = "resource create users --schema " + kUsersSchema + "\n";
  RunResult run = Shell(create +
                        "get users nobody\n"  // 3
                        "insert users '" +
                        kAdaJson +
                        "'\n"
                        "insert users '" +
                        kAdaJson +
                        "'\n"  // 5
                        "count users\n");
  EXPECT_EQ(run.exit_code, kConflict) << Describe(run);
  const std::vector<std::string> errors = Lines(run.err);
  ASSERT_EQ(errors.size(), 2u) << run.err;
  EXPECT_EQ(errors[0].rfind("s3db: line 2: ", 0), 0u) << run.err;
  EXPECT_NE(errors[0].find("nobody"), std::string::npos) << run.err;
  EXPECT_EQ(errors[1].rfind("s3db: line 4: ", 0), 0u) << run.err;
  EXPECT_EQ(Lines(run.out).back(), "1");

  run = Shell(create + "frobnicate\ncount users\n");
  EXPECT_EQ(run.exit_code, kUsage) << Describe(run);
  EXPECT_NE(run.err.find("line 2: unknown command 'frobnicate'"), std::string::npos) << run.err;

  run = Shell(create + "get users nobody\n" + "count users\n");
  EXPECT_EQ(run.exit_code, kNotFound) << "the last failure counts, even if later ones succeed";

  run = Shell(create + "count users\n");
  EXPECT_EQ(run.exit_code, kOk);
}

TEST_F(CliTest, ShellSplitsWordsLikeAPosixShell) {
  const std::string create = "resource create users --schema \"" + kUsersSchema + "\"\n";
  // Double quotes with backslash escapes, a literal backslash kept before other characters,
  // single quotes, backslashes outside quotes, a trailing comment, an empty '' word, and a
  // quoted word that continues on the next line.
  const std::string script =
      create +
      R"(insert users "{\"id\":\"q1\",\"name\":\"Say \\\"hi\\\"\",\"email\":\"q@x.org\",\"address\":{\"city\":\"C:\\\\dir\",\"country\":\"b\"}}")"
      "\n"
      R"(get users q1 # a comment)"
      "\n"
      R"(insert users {\"id\":\"q2\",\"name\":\"Two\ words\",\"email\":\"t@x.org\",\"address\":{\"city\":\"a\",\"country\":\"b\"}})"
      "\n"
      R"(get users '')"
      "\n"
      "update users q2 '{\"tags\":\n[\"x\", \"y\"]}'\n"
      "ids \\\n users\n";
  const RunResult run = Shell(script);
  // From `get users ''`: an empty word reached the library (an empty id is invalid), where
  // a dropped word would have been a usage error.
  ASSERT_EQ(run.exit_code, kInvalid) << Describe(run);
  const std::vector<std::string> lines = Lines(run.out);
  ASSERT_EQ(lines.size(), 7u) << run.out;
  const Json q1 = Json::parse(lines[1]);
  EXPECT_EQ(q1["name"], "Say \"hi\"");
  EXPECT_EQ(q1["address"]["city"], "C:\\dir");
  EXPECT_EQ(Json::parse(lines[2]), q1);
  EXPECT_EQ(Json::parse(lines[3])["name"], "Two words");
  EXPECT_EQ(Json::parse(lines[4])["tags"], Json({"x", "y"}));
  EXPECT_EQ(lines[5], "q1");
  EXPECT_EQ(lines[6], "q2");
  EXPECT_NE(run.err.find("line 5: "), std::string::npos) << run.err;
}

TEST_F(CliTest, ShellReportsUnterminatedQuotesAndRejectsStdinCommands) {
  RunResult run = Shell("resource list\nget users \"open\n");
  EXPECT_EQ(run.exit_code, kUsage) << Describe(run);
  EXPECT_NE(run.err.find("line 2: unterminated double quote"), std::string::npos) << run.err;

  run = Shell("resource create users --schema " + kUsersSchema + "\ninsert users\n");
  EXPECT_EQ(run.exit_code, kUsage) << Describe(run);
  EXPECT_NE(run.err.find("line 2: "), std::string::npos) << run.err;

  run = Shell("shell\n");
  EXPECT_EQ(run.exit_code, kUsage) << Describe(run);
  run = Shell("--uri memory://other count users\n");
  EXPECT_EQ(run.exit_code, kUsage) << Describe(run);
}

TEST_F(CliTest, ShellFlagsApplyPerLineAndForTheWholeSession) {
  const std::string script = "resource create users --schema " + kUsersSchema + "\n" +
                             "insert users '" + kAdaJson + "'\n" +
                             "get users ada --meta\n"
                             "get users ada\n"
                             "ids users --json\n";
  RunResult run = Shell(script);
  ASSERT_TRUE(Succeeded(run));
  std::vector<std::string> lines = Lines(run.out);
  ASSERT_EQ(lines.size(), 5u) << run.out;
  EXPECT_TRUE(Json::parse(lines[2]).contains("_etag"));
  EXPECT_FALSE(Json::parse(lines[3]).contains("_etag")) << "a line's flag ends with the line";
  EXPECT_EQ(lines[4], R"(["ada"])");

  run = RunRaw({"--uri", "memory://flags", "--meta", "shell"}, WithStdin(script));
  ASSERT_TRUE(Succeeded(run));
  lines = Lines(run.out);
  ASSERT_EQ(lines.size(), 5u) << run.out;
  EXPECT_TRUE(Json::parse(lines[3]).contains("_etag")) << "the session's flag holds throughout";
}

TEST_F(CliTest, ShellOnFileStorePersistsForLaterInvocations) {
  const RunResult run = Run({"shell"}, WithStdin("resource create users --schema " + kUsersSchema +
                                                 "\n" + "insert users '" + kAdaJson + "'\n"));
  ASSERT_TRUE(Succeeded(run));
  EXPECT_EQ(Run({"exists", "users", "ada"}).out, "true\n");
}

TEST_F(CliTest, ShellWithAnUnusableUriFailsAtOnce) {
  const RunResult run = RunRaw({"--uri", "ftp://x", "shell"}, WithStdin("resource list\n"));
  EXPECT_TRUE(FailedWith(run, kInvalid, "ftp"));
}

// ---- the demo -----------------------------------------------------------------------------

TEST_F(CliTest, DemoScriptRunsTwiceOnTheSameStore) {
  const std::string command = "bash '" + std::string(S3DB_SOURCE_DIR) + "/scripts/demo.sh' '" +
                              S3DB_CLI_PATH + "' > '" + dir_ + "/demo.out' 2>&1";
  const std::string with_store = "S3DB_URI='" + StoreUri() + "' " + command;
  ASSERT_EQ(std::system(with_store.c_str()), 0) << ReadFile(dir_ + "/demo.out");
  ASSERT_EQ(std::system(with_store.c_str()), 0) << ReadFile(dir_ + "/demo.out");
  const std::string output = ReadFile(dir_ + "/demo.out");
  EXPECT_NE(output.find("$ s3db get users ada"), std::string::npos) << output;
  EXPECT_EQ(Count(), 8u);
}

}  // namespace

// ---- secret fields --------------------------------------------------------------------------

namespace {

class CliSecretTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    passphrase_file_ = WriteTemp("pass", "correct horse battery staple\n");
    schema_ = WriteTemp("acct.json", R"({"attributes": {"name": "string", "apiKey": "secret|min:8"}})");
  }
  RunResult WithPassphrase(std::vector<std::string> args, const RunOptions& options = {}) {
    args.insert(args.begin(), {"--passphrase-file", passphrase_file_});
    return Run(std::move(args), options);
  }
  std::string passphrase_file_, schema_;
};

TEST_F(CliSecretTest, SecretsRoundTripUnderThePassphraseAndNeverLeak) {
  ASSERT_TRUE(Succeeded(WithPassphrase({"resource", "create", "acct", "--schema", schema_})));
  ASSERT_TRUE(Succeeded(WithPassphrase({"insert", "acct", R"({"id":"a","name":"x","apiKey":"sk-live-12345"})"})));
  EXPECT_EQ(Json::parse(WithPassphrase({"get", "acct", "a"}).out)["apiKey"], "sk-live-12345");
  // The same passphrase from the environment.
  EXPECT_EQ(Json::parse(Run({"get", "acct", "a"}, WithEnv("S3DB_PASSPHRASE", "correct horse battery staple")).out)["apiKey"],
            "sk-live-12345");
  // Nothing on disk holds the plaintext.
  for (const auto& entry : fs::recursive_directory_iterator(OnS3() ? dir_ : dir_ + "/db")) {
    if (entry.is_regular_file()) {
      EXPECT_EQ(ReadFile(entry.path()).find("sk-live-12345"), std::string::npos) << entry.path();
    }
  }
  // A secret that fails a rule is never echoed.
  const RunResult invalid = WithPassphrase({"insert", "acct", R"({"id":"b","name":"x","apiKey":"short"})"});
  EXPECT_EQ(invalid.exit_code, kInvalid);
  EXPECT_EQ(invalid.err.find("short"), std::string::npos) << invalid.err;
  // Without the passphrase, or with a wrong one: exit 6, and the wrong one is not printed.
  EXPECT_EQ(Run({"get", "acct", "a"}).exit_code, kStorage);
  const std::string wrong = WriteTemp("wrong", "Tr0ub4dor&3-not-it\n");
  const RunResult denied = Run({"--passphrase-file", wrong, "get", "acct", "a"});
  EXPECT_EQ(denied.exit_code, kStorage);
  EXPECT_EQ(denied.err.find("Tr0ub4dor"), std::string::npos) << denied.err;
  EXPECT_EQ(denied.out, "");
}

TEST_F(CliSecretTest, UnreadableOrEmptyPassphraseFileIsUsage) {
  EXPECT_TRUE(FailedWith(Run({"--passphrase-file", dir_ + "/absent", "resource", "list"}), kUsage, "absent"));
  const std::string empty = WriteTemp("empty", "\n");
  EXPECT_TRUE(FailedWith(Run({"--passphrase-file", empty, "resource", "list"}), kUsage, "empty"));
}

TEST_F(CliSecretTest, RotateKeyReencryptsAndOldPassphraseStopsWorking) {
  ASSERT_TRUE(Succeeded(WithPassphrase({"resource", "create", "acct", "--schema", schema_})));
  ASSERT_TRUE(Succeeded(WithPassphrase({"insert", "acct", R"({"id":"a","name":"x","apiKey":"sk-live-12345"})"})));
  EXPECT_EQ(WithPassphrase({"rotate-key"}).exit_code, kUsage);  // no new passphrase given
  const std::string fresh = WriteTemp("fresh", "a brand new passphrase\n");
  const RunResult rotated = WithPassphrase({"rotate-key", "--new-passphrase-file", fresh});
  ASSERT_TRUE(Succeeded(rotated));
  const Json summary = Json::parse(rotated.out);
  EXPECT_EQ(summary["resources"][0]["resource"], "acct");
  EXPECT_EQ(summary["resources"][0]["rewritten"], 1);
  EXPECT_EQ(summary["resources"][0]["failed"], 0);
  EXPECT_EQ(Json::parse(Run({"--passphrase-file", fresh, "get", "acct", "a"}).out)["apiKey"], "sk-live-12345");
  EXPECT_EQ(WithPassphrase({"get", "acct", "a"}).exit_code, kStorage);
  const RunResult resumed = Run({"--passphrase-file", fresh, "rotate-key", "--resume"});
  ASSERT_TRUE(Succeeded(resumed));
  EXPECT_EQ(Json::parse(resumed.out)["resources"][0]["rewritten"], 0);
}

// ---- --costs and bench ----------------------------------------------------------------------

// The object of the one "costs: " line on stderr; fails the test unless there is exactly one.
Json CostsLine(const RunResult& run) {
  Json found;
  int lines = 0;
  for (const std::string& line : Lines(run.err)) {
    if (line.rfind("costs: ", 0) != 0) continue;
    ++lines;
    found = Json::parse(line.substr(7), nullptr, /*allow_exceptions=*/false);
  }
  EXPECT_EQ(lines, 1) << Describe(run);
  EXPECT_TRUE(found.is_object()) << Describe(run);
  return found;
}

TEST_F(CliTest, CostsFlagPrintsOneParseableLineAfterTheCommand) {
  CreateUsers();
  ASSERT_TRUE(Succeeded(Run({"insert", "users", kAdaJson})));

  const RunResult got = Run({"--costs", "get", "users", "ada"});
  ASSERT_EQ(got.exit_code, kOk) << Describe(got);
  EXPECT_EQ(Json::parse(got.out)["name"], "Ada Lovelace");
  const Json costs = CostsLine(got);
  ASSERT_TRUE(costs.contains("requests"));
  for (const char* kind : {"put", "get", "head", "list", "delete", "copy", "post"}) {
    EXPECT_TRUE(costs["requests"].contains(kind)) << kind;
  }
  // The catalog at connect, then the record.
  EXPECT_GE(costs["requests"]["get"].get<int>(), 2);
  EXPECT_EQ(costs["requests"]["put"], 0);
  EXPECT_EQ(costs["requests"]["delete"], 0);
  EXPECT_GT(costs["bytes_in"].get<int>(), 0);
  EXPECT_GE(costs["usd"].get<double>(), 0.0);
  // The flag may follow the command, like the other global options.
  const RunResult exists = Run({"exists", "users", "ada", "--costs"});
  ASSERT_EQ(exists.exit_code, kOk) << Describe(exists);
  EXPECT_GE(CostsLine(exists)["requests"]["head"].get<int>(), 1);
  // Without the flag: no line.
  EXPECT_TRUE(Succeeded(Run({"get", "users", "ada"})));
}

TEST_F(CliTest, CostsFlagPrintsTheLineAfterAFailureToo) {
  CreateUsers();
  const RunResult missing = Run({"--costs", "get", "users", "nobody"});
  EXPECT_EQ(missing.exit_code, kNotFound) << Describe(missing);
  const std::vector<std::string> lines = Lines(missing.err);
  ASSERT_EQ(lines.size(), 2u) << Describe(missing);
  EXPECT_EQ(lines[0].rfind("s3db: ", 0), 0u) << Describe(missing);
  EXPECT_GE(CostsLine(missing)["requests"]["get"].get<int>(), 2);  // the catalog and the miss

  const RunResult inserted = Run({"--costs", "insert", "users", kAdaJson});
  ASSERT_EQ(inserted.exit_code, kOk) << Describe(inserted);
  EXPECT_GE(CostsLine(inserted)["requests"]["put"].get<int>(), 1);
}

TEST_F(CliTest, CostsInTheShellArePrintedOnceAtExit) {
  const RunResult run =
      RunRaw({"--costs", "--uri", "memory://cli-costs-shell", "shell"},
             WithStdin("resource create users --schema " + kUsersSchema + "\ninsert users '" + kAdaJson +
                       "'\nget users ada\nget users ada\n"));
  ASSERT_EQ(run.exit_code, kOk) << Describe(run);
  const Json costs = CostsLine(run);
  EXPECT_GE(costs["requests"]["put"].get<int>(), 2);  // the catalog and the record
  EXPECT_GE(costs["requests"]["get"].get<int>(), 3);  // catalog, then two reads of the record
}

TEST_F(CliTest, BenchOnMemoryPrintsItsJsonLine) {
  const RunResult run = RunRaw({"--uri", "memory://cli-bench", "bench", "--n", "20"});
  ASSERT_EQ(run.exit_code, kOk) << Describe(run);
  const std::vector<std::string> lines = Lines(run.out);
  ASSERT_EQ(lines.size(), 1u) << Describe(run);
  const Json line = Json::parse(lines[0]);
  for (const char* step : {"insert", "get", "update", "list", "getAll", "count", "listIds_partition", "query",
                           "delete"}) {
    const std::string ops = std::string(step) + "_ops_s";
    const std::string requests = std::string(step) + "_requests";
    ASSERT_TRUE(line.contains(ops)) << ops << " in " << lines[0];
    EXPECT_GT(line[ops].get<double>(), 0.0) << ops;
    ASSERT_TRUE(line.contains(requests)) << requests << " in " << lines[0];
    EXPECT_GT(line[requests].get<int>(), 0) << requests;
  }
  EXPECT_EQ(line["n"], 20);
  EXPECT_EQ(line["errors"], 0);
  // --json is accepted (bench always prints JSON), and --costs counts its requests too.
  const RunResult costed = RunRaw({"--uri", "memory://cli-bench-2", "--costs", "bench", "--n", "5", "--json"});
  ASSERT_EQ(costed.exit_code, kOk) << Describe(costed);
  EXPECT_GE(CostsLine(costed)["requests"]["put"].get<int>(), 5);
  EXPECT_TRUE(FailedWith(RunRaw({"--uri", "memory://cli-bench-3", "bench", "--n", "0"}), kUsage, "--n"));
}

TEST_F(CliTest, BenchRunsAgainOnTheSameDatabaseAndUsesItsPassphrase) {
  // The workload has a secret field: the first run gives the database a key, the bench's own
  // passphrase when none is given, so a second run (another concurrency, say) can follow.
  const RunResult first = Run({"bench", "--n", "3"});
  ASSERT_EQ(first.exit_code, kOk) << Describe(first);
  const RunResult second = Run({"--concurrency", "4", "bench", "--n", "3"});
  ASSERT_EQ(second.exit_code, kOk) << Describe(second);
  // A passphrase that is given is the one used: here not the database's, so nothing runs.
  const RunResult wrong = Run({"bench", "--n", "3"}, WithEnv("S3DB_PASSPHRASE", "not the bench one"));
  EXPECT_EQ(wrong.exit_code, kStorage) << Describe(wrong);
  EXPECT_NE(wrong.err.find("passphrase is wrong"), std::string::npos) << wrong.err;
  EXPECT_EQ(wrong.err.find("not the bench one"), std::string::npos) << wrong.err;
}

}  // namespace

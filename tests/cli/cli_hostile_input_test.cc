// Input a careless user or an attacker gives the command: each is a clear error with the
// documented exit code, never a crash, never a secret on stderr, nothing left behind.
#include <chrono>

#include "cli_fixture.h"
#include "util/text.h"

namespace s3db::clitest {
namespace {

std::string Deep(size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

// Every file and directory under `root` (symlinks not followed) with its size and change
// time, except the fixture's own stdin/stdout/stderr files of each run.
using TreeSnapshot = std::map<std::string, std::string>;
TreeSnapshot Snapshot(const std::string& root) {
  TreeSnapshot tree;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
    const std::string name = it->path().filename().string();
    if (name.rfind(".stdin-", 0) == 0 || name.rfind(".stdout-", 0) == 0 || name.rfind(".stderr-", 0) == 0) continue;
    struct stat st {};
    if (lstat(it->path().c_str(), &st) != 0) continue;
    tree[fs::relative(it->path(), root).string()] = std::to_string(st.st_mode) + " " + std::to_string(st.st_size) +
                                                    " " + std::to_string(st.st_mtim.tv_sec) + "." +
                                                    std::to_string(st.st_mtim.tv_nsec);
  }
  return tree;
}

// What a refusal must look like beyond FailedWith: stderr is valid UTF-8 with no control
// character but the newline ending each line, however hostile the input it names.
::testing::AssertionResult StderrIsClean(const RunResult& run) {
  if (!util::IsValidUtf8(run.err)) return ::testing::AssertionFailure() << "stderr is not UTF-8: " << Describe(run);
  if (!run.err.empty() && run.err.back() != '\n') return ::testing::AssertionFailure() << "stderr ends mid-line";
  for (char c : run.err) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\n') || byte == 0x7F) {
      return ::testing::AssertionFailure()
             << "stderr holds control byte " << static_cast<int>(byte) << ": " << Describe(run);
    }
  }
  return ::testing::AssertionSuccess();
}

class CliHostileInputTest : public CliTest {
 protected:
  // Each command fails with exit 4, one clean stderr line holding `subject` and `cause`.
  void ExpectEachRefused(const std::vector<std::vector<std::string>>& commands, const std::string& subject,
                         const std::string& cause) {
    for (const std::vector<std::string>& command : commands) {
      SCOPED_TRACE(command[0] + " " + command[1]);
      const RunResult run = Run(command);
      EXPECT_TRUE(FailedWith(run, kInvalid, subject));
      EXPECT_NE(run.err.find(cause), std::string::npos) << run.err;
      EXPECT_TRUE(StderrIsClean(run));
    }
  }
};

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

// nlohmann's parser takes a NUL for the end of the input: a line "{...}\0{...}" would import
// its first half and drop the rest unsaid.
TEST_F(CliHostileInputTest, ANulByteInJsonInputIsExit4NamingTheLine) {
  CreateUsers();
  const std::string file =
      WriteTemp("nul.jsonl", std::string(kAdaJson) + "\n" + R"({"id":"b","name":"B","email":"b@example.org"})" +
                                 std::string("\0", 1) + R"({"id":"c"})" + "\n");
  EXPECT_TRUE(
      FailedWith(Run({"import", "users", file}), kInvalid, file + " line 2: invalid JSON: a NUL byte at byte 46"));
  const std::string schema = WriteTemp("nul.json", std::string(R"({"attributes":{"a":"string"}})") + '\0' + "x");
  EXPECT_TRUE(FailedWith(Run({"resource", "create", "nul", "--schema", schema}), kInvalid, "a NUL byte at byte 30"));
  EXPECT_EQ(Count(), 0u);
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

// ---- hostile names and ids (issue 18) -----------------------------------------------------
//
// A name or id is only ever part of an object key, never a path: the file store escapes every
// key (src/store/file_key_codec.h). These tests check the layer above never gets that far
// with one it refuses, that the refusal says why, and that nothing is written anywhere: the
// test's whole directory (the store and its parent) is the same before and after. An argv
// element cannot hold a NUL (exec takes C strings), so NUL is tried through JSON.

// Where a "../" that escaped the store would land, whatever the depth.
std::string Canary() { return "/tmp/s3db-hostile-canary-" + std::to_string(getpid()); }

struct HostileText {
  std::string text;
  std::string cause;  // what the error must say
};

std::vector<HostileText> HostileResourceNames() {
  return {
      {"..", "may contain only"},
      {".", "may contain only"},
      {"../evil", "may contain only"},
      {"a/b", "may contain only"},
      {"/etc", "may contain only"},
      {"../../../../../../../.." + Canary(), "may contain only"},
      {"\xff\xfe", "may contain only"},
      {"a\x01"
       "b",
       "may contain only"},
      {"\x1b[31mred", "may contain only"},
      {std::string(2048, 'r'), "has 2048 characters; the limit is 64"},
  };
}

std::vector<HostileText> HostileIds() {
  return {
      {"..", "is reserved"},
      {".", "is reserved"},
      {"../evil", "contains '/'"},
      {"a/b", "contains '/'"},
      {"/abs", "contains '/'"},
      {"../../../../../../../.." + Canary(), "contains '/'"},
      {"\xff", "is not valid UTF-8"},
      {"a\xc0\xaf"
       "b",
       "is not valid UTF-8"},                  // an overlong '/'
      {"\xed\xa0\x80", "is not valid UTF-8"},  // a UTF-16 surrogate
      {"a\x01"
       "b",
       "contains a control character"},
      {"\x1b[2J", "contains a control character"},
      {"tab\there", "contains a control character"},
      {std::string(257, 'i'), "has 257 bytes; the limit is 256"},
      {std::string(2048, 'i'), "has 2048 bytes; the limit is 256"},
      {std::string(64 * 1024, 'i'), "has 65536 bytes; the limit is 256"},
  };
}

TEST_F(CliHostileInputTest, HostileResourceNamesAreExit4AndWriteNothing) {
  CreateUsers();
  ASSERT_TRUE(Succeeded(Run({"insert", "users", kAdaJson})));
  const TreeSnapshot before = Snapshot(dir_);
  for (const HostileText& name : HostileResourceNames()) {
    SCOPED_TRACE(util::IsValidUtf8(name.text) ? name.text.substr(0, 80) : "(not UTF-8)");
    const std::vector<std::vector<std::string>> commands = {
        {"resource", "create", name.text, "--schema", kUsersSchema},
        {"resource", "show", name.text},
        {"resource", "drop", name.text},
        {"insert", name.text, kAdaJson},
        {"get", name.text, "ada"},
        {"update", name.text, "ada", R"({"age":1})"},
        {"upsert", name.text, "ada", R"({"age":1})"},
        {"delete", name.text, "ada"},
        {"exists", name.text, "ada"},
        {"count", name.text},
        {"list", name.text},
    };
    ExpectEachRefused(commands, "resource name ", name.cause);
  }
  EXPECT_EQ(Snapshot(dir_), before);
  EXPECT_FALSE(fs::exists(Canary()));
  EXPECT_EQ(Run({"resource", "list"}).out, "users\n");
}

TEST_F(CliHostileInputTest, HostileIdsInArgvAreExit4AndWriteNothing) {
  CreateUsers();
  ASSERT_TRUE(Succeeded(Run({"insert", "users", kAdaJson})));
  const TreeSnapshot before = Snapshot(dir_);
  for (const HostileText& id : HostileIds()) {
    SCOPED_TRACE(util::IsValidUtf8(id.text) ? id.text.substr(0, 80) : "(not UTF-8)");
    const std::vector<std::vector<std::string>> commands = {
        {"get", "users", "--", id.text},
        {"update", "users", "--", id.text, R"({"age":1})"},
        {"upsert", "users", "--", id.text, R"({"name":"Xx","email":"x@example.org"})"},
        {"delete", "users", "--", id.text},
        {"delete", "users", "--", "ada", id.text},  // the good id first: not deleted either
        {"exists", "users", "--", id.text},
    };
    ExpectEachRefused(commands, "id ", id.cause);
  }
  EXPECT_EQ(Snapshot(dir_), before);
  EXPECT_FALSE(fs::exists(Canary()));
  EXPECT_EQ(Count(), 1u);
}

// The record JSON of `id`, written by hand: nlohmann would refuse to write invalid UTF-8.
std::string RecordWithRawId(const std::string& raw_id_json) {
  return R"({"id":)" + raw_id_json +
         R"(,"name":"Hostile","email":"h@example.org","address":{"city":"X","country":"Y"}})";
}

TEST_F(CliHostileInputTest, HostileIdsInJsonAreExit4AndWriteNothing) {
  CreateUsers();
  const std::string good =
      R"({"id":"good","name":"Good","email":"g@example.org","address":{"city":"X","country":"Y"}})";
  // Ids that parse as JSON but are refused as ids: NUL and other escapes, paths, lengths.
  std::vector<HostileText> refused = {
      {R"("a\u0000b")", R"(id "a\x00b" contains a control character)"},
      {R"("\u0000")", "contains a control character"},
      {R"("..")", "is reserved"},
      {R"("..\/..\/x")", "contains '/'"},
      {R"("a/b")", "contains '/'"},
      {R"("\u001b[2J")", "contains a control character"},
      {"\"" + std::string(2048, 'i') + "\"", "has 2048 bytes; the limit is 256"},
      {"12", "the id must be a string"},
  };
  // Ids that are not even JSON: raw bytes that are not UTF-8, an unpaired surrogate escape.
  std::vector<HostileText> malformed = {
      {"\"\xff\xfe\"", "invalid JSON"},
      {"\"a\xc0\xaf"
       "b\"",
       "invalid JSON"},
      {R"("\ud800")", "invalid JSON"},
  };
  const TreeSnapshot before = Snapshot(dir_);
  for (const auto* cases : {&refused, &malformed}) {
    for (const HostileText& id : *cases) {
      SCOPED_TRACE(util::IsValidUtf8(id.text) ? id.text.substr(0, 80) : "(not UTF-8)");
      const std::string record = RecordWithRawId(id.text);
      const RunResult argument = Run({"insert", "users", record});
      EXPECT_TRUE(FailedWith(argument, kInvalid, id.cause));
      EXPECT_TRUE(StderrIsClean(argument));
      // From stdin the whole batch is refused, the good line too.
      const RunResult piped = Run({"insert", "users"}, WithStdin(good + "\n" + record + "\n"));
      EXPECT_TRUE(FailedWith(piped, kInvalid, "stdin line 2"));
      EXPECT_NE(piped.err.find(id.cause), std::string::npos) << piped.err;
      EXPECT_TRUE(StderrIsClean(piped));
      const RunResult upsert = Run({"upsert", "users", "ada", R"({"id":)" + id.text + "}"});
      EXPECT_EQ(upsert.exit_code, kInvalid) << Describe(upsert);
      EXPECT_TRUE(StderrIsClean(upsert));
    }
  }
  EXPECT_EQ(Snapshot(dir_), before);

  // import loads what it can: the good line lands, each bad one is a line of its own naming
  // the file line, and the exit code is 4.
  std::string lines = good + "\n";
  for (const HostileText& id : refused) lines += RecordWithRawId(id.text) + "\n";
  const std::string file = WriteTemp("hostile.jsonl", lines);
  const RunResult import = Run({"import", "users", file});
  EXPECT_EQ(import.exit_code, kInvalid) << Describe(import);
  EXPECT_TRUE(StderrIsClean(import));
  for (size_t i = 0; i < refused.size(); ++i) {
    EXPECT_NE(import.err.find("line " + std::to_string(i + 2)), std::string::npos) << import.err;
    EXPECT_NE(import.err.find(refused[i].cause), std::string::npos) << import.err;
  }
  EXPECT_NE(import.err.find("imported 1, failed " + std::to_string(refused.size())), std::string::npos) << import.err;
  // A file with bytes that are not UTF-8 is refused as JSON, naming the line.
  const std::string bad_bytes = WriteTemp("bytes.jsonl", good + "\n" + RecordWithRawId("\"\xff\"") + "\n");
  const RunResult bytes = Run({"import", "users", bad_bytes});
  EXPECT_TRUE(FailedWith(bytes, kInvalid, bad_bytes + " line 2: invalid JSON"));
  EXPECT_TRUE(StderrIsClean(bytes));
  const RunResult ids = Run({"ids", "users"});
  EXPECT_EQ(ids.out, "good\n") << Describe(ids);
}

// 16 MiB keeps the suite quick; by hand, a 100 MiB value takes the same paths (about 4 s of
// CPU and 450 MB of memory per command on the development machine).
TEST_F(CliHostileInputTest, AHugeValueIsStoredInTheBodyOrRefusedAsTooLarge) {
  if (OnS3()) GTEST_SKIP() << "the file store is enough; the path on S3 is the same above the store";
  CreateUsers();
  const std::string enforcing =
      WriteTemp("enforce.json", R"({"behavior":"enforce-limits","attributes":{"bio":"string"}})");
  ASSERT_TRUE(Succeeded(Run({"resource", "create", "strict", "--schema", enforcing})));
  const size_t kHuge = 16u << 20;
  const std::string line = R"({"id":"huge","bio":")" + std::string(kHuge, 'x') + "\"}\n";
  const std::string file = WriteTemp("huge.jsonl", line);

  // enforce-limits: a clear refusal naming the record and its size, nothing written.
  const TreeSnapshot before = Snapshot(dir_ + "/db");
  auto start = std::chrono::steady_clock::now();
  const RunResult refused = Run({"import", "strict", file});
  const double refuse_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(refused.exit_code, kInvalid) << refused.err.substr(0, 2000);
  EXPECT_NE(refused.err.find("record 'huge' of resource 'strict' needs " + std::to_string(kHuge + 5) +
                             " bytes of metadata; the limit is 2000"),
            std::string::npos)
      << refused.err.substr(0, 2000);
  EXPECT_LT(refused.err.size(), 4096u) << "the error quotes the value";
  EXPECT_EQ(Snapshot(dir_ + "/db"), before);

  // The default behavior (user-managed) keeps what does not fit in the object's body: the
  // value is stored whole and reads back whole.
  const std::string bio_schema = WriteTemp("bio.json", R"({"attributes":{"bio":"string"}})");
  ASSERT_TRUE(Succeeded(Run({"resource", "create", "bios", "--schema", bio_schema})));
  start = std::chrono::steady_clock::now();
  const RunResult stored = Run({"import", "bios", file});
  const double store_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(stored.exit_code, kOk) << stored.err.substr(0, 2000);
  const RunResult read = Run({"get", "bios", "huge"});
  ASSERT_EQ(read.exit_code, kOk) << read.err.substr(0, 2000);
  EXPECT_EQ(Json::parse(read.out)["bio"].get<std::string>().size(), kHuge);
  std::cout << "[ figures  ] 16 MiB value: refused (enforce-limits) in " << refuse_seconds
            << " s, imported into the body in " << store_seconds << " s\n";
}

TEST_F(CliHostileInputTest, CatastrophicPatternsMatchInLinearTimeOrAreRefused) {
  const std::string schema = WriteTemp("evil.json", R"({"attributes":{
      "s":{"type":"string","pattern":"^(a+)+$"},
      "t":{"type":"string","pattern":"^(a|a)*$","optional":true},
      "u":{"type":"string","pattern":"^(a|aa)+b$","optional":true}}})");
  ASSERT_TRUE(Succeeded(Run({"resource", "create", "evil", "--schema", schema})));
  // The classic inputs that make a backtracking matcher take exponential time: a long run
  // of 'a' and one character that fails the match at the very end.
  const std::string attack = std::string(1u << 20, 'a') + "!";
  const auto start = std::chrono::steady_clock::now();
  for (const char* field : {"s", "t", "u"}) {
    const Json record = {
        {"id", std::string("x") + field}, {"s", field == std::string("s") ? attack : "a"}, {field, attack}};
    const RunResult run = Run({"insert", "evil"}, WithStdin(record.dump()));
    EXPECT_TRUE(FailedWith(run, kInvalid, std::string(field) + " (pattern)"));
    EXPECT_LT(run.err.size(), 4096u) << "the error quotes the 1 MiB value";
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 30.0) << "three 1 MiB mismatches took " << seconds << " s";
  std::cout << "[ figures  ] three catastrophic patterns against 1 MiB inputs: refused in " << seconds << " s\n";
  // (On stdin: one argument is limited to 128 KiB by the kernel.)
  const RunResult matching =
      Run({"insert", "evil"}, WithStdin(Json({{"id", "ok"}, {"s", std::string(1u << 20, 'a')}}).dump()));
  EXPECT_EQ(matching.exit_code, kOk) << matching.err;

  // What RE2 cannot run in linear time, or would cost gigabytes, is refused at create.
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"(a*)\\1", "backreferences are not supported (they need backtracking) at offset 6"},
      {"(?=a)a", "lookaround assertions are not supported (they need backtracking) at offset 1"},
      {"(?<!a)b", "lookaround assertions are not supported"},
      {"(a{1000}){1000}", "too large once its repetitions are expanded (more than 20000 steps)"},
      {std::string(5000, '(') + std::string(5000, ')'), "groups nested more than 100 deep at offset 101"},
  };
  for (const auto& [pattern, cause] : refused) {
    SCOPED_TRACE(pattern.substr(0, 40));
    const std::string file =
        WriteTemp("refused.json", R"({"attributes":{"p":{"type":"string","pattern":)" + Json(pattern).dump() + "}}}");
    const RunResult run = Run({"resource", "create", "refused", "--schema", file});
    EXPECT_TRUE(FailedWith(run, kInvalid, "attribute 'p': rule 'pattern' is not a valid regular expression"));
    EXPECT_NE(run.err.find(cause), std::string::npos) << run.err;
  }
  EXPECT_EQ(Run({"resource", "list"}).out, "evil\n");
}

TEST_F(CliHostileInputTest, ANulOrControlCharacterInAFileUriIsExit4AndCreatesNothing) {
  const std::string parent = dir_ + "/nul";
  fs::create_directories(parent);
  for (const char* escape : {"%00", "%0A", "%1B", "%7F"}) {
    SCOPED_TRACE(escape);
    const std::string uri = "file://" + parent + "/store" + escape + "evil";
    const RunResult run = RunRaw({"--uri", uri, "resource", "create", "users", "--schema", kUsersSchema});
    EXPECT_TRUE(FailedWith(run, kInvalid, "the file:// path holds a control character"));
    EXPECT_TRUE(StderrIsClean(run));
  }
  // file:///.../store%00evil used to be the directory .../store.
  EXPECT_TRUE(fs::is_empty(parent)) << "a store was created in " << parent;
  // The same through $S3DB_URI.
  const RunResult env = RunRaw({"count", "users"}, WithEnv("S3DB_URI", "file://" + parent + "/store%00evil"));
  EXPECT_TRUE(FailedWith(env, kInvalid, "a NUL would cut it short"));
  EXPECT_TRUE(fs::is_empty(parent));
}

}  // namespace
}  // namespace s3db::clitest

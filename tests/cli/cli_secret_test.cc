// The `s3db` command end to end: secret fields, key rotation, --costs and bench.
#include "cli_fixture.h"
#include "s3db/database.h"

namespace s3db::clitest {
namespace {

// ---- secret fields --------------------------------------------------------------------------

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
  EXPECT_EQ(
      Json::parse(Run({"get", "acct", "a"}, WithEnv("S3DB_PASSPHRASE", "correct horse battery staple")).out)["apiKey"],
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

TEST_F(CliSecretTest, ALibraryAndTheCommandDeriveTheSameKeyFromOneFile) {
  // The seeds: `passphrase: fs.readFileSync("./cert.pem")`. A PEM file: several lines and a
  // final newline; the library's ReadPassphraseFile and --passphrase-file read it alike.
  const std::string pem = WriteTemp("cert.pem",
                                    "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUV3k=\n"
                                    "-----END CERTIFICATE-----\n");
  DatabaseOptions options;
  options.uri = StoreUri();
  options.passphrase = ReadPassphraseFile(pem);
  options.kdf_iterations = 1000;
  {
    auto db = Database::Connect(options);
    ResourceDefinition def;
    def.name = "vault";
    def.attributes = Json::parse(R"({"name": "string", "token": "secret"})");
    db->CreateResource(def).Insert({{"id", "lib"}, {"name", "from the library"}, {"token", "tok-from-lib"}});
  }
  const RunResult got = Run({"--passphrase-file", pem, "get", "vault", "lib"});
  ASSERT_TRUE(Succeeded(got)) << got.err;
  EXPECT_EQ(Json::parse(got.out)["token"], "tok-from-lib");
  ASSERT_TRUE(
      Succeeded(Run({"--passphrase-file", pem, "insert", "vault", R"({"id":"cli","name":"c","token":"tok-cli"})"})));
  auto db = Database::Connect(options);
  EXPECT_EQ(db->resource("vault").Get("cli").data["token"], "tok-cli");
  // The same file without its final newline is the same passphrase; other content is not.
  EXPECT_EQ(ReadPassphraseFile(WriteTemp("no-newline.pem", *options.passphrase)), *options.passphrase);
  EXPECT_EQ(
      Run({"--passphrase-file", WriteTemp("crlf.pem", *options.passphrase + "\r\n"), "get", "vault", "cli"}).exit_code,
      0);
  EXPECT_EQ(
      Run({"--passphrase-file", WriteTemp("other.pem", *options.passphrase + "x\n"), "get", "vault", "cli"}).exit_code,
      kStorage);
  // Errors name the file, never its content.
  try {
    ReadPassphraseFile(dir_ + "/absent.pem");
    ADD_FAILURE() << "an absent file was read";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("absent.pem"), std::string::npos) << e.what();
  }
  EXPECT_THROW(ReadPassphraseFile(WriteTemp("blank.pem", "\r\n")), InvalidArgument);
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
  const RunResult run = RunRaw({"--costs", "--uri", "memory://cli-costs-shell", "shell"},
                               WithStdin("resource create users --schema " + kUsersSchema + "\ninsert users '" +
                                         kAdaJson + "'\nget users ada\nget users ada\n"));
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
  for (const char* step :
       {"insert", "get", "update", "list", "getAll", "count", "listIds_partition", "query", "delete"}) {
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
}  // namespace s3db::clitest

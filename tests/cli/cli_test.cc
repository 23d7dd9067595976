// The `s3db` command end to end: resources, single records, reading many, exit codes,
// persistence and the shell.
#include "cli_fixture.h"
#include "s3db/version.h"

namespace s3db::clitest {
namespace {

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

TEST_F(CliTest, ResourceShowOutputCreatesTheSameResourceAndIfNotExistsIsIdempotent) {
  CreateUsers();
  const RunResult shown = Run({"resource", "show", "users"});
  ASSERT_TRUE(Succeeded(shown));
  const std::string path = WriteTemp("shown.json", shown.out);
  // Into a second store: the same definition, version 1.
  const RunResult copied =
      RunRaw({"--uri", "file://" + dir_ + "/other", "resource", "create", "users", "--schema", path});
  ASSERT_TRUE(Succeeded(copied)) << Describe(copied);
  EXPECT_EQ(Json::parse(copied.out), Json::parse(shown.out));
  // --if-not-exists: the existing resource is printed, exit 0; without it, a conflict.
  const RunResult again = Run({"resource", "create", "users", "--schema", path, "--if-not-exists"});
  ASSERT_TRUE(Succeeded(again)) << Describe(again);
  EXPECT_EQ(Json::parse(again.out)["version"], 1);
  EXPECT_TRUE(FailedWith(Run({"resource", "create", "users", "--schema", path}), kConflict, "users"));
}

TEST_F(CliTest, ResourceCreateRejectsTakenNameAndBadSchemaFiles) {
  CreateUsers();
  EXPECT_TRUE(FailedWith(Run({"resource", "create", "users", "--schema", kUsersSchema}), kConflict, "users"));
  EXPECT_TRUE(FailedWith(Run({"resource", "create", "x", "--schema", dir_ + "/absent.json"}), kInvalid, "absent.json"));
  const std::string malformed = WriteTemp("malformed.json", R"({"attributes": {"name": )");
  EXPECT_TRUE(FailedWith(Run({"resource", "create", "x", "--schema", malformed}), kInvalid, "malformed.json"));
  const std::string bad_rule = WriteTemp("bad_rule.json", R"({"attributes": {"name": "no-such-type"}})");
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
  const RunResult updated = Run({"update", "users", "ada", R"({"age":37,"address":{"city":"Paris"}})"});
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

TEST_F(CliTest, UpdateIfMatchWritesOnlyOverTheGivenEtag) {
  CreateUsers();
  ASSERT_TRUE(Succeeded(Run({"insert", "users", kAdaJson})));
  const std::string etag = Json::parse(Run({"get", "users", "ada", "--meta"}).out)["_etag"];
  ASSERT_FALSE(etag.empty());
  const RunResult first = Run({"update", "users", "ada", R"({"age":40})", "--if-match", etag});
  ASSERT_TRUE(Succeeded(first));
  // The ETag is now stale: the second writer is refused and nothing changes.
  EXPECT_TRUE(FailedWith(Run({"update", "users", "ada", R"({"age":41})", "--if-match", etag}), kConflict, "ada"));
  EXPECT_EQ(Json::parse(Run({"get", "users", "ada"}).out)["age"], 40);
}

TEST_F(CliTest, UpsertInsertsWhenAbsentAndMergesWhenPresent) {
  CreateUsers();
  const RunResult inserted =
      Run({"upsert", "users", "grace",
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
  const std::vector<std::string> all = {"ada", "alan", "barbara", "donald", "edsger", "grace", "jorg", "sophie"};
  EXPECT_EQ(Lines(Run({"ids", "users"}).out), all);
  EXPECT_EQ(Json::parse(Run({"--json", "ids", "users"}).out), Json(all));
  EXPECT_EQ(Lines(Run({"ids", "users", "--limit", "3", "--offset", "2"}).out),
            std::vector<std::string>({"barbara", "donald", "edsger"}));
  EXPECT_EQ(Run({"ids", "users", "--offset", "8"}).out, "");

  const std::vector<Json> page = JsonLines(Run({"list", "users", "--limit", "2", "--offset", "1"}).out);
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

  const RunResult two_fields = Run({"query", "users", R"({"address.country":"UK","active":true})", "--limit", "5"});
  ids.clear();
  for (const Json& record : JsonLines(two_fields.out)) ids.push_back(record["id"]);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, std::vector<std::string>({"ada", "sophie"}));

  EXPECT_EQ(Run({"query", "users", R"({"address.country":"FR"})"}).out, "");
  EXPECT_TRUE(FailedWith(Run({"query", "users", "[1]"}), kInvalid, "FILTER_JSON"));
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

TEST_F(CliTest, VersionIsTheProjectVersion) {
  const RunResult version = Run({"--version"});
  EXPECT_TRUE(Succeeded(version));
  EXPECT_EQ(version.out, std::string("s3db ") + S3DB_VERSION + "\n");  // project() in CMakeLists.txt
  EXPECT_STREQ(LibraryVersion(), S3DB_VERSION);
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
  EXPECT_TRUE(FailedWith(RunRaw({"--uri", "file://" + file + "/db", "resource", "list"}), kStorage, "plain-file"));
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
  run = RunRaw({"--uri", "s3://bucket?endpoint=http://127.0.0.1:1", "count", "users"}, env_credentials);
  EXPECT_NE(run.exit_code, kOk);
  EXPECT_EQ(run.err.find("envsecret"), std::string::npos) << Describe(run);
}

// ---- whoami -------------------------------------------------------------------------------

TEST_F(CliTest, WhoamiNamesTheCredentialSourceRegionAndEndpointWithSecretsMasked) {
  const std::string config = dir_ + "/aws-config";
  std::ofstream(config) << "[profile dev]\naws_access_key_id = AKIDWHOAMI0000WXYZ\n"
                           "aws_secret_access_key = whoamiSECRET\naws_session_token = whoamiTOKEN\n"
                           "region = eu-west-2\nendpoint_url = http://127.0.0.1:1\n";
  RunOptions env = WithEnv("AWS_CONFIG_FILE", config);
  env.env["AWS_PROFILE"] = "dev";
  env.env["HOME"] = dir_;
  for (const char* name : {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION",
                           "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"}) {
    env.env[name] = std::nullopt;
  }
  RunResult run = RunRaw({"--uri", "s3://bucket", "whoami"}, env);
  ASSERT_EQ(run.exit_code, kOk) << Describe(run);
  Json who = Json::parse(run.out);
  EXPECT_EQ(who["source"], "profile [dev] of " + config + " (static keys)");
  EXPECT_EQ(who["accessKeyId"], "AKID**********WXYZ");
  EXPECT_EQ(who["secretAccessKey"], "****");
  EXPECT_EQ(who["sessionToken"], true);
  EXPECT_EQ(who["region"], "eu-west-2");
  EXPECT_EQ(who["endpoint"], "http://127.0.0.1:1");
  EXPECT_TRUE(who["expiration"].is_null());
  EXPECT_EQ(run.out.find("whoamiSECRET"), std::string::npos);
  EXPECT_EQ(run.out.find("whoamiTOKEN"), std::string::npos);

  // The URI's own credentials and region win.
  run = RunRaw({"--uri", "s3://AKIDFROMTHEURI:urisecret@bucket?region=sa-east-1", "whoami"}, env);
  ASSERT_EQ(run.exit_code, kOk) << Describe(run);
  who = Json::parse(run.out);
  EXPECT_EQ(who["source"], "the connection string");
  EXPECT_EQ(who["region"], "sa-east-1");
  EXPECT_EQ(run.out.find("urisecret"), std::string::npos);

  // Nothing found: exit 4 and every source named.
  env.env["AWS_PROFILE"] = "absent";
  run = RunRaw({"--uri", "s3://bucket", "whoami"}, env);
  EXPECT_EQ(run.exit_code, 4) << Describe(run);
  EXPECT_NE(run.err.find("[absent]"), std::string::npos) << Describe(run);

  run = RunRaw({"--uri", "memory://x", "whoami"});
  EXPECT_EQ(run.exit_code, 4) << Describe(run);
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
  const std::string script = "resource create users --schema " + kUsersSchema + "\n" + "insert users '" + kAdaJson +
                             "'\n" +
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
  const RunResult run = Run({"shell"}, WithStdin("resource create users --schema " + kUsersSchema + "\n" +
                                                 "insert users '" + kAdaJson + "'\n"));
  ASSERT_TRUE(Succeeded(run));
  EXPECT_EQ(Run({"exists", "users", "ada"}).out, "true\n");
}

TEST_F(CliTest, ShellWithAnUnusableUriFailsAtOnce) {
  const RunResult run = RunRaw({"--uri", "ftp://x", "shell"}, WithStdin("resource list\n"));
  EXPECT_TRUE(FailedWith(run, kInvalid, "ftp"));
}

// ---- the demo -----------------------------------------------------------------------------

TEST_F(CliTest, DemoScriptRunsTwiceOnTheSameStore) {
  const std::string command = "bash '" + std::string(S3DB_SOURCE_DIR) + "/scripts/demo.sh' '" + S3DB_CLI_PATH +
                              "' > '" + dir_ + "/demo.out' 2>&1";
  const std::string with_store = "S3DB_URI='" + StoreUri() + "' " + command;
  ASSERT_EQ(std::system(with_store.c_str()), 0) << ReadFile(dir_ + "/demo.out");
  ASSERT_EQ(std::system(with_store.c_str()), 0) << ReadFile(dir_ + "/demo.out");
  const std::string output = ReadFile(dir_ + "/demo.out");
  EXPECT_NE(output.find("$ s3db get users ada"), std::string::npos) << output;
  EXPECT_EQ(Count(), 8u);
}

}  // namespace
}  // namespace s3db::clitest

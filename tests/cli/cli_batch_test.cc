// The `s3db` command end to end: partitions, stdin batches, import and export, two
// processes at once.
#include "cli_fixture.h"

namespace s3db::clitest {
namespace {

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
  const std::vector<Json> one = JsonLines(
      Run({"list", "people", "--partition", "byRegion", "--value", "region=eu", "--limit", "1", "--offset", "1"}).out);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0]["id"], "p3");
  // Two fields, repeated --value; the maxlength:2 rule applies to what is given too.
  EXPECT_EQ(Run({"ids", "people", "--partition", "byPlace", "--value", "address.country=Portugal", "--value",
                 "address.state=Porto"})
                .out,
            "p3\n");
  EXPECT_EQ(Lines(Run({"ids", "people", "--partition", "byPlace", "--value", "address.country=Po"}).out),
            std::vector<std::string>({"p1", "p2", "p3"}));
  const RunResult query =
      Run({"query", "people", R"({"name":"C"})", "--partition", "byRegion", "--value", "region=eu"});
  ASSERT_TRUE(Succeeded(query));
  EXPECT_EQ(JsonLines(query.out).at(0)["id"], "p3");
  EXPECT_EQ(JsonLines(Run({"query", "people", R"({"region":"eu"})"}).out).size(), 2u);
}

TEST_F(CliPartitionTest, BadPartitionArgumentsAreUsageOrInvalidInput) {
  EXPECT_TRUE(FailedWith(Run({"ids", "people", "--value", "region=eu"}), kUsage, "--partition"));
  EXPECT_TRUE(
      FailedWith(Run({"ids", "people", "--partition", "byRegion", "--value", "region"}), kUsage, "FIELD=VALUE"));
  EXPECT_TRUE(FailedWith(Run({"count", "people", "--partition", "byNothing", "--value", "region=eu"}), kInvalid,
                         "no partition 'byNothing'"));
  EXPECT_TRUE(FailedWith(Run({"ids", "people", "--partition", "byPlace", "--value", "address.state=Porto"}), kInvalid,
                         "address.country"));
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
  const std::string input = R"({"id":"u1","name":"One","email":"one@example.org","address":{"city":"a","country":"b"}})"
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
  run = Run({"insert", "users"}, WithStdin(good + "\n" + R"({"id":"new2","name":"X","email":"nope"})" + "\n"));
  EXPECT_TRUE(FailedWith(run, kInvalid, "stdin line 2"));
  EXPECT_NE(run.err.find("name"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("email"), std::string::npos) << run.err;

  // An id that is taken, on line 2: a conflict, and the new line 1 is not written either.
  run = Run({"insert", "users"},
            WithStdin(good + "\n" +
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
  const RunResult run =
      Run({"insert", "handles"}, WithStdin("{\"id\":\"a\",\"handle\":\"x\"}\n{\"id\":\"b\",\"handle\":\"y\"}\n"
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
      "mixed.jsonl", R"({"id":"ok1","name":"Okay","email":"ok1@example.org","address":{"city":"a","country":"b"}})"
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
      "invalid.jsonl", R"({"id":"ok2","name":"Okay","email":"ok2@example.org","address":{"city":"a","country":"b"}})"
                       "\n"
                       R"({"id":"bad2","name":"Bad","email":"not-an-email","address":{"city":"a","country":"b"}})");
  EXPECT_EQ(Run({"import", "users", invalid_only}).exit_code, kInvalid);
}

TEST_F(CliTest, ImportOfAMalformedFileImportsNothing) {
  CreateUsers();
  const std::string path = WriteTemp(
      "broken.jsonl", R"({"id":"ok1","name":"Okay","email":"ok1@example.org","address":{"city":"a","country":"b"}})"
                      "\n{\"id\": \n");
  EXPECT_TRUE(FailedWith(Run({"import", "users", path}), kInvalid, "line 2"));
  EXPECT_EQ(Count(), 0u);
  EXPECT_TRUE(FailedWith(Run({"import", "users", dir_ + "/absent.jsonl"}), kInvalid, "absent.jsonl"));
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
        << label << "\n"
        << run.err;
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

TEST_F(CliTest, ExportWritesJsonLinesByDefault) {
  CreateUsers();
  ImportExamples();
  EXPECT_EQ(Run({"export", "users", "--format", "jsonl"}).out, Export());
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

}  // namespace
}  // namespace s3db::clitest

// The `s3db` command end to end: CSV export and import, and delete-all.
#include "cli_fixture.h"

namespace s3db::clitest {
namespace {

// A record with everything CSV must quote: commas, quotes, a line break, an array holding a
// comma, and an empty string.
const Json kAwkward = {{"id", "awk"},
                       {"name", "O'Brien, \"Pat\"\nthe second"},
                       {"email", "pat@example.org"},
                       {"age", 2.5},
                       {"active", false},
                       {"tags", {"a, b", "c\"d"}},
                       {"address", {{"city", ""}, {"country", "IE"}}}};

std::string CsvUser(const std::string& id, const std::string& name = "Someone") {
  return id + "," + name + "," + id + "@example.org,City,CC\r\n";
}
constexpr const char* kCsvHeader = "id,name,email,address.city,address.country\r\n";

TEST_F(CliTest, ExportAsCsvReimportedIntoAnotherResourceEqualsTheOriginal) {
  CreateUsers();
  ImportExamples();
  ASSERT_TRUE(Succeeded(Run({"insert", "users", kAwkward.dump()})));
  const RunResult exported = Run({"export", "users", "--format", "csv"});
  ASSERT_TRUE(Succeeded(exported));
  // id first, the attributes (nested ones by dot path), then the timestamps.
  EXPECT_EQ(exported.out.substr(0, exported.out.find("\r\n")),
            "id,active,address.city,address.country,age,email,name,tags,createdAt,updatedAt");
  EXPECT_NE(exported.out.find("awk,false,\"\",IE,2.5,pat@example.org,\"O'Brien, \"\"Pat\"\"\nthe second\","
                              "\"[\"\"a, b\"\",\"\"c\\\"\"d\"\"]\","),
            std::string::npos)
      << exported.out;

  CreateUsers("users_copy");
  const RunResult imported = Run({"import", "users_copy", WriteTemp("users.csv", exported.out)});
  ASSERT_EQ(imported.exit_code, kOk) << Describe(imported);
  EXPECT_EQ(imported.err, "s3db: imported 9, failed 0\n");
  const std::vector<Json> original = JsonLines(Export());
  const std::vector<Json> copy = JsonLines(Export("users_copy"));
  ASSERT_EQ(copy.size(), 9u);
  ASSERT_EQ(copy.size(), original.size());
  for (size_t i = 0; i < copy.size(); ++i) {
    EXPECT_EQ(WithoutTimestamps(copy[i]), WithoutTimestamps(original[i]));
  }
}

TEST_F(CliTest, ImportDetectsCsvByExtensionOrFormat) {
  CreateUsers();
  // A BOM, CRLF line ends, columns in any order, absent optional fields as empty cells.
  const std::string text =
      "\xEF\xBB\xBF"
      "name,id,age,email,address.country,address.city\r\n"
      "Ada Lovelace,ada,36,ada@example.org,UK,London\r\n"
      "Grace Hopper,grace,,grace@example.org,US,New York\r\n";
  const RunResult by_name = Run({"import", "users", WriteTemp("people.csv", text)});
  ASSERT_EQ(by_name.exit_code, kOk) << Describe(by_name);
  const Json ada = Json::parse(Run({"get", "users", "ada"}).out);
  EXPECT_EQ(ada["age"], 36);  // a number, as the schema says
  EXPECT_EQ(ada["address"], Json({{"city", "London"}, {"country", "UK"}}));
  EXPECT_FALSE(Json::parse(Run({"get", "users", "grace"}).out).contains("age"));

  ASSERT_EQ(Run({"delete-all", "users", "--yes"}).exit_code, kOk);
  const RunResult by_flag = Run({"import", "users", WriteTemp("people.txt", text), "--format", "csv"});
  EXPECT_EQ(by_flag.exit_code, kOk) << Describe(by_flag);
  EXPECT_EQ(Count(), 2u);
  // --format jsonl reads a .csv file as JSON lines, which it is not.
  EXPECT_TRUE(FailedWith(Run({"import", "users", WriteTemp("lines.csv", "{}\nid\n"), "--format", "jsonl"}), kInvalid,
                         "line 2"));
  EXPECT_TRUE(FailedWith(Run({"import", "users", WriteTemp("x.csv", "id\n"), "--format", "xml"}), kUsage, "xml"));
  EXPECT_TRUE(FailedWith(Run({"export", "users", "--format", "xml"}), kUsage, "xml"));
}

TEST_F(CliTest, ImportOfACsvWithBadRowsImportsNothingAndNamesTheLines) {
  CreateUsers();
  const std::string path = WriteTemp("bad.csv", std::string("id,name,email,age,address.city,address.country\r\n") +
                                                    "a,Alpha,a@example.org,1,C,CC\r\n"
                                                    "b,Beta,b@example.org,many,C,CC\r\n"  // line 3: not a number
                                                    "c,\"Gamma\nGamma\",c@example.org,3,C,CC\r\n"  // lines 4-5
                                                    "d,De\"lta,d@example.org,4,C,CC\r\n"  // line 6: stray quote
                                                    "e,Epsilon,e@example.org,5,C\r\n");   // line 7: a cell short
  const RunResult run = Run({"import", "users", path});
  EXPECT_TRUE(FailedWith(run, kInvalid, path + " line 3: column age: expected a number, got \"many\""));
  EXPECT_NE(run.err.find("(2 more bad lines: 6 7)"), std::string::npos) << run.err;
  EXPECT_EQ(Count(), 0u);

  // An empty file and a header alone import nothing, and that is not an error.
  for (const std::string& text : {std::string(), std::string("id,name\r\n")}) {
    const RunResult empty = Run({"import", "users", WriteTemp("empty.csv", text)});
    EXPECT_EQ(empty.exit_code, kOk) << Describe(empty);
    EXPECT_EQ(empty.err, "s3db: imported 0, failed 0\n");
  }
  EXPECT_TRUE(FailedWith(Run({"import", "users", WriteTemp("dup.csv", "id,name,id\r\n")}), kInvalid,
                         "line 1: column id is named twice"));
}

TEST_F(CliTest, ImportOfACsvReportsEachFailingRecordWithItsLineAndExitsWithTheWorst) {
  CreateUsers();
  ASSERT_TRUE(Succeeded(Run({"insert", "users", kAdaJson})));
  const std::string text = std::string(kCsvHeader) + CsvUser("ok1") +
                           "note,\"Two\nLines\",note@example.org,City,CC\r\n"  // lines 3-4
                           + CsvUser("bad", "X")                               // line 5: name too short
                           + CsvUser("ada")                                    // line 6: taken
                           + CsvUser("ok2");
  const std::string path = WriteTemp("mixed.csv", text);
  const RunResult run = Run({"import", "users", path});
  EXPECT_EQ(run.exit_code, kConflict) << Describe(run);  // conflict (5) outranks invalid (4)
  std::vector<std::string> lines = Lines(run.err);
  ASSERT_EQ(lines.size(), 3u) << run.err;
  EXPECT_EQ(lines[2], "s3db: imported 3, failed 2");
  std::sort(lines.begin(), lines.begin() + 2);  // failures come in the order they happen
  EXPECT_NE(lines[0].find(path + " line 5 (id bad): users/bad: invalid record: name (min)"), std::string::npos)
      << run.err;
  EXPECT_NE(lines[1].find(path + " line 6 (id ada): "), std::string::npos) << run.err;
  EXPECT_EQ(Json::parse(Run({"get", "users", "note"}).out)["name"], "Two\nLines");
  EXPECT_EQ(Count(), 4u);  // ada, ok1, note, ok2
}

TEST_F(CliTest, ExportAsCsvWithMetaAddsTheObjectColumns) {
  CreateUsers();
  ASSERT_TRUE(Succeeded(Run({"insert", "users", kAdaJson})));
  const RunResult run = Run({"export", "users", "--format", "csv", "--meta"});
  ASSERT_TRUE(Succeeded(run));
  const std::vector<std::string> rows = Lines(run.out);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0],
            "id,active,address.city,address.country,age,email,name,tags,createdAt,updatedAt,_etag,"
            "_lastModified,_v,_truncated\r");
  const Json meta = Json::parse(Run({"get", "users", "ada", "--meta"}).out);
  EXPECT_NE(rows[1].find("," + meta["_lastModified"].get<std::string>() + ",1,\r"), std::string::npos) << rows[1];
}

TEST_F(CliTest, ExportAsCsvNamesFieldsOfAnOlderVersionItLeavesOut) {
  const std::string older = WriteTemp("older.json", R"({"attributes": {"name": "string", "nickname": "string|optional",
      "address": {"$$type": "object|optional", "city": "string", "zip": "string|optional"}}})");
  const std::string newer = WriteTemp("newer.json", R"({"attributes": {"name": "string",
      "address": {"$$type": "object|optional", "city": "string"}}})");
  ASSERT_TRUE(Succeeded(Run({"resource", "create", "people", "--schema", older})));
  ASSERT_TRUE(Succeeded(
      Run({"insert", "people", R"({"id":"a","name":"A","nickname":"aa","address":{"city":"c","zip":"z"}})"})));
  ASSERT_TRUE(Succeeded(Run({"insert", "people", R"({"id":"b","name":"B","nickname":"bb"})"})));
  ASSERT_TRUE(Succeeded(Run({"insert", "people", R"({"id":"c","name":"C"})"})));
  ASSERT_TRUE(Succeeded(Run({"resource", "create", "people", "--schema", newer, "--if-not-exists"})));  // version 2

  const RunResult run = Run({"export", "people", "--format", "csv"});
  EXPECT_EQ(run.exit_code, kOk) << Describe(run);
  EXPECT_EQ(run.out, "id,address.city,name\r\na,c,A\r\nb,,B\r\nc,,C\r\n");
  EXPECT_EQ(run.err,
            "s3db: export: 2 records have fields the current schema has no column for, left out of the CSV "
            "(people/a: address.zip, nickname); --format jsonl keeps every field\n");
}

TEST_F(CliTest, DeleteAllNeedsYesAndLeavesTheResource) {
  CreateUsers();
  ImportExamples();
  const RunResult refused = Run({"delete-all", "users"});
  EXPECT_TRUE(FailedWith(refused, kUsage, "add --yes to confirm"));
  EXPECT_EQ(Count(), 8u);

  const RunResult run = Run({"delete-all", "users", "--yes"});
  EXPECT_EQ(run.exit_code, kOk) << Describe(run);
  EXPECT_EQ(run.err, "s3db: deleted 8\n");
  EXPECT_EQ(run.out, "");
  EXPECT_EQ(Count(), 0u);
  EXPECT_TRUE(Succeeded(Run({"resource", "show", "users"})));
  EXPECT_TRUE(FailedWith(Run({"delete-all", "nobody", "--yes"}), kNotFound, "nobody"));

  // In the shell too.
  const RunResult shell = Shell("resource create users --schema " + kUsersSchema + "\nimport users " + kUsersJsonl +
                                "\ndelete-all users\ncount users\ndelete-all users --yes\ncount users\n");
  EXPECT_EQ(Lines(shell.out).back(), "0") << Describe(shell);
  EXPECT_NE(shell.err.find("add --yes to confirm"), std::string::npos) << shell.err;
  EXPECT_NE(shell.out.find("8\n"), std::string::npos) << Describe(shell);
}

}  // namespace
}  // namespace s3db::clitest

// Seed 000 (the s3db.js README), "Streaming": the readable stream (Scan), the writable stream
// (Writer) and "Stream to CSV" (CsvWriter in a program, `s3db export --format csv` in the
// shell), on every backend of the run.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "s3db/csv.h"
#include "s3db/database.h"
#include "seeds/seeds_examples_support.h"

namespace s3db::seeds {
namespace {

class SeedsStreamingTest : public SeedsExampleTest {
 protected:
  Resource& Users(Database& db) { return db.CreateResource(Def("users", {{"name", "string"}, {"email", "email"}})); }
};

// Seed 000, "Readable Stream": an "id" and a "data" event per user, then "end". Here the
// loop over users.Scan() sees each record once, in id order, and ends.
TEST_P(SeedsStreamingTest, ReadableStream) {
  auto db = Connect();
  Resource& users = Users(*db);
  std::set<std::string> expected;
  for (int i = 0; i < 25; ++i) {
    const std::string id = "u" + std::to_string(100 + i);
    users.Insert({{"id", id}, {"name", "User " + std::to_string(i)}, {"email", id + "@example.com"}});
    expected.insert(id);
  }
  std::vector<std::string> ids;  // the "id" events
  std::set<std::string> names;   // the "data" events
  for (const Record& user : users.Scan()) {
    ids.push_back(user.id);
    names.insert(user.data["name"].get<std::string>());
  }
  // "end": the loop is over, every user was processed exactly once, in id order.
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()), expected);
  EXPECT_EQ(ids.size(), expected.size());
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  EXPECT_EQ(names.size(), 25u);
  EXPECT_TRUE(names.count("User 0"));
}

// Seed 000, "Writable Stream": write two users, end the stream; both are stored.
TEST_P(SeedsStreamingTest, WritableStream) {
  auto db = Connect();
  Resource& users = Users(*db);
  WriterResult result;
  {
    RecordWriter writable = users.Writer();
    writable.Write({{"name", "User 1"}, {"email", "user1@example.com"}});
    writable.Write({{"name", "User 2"}, {"email", "user2@example.com"}});
    result = writable.Close();  // writableStream.end()
  }
  EXPECT_EQ(result.written, 2u);
  EXPECT_EQ(result.failed, 0u);
  std::set<std::string> emails;
  for (const Record& r : users.GetAll()) emails.insert(r.data["email"].get<std::string>());
  EXPECT_EQ(emails, (std::set<std::string>{"user1@example.com", "user2@example.com"}));
}

// Seed 000, "Stream to CSV": the records of a readable stream written as CSV with the
// columns ID, Name, Email. In a program: Scan into a CsvWriter with those titles.
TEST_P(SeedsStreamingTest, StreamToCsv) {
  auto db = Connect();
  Resource& users = Users(*db);
  users.Insert({{"id", "a1"}, {"name", "Ada, Countess"}, {"email", "ada@example.com"}});
  users.Insert({{"id", "b2"}, {"name", "Bob"}, {"email", "bob@example.com"}});
  std::ostringstream csv;
  CsvWriter writer(csv, {{"id", CsvCellType::kString, "ID"},
                         {"name", CsvCellType::kString, "Name"},
                         {"email", CsvCellType::kString, "Email"}});
  for (const Record& user : users.Scan()) writer.Write(user.ToJson());
  EXPECT_EQ(writer.rows_written(), 2u);
  EXPECT_EQ(csv.str(),
            "ID,Name,Email\r\n"
            "a1,\"Ada, Countess\",ada@example.com\r\n"
            "b2,Bob,bob@example.com\r\n");
}

// Seed 000, "Stream to CSV", from the shell: `s3db export users --format csv` streams the
// resource as CSV (columns id, then the attributes in order), and `s3db import` reads it back.
TEST_P(SeedsStreamingTest, StreamToCsvFromTheShell) {
  const std::string uri = SharedUri();
  if (uri.empty()) GTEST_SKIP() << "a memory:// bucket lives in one process; the CLI is another";
  {
    auto db = Database::Connect({.uri = uri});
    Resource& users = Users(*db);
    users.Insert({{"id", "a1"}, {"name", "Ada, Countess"}, {"email", "ada@example.com"}});
    users.Insert({{"id", "b2"}, {"name", "Bob"}, {"email", "bob@example.com"}});
  }
  clitest::RunResult run = Cli({"--uri", uri, "export", "users", "--format", "csv"});
  ASSERT_EQ(run.exit_code, 0) << clitest::Describe(run);
  EXPECT_EQ(run.out,
            "id,email,name\r\n"
            "a1,ada@example.com,\"Ada, Countess\"\r\n"
            "b2,bob@example.com,Bob\r\n");

  // What was exported imports into another resource with the same schema.
  clitest::WriteFile(stores_.dir().string() + "/users.csv", run.out);
  auto db = Database::Connect({.uri = uri});
  db->CreateResource(Def("copy", {{"name", "string"}, {"email", "email"}}));
  run = Cli({"--uri", uri, "import", "copy", "users.csv"});
  ASSERT_EQ(run.exit_code, 0) << clitest::Describe(run);
  EXPECT_EQ(db->resource("copy").Get("a1").data["name"], "Ada, Countess");
  EXPECT_EQ(db->resource("copy").Count(), 2u);
}

S3DB_SEEDS_EXAMPLES_ON_EVERY_BACKEND(SeedsStreamingTest);

}  // namespace
}  // namespace s3db::seeds

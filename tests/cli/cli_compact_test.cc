// `s3db compact` (issue 24): writes a scan snapshot and prints what it did; list, query and
// export print the same before and after it, and after records change since it.
#include "cli_fixture.h"

namespace s3db::clitest {
namespace {

// More than the 100 records a scan needs before it looks for a snapshot.
std::string CompactCliUsers(int n, const std::string& suffix = "") {
  std::string lines;
  for (int i = 0; i < n; ++i) {
    const std::string id = "u" + std::to_string(1000 + i);
    lines += Json{{"id", id},
                  {"name", "User " + id + suffix},
                  {"email", id + "@example.com"},
                  {"age", 20 + i % 50},
                  {"address", {{"city", "Lisboa"}, {"country", i % 3 ? "PT" : "UK"}}}}
                 .dump() +
             "\n";
  }
  return lines;
}

TEST_F(CliTest, CompactWritesASnapshotAndScansPrintTheSameRecords) {
  CreateUsers();
  ASSERT_TRUE(Succeeded(Run({"insert", "users"}, WithStdin(CompactCliUsers(150)))));
  const std::string exported = Export();
  const std::string queried = Run({"query", "users", R"({"address.country":"UK"})"}).out;
  const std::string listed = Run({"list", "users"}).out;

  const RunResult first = Run({"compact", "users"});
  ASSERT_TRUE(Succeeded(first)) << Describe(first);
  const Json summary = Json::parse(first.out);
  EXPECT_EQ(summary["resource"], "users");
  EXPECT_EQ(summary["generation"], 1);
  EXPECT_EQ(summary["records"], 150);
  EXPECT_EQ(summary["fetched"], 150);
  EXPECT_EQ(summary["reused"], 0);
  EXPECT_GE(summary["segments"].get<int>(), 1);
  EXPECT_GT(summary["bytes"].get<int>(), 0);

  EXPECT_EQ(Export(), exported);
  EXPECT_EQ(Run({"query", "users", R"({"address.country":"UK"})"}).out, queried);
  EXPECT_EQ(Run({"list", "users"}).out, listed);
  EXPECT_EQ(Count(), 150u);

  // Records changed since the snapshot are printed as they are now.
  ASSERT_TRUE(Succeeded(Run({"update", "users", "u1007", R"({"name":"Changed Since"})"})));
  ASSERT_TRUE(Succeeded(Run({"delete", "users", "u1008"})));
  const std::string after = Export();
  EXPECT_NE(after.find("Changed Since"), std::string::npos);
  EXPECT_EQ(after.find("\"u1008\""), std::string::npos);

  const Json second = Json::parse(Run({"compact", "users"}).out);
  EXPECT_EQ(second["generation"], 2);
  EXPECT_EQ(second["records"], 149);
  EXPECT_EQ(second["fetched"], 1);
  EXPECT_EQ(second["reused"], 148);
  EXPECT_EQ(Export(), after);

  EXPECT_TRUE(FailedWith(Run({"compact", "nobody"}), kNotFound, "nobody"));
}

}  // namespace
}  // namespace s3db::clitest

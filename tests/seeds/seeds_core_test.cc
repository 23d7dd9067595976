// The seed documents' code examples (s3db.js README, performance guide) ported to our API.
// Each TEST names the seed section it ports and asserts what the seed says the example does.
//
// Not ported yet (work in progress; see the branch report): most sections of both seeds.
// Not portable: "Stream to CSV" (CSV export is built on another branch); npm install and
// JavaScript-only idioms (fs.readFileSync, process.env setup).
#include <gtest/gtest.h>

#include "s3db/database.h"
#include "support/definitions.h"
#include "support/test_stores.h"

namespace s3db {
namespace {

using testing::Backend;
using testing::Def;
using testing::StoreFactory;

class SeedsCoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  StoreFactory stores_{GetParam()};
};

// Seed 000, "Quick Start": create a users resource, insert, get, count, update, delete.
TEST_P(SeedsCoreTest, QuickStart) {
  auto db = stores_.Connect();
  auto& users = db->CreateResource(Def("users", {{"name", "string|required"}, {"email", "string|required"}}));
  auto user = users.Insert({{"id", "u1"}, {"name", "John Doe"}, {"email", "john@example.com"}});
  EXPECT_EQ(user.data["name"], "John Doe");
  EXPECT_EQ(users.Get("u1").data["email"], "john@example.com");
  EXPECT_EQ(users.Count(), 1u);
  users.Update("u1", {{"name", "Jane Doe"}});
  EXPECT_EQ(users.Get("u1").data["name"], "Jane Doe");
  users.Delete("u1");
  EXPECT_FALSE(users.Exists("u1"));
  EXPECT_EQ(users.Count(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Backends, SeedsCoreTest, ::testing::ValuesIn(testing::TestBackends()),
                         [](const auto& info) { return testing::BackendName(info.param); });

}  // namespace
}  // namespace s3db

// Seed 000 (the s3db.js README), "Limitations & Best Practices" (the 2 KB metadata limit and
// the behaviors that overcome it; best practices 1 to 6) and "Performance Tips", on every
// backend of the run.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "s3db/cache.h"
#include "s3db/database.h"
#include "s3db/plugin.h"
#include "seeds/seeds_examples_support.h"

namespace s3db::seeds {
namespace {

class SeedsPracticesTest : public SeedsExampleTest {};

// Seed 000, "Limitations" 1 and "Overcoming the 2KB Limit", with "6. Choose the Right Behavior
// Strategy": the same 5 KB post under each behavior. user-management stores it (the excess in
// the body) and warns with exceedsLimit; enforce-limits refuses it; body-overflow keeps every
// field; data-truncate cuts the long field to fit and says so.
TEST_P(SeedsPracticesTest, ChooseTheRightBehavior) {
  auto db = Connect();
  const std::string content(5000, 'x');
  auto make = [&](const std::string& name, const std::string& behavior) -> Resource& {
    ResourceDefinition def = Def(name, {{"title", "string"}, {"content", "string"}, {"author", "string"}});
    def.behavior = behavior;
    return db->CreateResource(def);
  };
  const Json post = {{"id", "p1"}, {"title", "Hello"}, {"content", content}, {"author", "Ada"}};

  Resource& dev = make("dev_posts", "user-management");
  std::vector<Json> warnings;
  dev.events().On(Resource::kExceedsLimitEvent, [&](const Json& e) { warnings.push_back(e); });
  dev.Insert(post);
  EXPECT_EQ(dev.Get("p1").data["content"], content);
  ASSERT_EQ(warnings.size(), 1u) << "warnings and monitoring";
  EXPECT_EQ(warnings[0]["operation"], "insert");
  EXPECT_GT(warnings[0]["excess"].get<int>(), 0);

  Resource& prod = make("prod_posts", "enforce-limits");
  EXPECT_THROW(prod.Insert(post), MetadataTooLarge);
  EXPECT_FALSE(prod.Exists("p1"));
  prod.Insert({{"id", "small"}, {"title", "Hi"}, {"content", "short"}, {"author", "Ada"}});
  EXPECT_EQ(prod.Get("small").data["content"], "short");

  Resource& blog = make("posts", "body-overflow");
  blog.Insert(post);
  Record kept = blog.Get("p1");
  EXPECT_EQ(kept.data["content"], content) << "preserves all data";
  EXPECT_EQ(kept.data["author"], "Ada");

  Resource& cut = make("products", "data-truncate");
  Record truncated = cut.Insert(post);
  EXPECT_EQ(truncated.truncated, std::vector<std::string>{"content"});
  Record read = cut.Get("p1");
  const std::string stored = read.data["content"].get<std::string>();
  EXPECT_LT(stored.size(), content.size());
  EXPECT_EQ(stored.substr(stored.size() - 3), "...") << "truncated, and marked";
  EXPECT_EQ(read.data["title"], "Hello") << "the structure is kept";

  // The performance guide's checklist adds body-only for large documents.
  Resource& bodies = make("bodies", "body-only");
  bodies.Insert(post);
  EXPECT_EQ(bodies.Get("p1").data["content"], content);
}

// Seed 000, "1. Design for Document Storage": a nested profile is fine; a long purchase
// history exceeds the metadata limit (refused under enforce-limits, kept whole in the body by
// body-overflow).
TEST_P(SeedsPracticesTest, DesignForDocumentStorage) {
  auto db = Connect();
  ResourceDefinition def = Def(
      "users",
      {{"name", "string"},
       {"email", "email"},
       {"profile",
        {{"bio", "string"}, {"avatar", "url"}, {"preferences", {{"theme", "string"}, {"notifications", "boolean"}}}}},
       {"purchaseHistory", "array|optional"}});
  def.behavior = "enforce-limits";
  Resource& users = db->CreateResource(def);
  users.Insert({{"id", "user-123"},
                {"name", "John Doe"},
                {"email", "john@example.com"},
                {"profile",
                 {{"bio", "Software developer"},
                  {"avatar", "https://example.com/avatar.jpg"},
                  {"preferences", {{"theme", "dark"}, {"notifications", true}}}}}});
  EXPECT_EQ(users.Get("user-123").data["profile"]["preferences"]["theme"], "dark");

  Json heavy = {{"id", "user-124"},
                {"name", "John Doe"},
                {"email", "john@example.com"},
                {"profile",
                 {{"bio", "b"},
                  {"avatar", "https://example.com/a.jpg"},
                  {"preferences", {{"theme", "dark"}, {"notifications", true}}}}},
                {"purchaseHistory", Json::array()}};
  for (int i = 0; i < 100; ++i) {
    heavy["purchaseHistory"].push_back(
        {{"id", "order-" + std::to_string(i)}, {"date", "2023-01-01"}, {"total", 99.99}});
  }
  EXPECT_THROW(users.Insert(heavy), MetadataTooLarge) << "This could exceed metadata limits";
  def.name = "users_overflow";
  def.behavior = "body-overflow";
  Resource& overflow = db->CreateResource(def);
  overflow.Insert(heavy);
  EXPECT_EQ(overflow.Get("user-124").data["purchaseHistory"].size(), 100u);
}

// Seed 000, "2. Use Sequential IDs": sequential ids list in order; random ones are accepted
// too (ours: any 1..256 bytes of UTF-8 without "/" or control characters).
TEST_P(SeedsPracticesTest, UseSequentialIds) {
  auto db = Connect();
  Resource& users = db->CreateResource(Def("users", {{"name", "string"}}));
  for (const char* id : {"00003", "00001", "00004", "00002"}) users.Insert({{"id", id}, {"name", id}});
  EXPECT_EQ(users.ListIds(), (std::vector<std::string>{"00001", "00002", "00003", "00004"}));
  for (const char* id : {"abc123", "def456", "ghi789", "jkl012", "a1"}) users.Insert({{"id", id}, {"name", id}});
  EXPECT_EQ(users.Count(), 9u);
  EXPECT_THROW(users.Insert({{"id", "a1"}, {"name", "collision"}}), AlreadyExists)
      << "a colliding id is refused, never overwritten";
  EXPECT_EQ(users.Get("a1").data["name"], "a1");
}

// Seed 000, "3. Optimize for Read Patterns": a denormalized order is one GET; an order that
// needs its customer looked up is two.
TEST_P(SeedsPracticesTest, OptimizeForReadPatterns) {
  auto costs = std::make_shared<CostsPlugin>();
  auto db = Connect({.uri = "", .plugins = {costs}});
  Resource& customers = db->CreateResource(Def("customers", {{"name", "string"}}));
  Resource& orders = db->CreateResource(Def("orders", {{"customerId", "string"},
                                                       {"customerName", "string|optional"},
                                                       {"items", "array|items:string"},
                                                       {"total", "number|optional"}}));
  customers.Insert({{"id", "customer-456"}, {"name", "John Doe"}});
  orders.Insert({{"id", "order-123"},
                 {"customerId", "customer-456"},
                 {"customerName", "John Doe"},
                 {"items", {"product-1", "product-2"}},
                 {"total", 99.99}});
  orders.Insert({{"id", "order-124"}, {"customerId", "customer-456"}, {"items", {"product-1", "product-2"}}});

  costs->Reset();
  EXPECT_EQ(orders.Get("order-123").data["customerName"], "John Doe");
  EXPECT_EQ(costs->Totals().count(RequestKind::kGet), 1u);
  costs->Reset();
  Record order = orders.Get("order-124");
  EXPECT_EQ(customers.Get(order.data["customerId"].get<std::string>()).data["name"], "John Doe");
  EXPECT_EQ(costs->Totals().count(RequestKind::kGet), 2u) << "Requires separate lookup";
}

// Seed 000, "4. Use Streaming for Large Datasets": the stream gives each record once, the same
// records getAll returns at once.
TEST_P(SeedsPracticesTest, UseStreamingForLargeDatasets) {
  auto db = Connect();
  Resource& users = db->CreateResource(Def("users", {{"name", "string"}}));
  for (int i = 0; i < 30; ++i) users.Insert({{"id", "u" + std::to_string(100 + i)}, {"name", "n"}});
  std::vector<std::string> streamed;
  ScanOptions small;
  small.prefetch = 4;  // records read ahead, at most: memory stays small whatever the size
  RecordScan scan = users.Scan(small);
  while (std::optional<Record> user = scan.Next()) streamed.push_back(user->id);
  std::vector<std::string> all;
  for (const Record& r : users.GetAll()) all.push_back(r.id);
  std::sort(all.begin(), all.end());
  EXPECT_EQ(streamed, all);
  EXPECT_EQ(streamed.size(), 30u);
}

// Seed 000, "5. Implement Proper Error Handling": get of a missing id throws an error whose
// message says it "does not exist"; checking exists() first costs an extra request (a HEAD)
// on top of the GET, as the seed's cost warning says.
TEST_P(SeedsPracticesTest, ImplementProperErrorHandling) {
  auto costs = std::make_shared<CostsPlugin>();
  auto db = Connect({.uri = "", .plugins = {costs}});
  Resource& users = db->CreateResource(Def("users", {{"name", "string"}}));
  users.Insert({{"id", "user-123"}, {"name", "Ada"}});

  costs->Reset();
  std::string outcome;
  try {  // Method 1
    users.Get("non-existent-id");
  } catch (const NotFound& error) {
    if (std::string(error.what()).find("does not exist") != std::string::npos) outcome = "User not found";
    EXPECT_EQ(error.id(), "non-existent-id");
    EXPECT_EQ(error.resource(), "users");
  }
  EXPECT_EQ(outcome, "User not found");
  EXPECT_EQ(costs->Totals().total_requests(), 1u) << "one GET";

  costs->Reset();  // Method 2
  ASSERT_TRUE(users.Exists("user-123"));
  EXPECT_EQ(users.Get("user-123").data["name"], "Ada");
  const CostTotals checked = costs->Totals();
  EXPECT_EQ(checked.count(RequestKind::kHead), 1u) << "the additional request";
  EXPECT_EQ(checked.count(RequestKind::kGet), 1u);
  EXPECT_FALSE(users.Exists("non-existent-id"));
  EXPECT_FALSE(users.TryGet("non-existent-id").has_value()) << "or one request, no exception";
}

// Seed 000, "Performance Tips" 1: "Enable Caching: use cache: true for frequently accessed
// data". Ten reads of one record cost one GET.
TEST_P(SeedsPracticesTest, PerformanceTipsEnableCaching) {
  auto costs = std::make_shared<CostsPlugin>();
  auto db = Connect({.uri = "", .plugins = {costs}, .cache = CacheOptions{}});
  Resource& users = db->CreateResource(Def("users", {{"name", "string"}}));
  users.Insert({{"id", "ada"}, {"name", "Ada"}});
  costs->Reset();
  for (int i = 0; i < 10; ++i) EXPECT_EQ(users.Get("ada").data["name"], "Ada");
  EXPECT_EQ(costs->Totals().count(RequestKind::kGet), 1u);
  users.Update("ada", {{"name", "Ada L"}});
  EXPECT_EQ(users.Get("ada").data["name"], "Ada L") << "this process's write is seen at once";
}

S3DB_SEEDS_EXAMPLES_ON_EVERY_BACKEND(SeedsPracticesTest);

}  // namespace
}  // namespace s3db::seeds

// Seed 000 (the s3db.js README): "Cost Analysis" (the small and large application examples,
// the Cost Tracking Plugin), "Resource Events", "Resource Schema Export/Import" and "Plugins"
// (the custom plugin), on every backend of the run.
//
// The seed's cost figures are arithmetic on S3 request prices ($0.005 per 1,000 PUTs, $0.0004
// per 1,000 GETs); here the CostsPlugin counts the requests the same operations really make,
// and its totals are checked against those figures and against an independent counter.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "s3db/database.h"
#include "s3db/plugin.h"
#include "seeds/seeds_examples_support.h"
#include "support/counting_store.h"

namespace s3db::seeds {
namespace {

class SeedsPluginsTest : public SeedsExampleTest {};

// Seed 000, "Small Application (1,000 users)": setup is 1,000 PUTs ($0.005), a month of reads
// 1,000 GETs ($0.0004). Inserting 1,000 users costs exactly 1,000 PUTs here, reading each once
// exactly 1,000 GETs.
TEST_P(SeedsPluginsTest, CostExamplesSmallApplication) {
  auto costs = std::make_shared<CostsPlugin>();
  auto db = Connect({.uri = "", .concurrency = 32, .plugins = {costs}});
  Resource& users = db->CreateResource(Def("users", {{"name", "string"}}));
  std::vector<Json> batch;
  std::vector<std::string> ids;
  for (int i = 0; i < 1000; ++i) {
    ids.push_back("u" + std::to_string(10000 + i));
    batch.push_back({{"id", ids.back()}, {"name", "User " + std::to_string(i)}});
  }
  costs->Reset();
  ASSERT_TRUE(users.InsertMany(batch).errors.empty());
  CostTotals setup = costs->Totals();
  EXPECT_EQ(setup.count(RequestKind::kPut), 1000u);
  EXPECT_EQ(setup.total_requests(), 1000u);
  EXPECT_DOUBLE_EQ(setup.usd(), 0.005);  // const setupCost = 0.005

  costs->Reset();
  GetManyResult read = users.GetMany(ids);
  EXPECT_EQ(read.records.size(), 1000u);
  CostTotals reads = costs->Totals();
  EXPECT_EQ(reads.count(RequestKind::kGet), 1000u);
  EXPECT_EQ(reads.total_requests(), 1000u);
  EXPECT_DOUBLE_EQ(reads.usd(), 0.0004);  // const monthlyReadCost = 0.0004
  EXPECT_EQ(costs->ToJson()["total"], reads.usd());
}

// Seed 000, "Large Application (1,000,000 users)": $5.00 for a million PUTs, $0.40 for a
// million GETs. A million requests is no unit test; the plugin's prices are checked on the
// counts instead (the same arithmetic its totals use), in integer units so the sum is exact.
TEST_P(SeedsPluginsTest, CostExamplesLargeApplication) {
  CostTotals setup;
  setup.requests[static_cast<size_t>(RequestKind::kPut)] = 1000000;
  EXPECT_DOUBLE_EQ(setup.usd(), 5.00);
  CostTotals reads;
  reads.requests[static_cast<size_t>(RequestKind::kGet)] = 1000000;
  EXPECT_DOUBLE_EQ(reads.usd(), 0.40);
  CostTotals both = setup;
  both += reads;
  EXPECT_DOUBLE_EQ(both.usd(), 5.40);
  EXPECT_EQ(both.ToJson()["requests"]["total"], 2000000);
  EXPECT_DOUBLE_EQ(PricePerThousand(RequestKind::kPut), 0.005);
  EXPECT_DOUBLE_EQ(PricePerThousand(RequestKind::kGet), 0.0004);
}

// Seed 000, "Cost Tracking Plugin": `plugins: [CostsPlugin]`, then after some operations
// `costs.total` (USD) and `costs.requests.total`. Checked against a counter of our own under
// the plugin, and against the price list.
TEST_P(SeedsPluginsTest, CostTrackingPlugin) {
  auto costs = std::make_shared<CostsPlugin>();
  auto counting = std::make_unique<testing::CountingStore>(RawStore());
  testing::CountingStore* counted = counting.get();
  DatabaseOptions options;
  options.plugins = {costs};
  auto db = Database::Open(std::move(counting), "db", options);
  Resource& users = db->CreateResource(Def("users", {{"name", "string"}}));
  users.Insert({{"id", "a"}, {"name", "Ada"}});
  users.Insert({{"id", "b"}, {"name", "Bob"}});
  users.Get("a");
  users.Exists("b");
  users.Update("b", {{"name", "Bobby"}});
  users.Count();
  users.Delete("a");

  const Json totals = costs->ToJson();
  uint64_t requests = 0;
  double usd = 0;
  for (const auto& [kind, n] : counted->counts()) {
    requests += n;
    const double per_thousand = kind == "get" || kind == "head" ? 0.0004 : kind == "delete" ? 0.0 : 0.005;
    usd += per_thousand * static_cast<double>(n) / 1000;
    EXPECT_EQ(totals["requests"][kind], n) << kind;
  }
  EXPECT_EQ(totals["requests"]["total"], requests) << "Requests made: every request, connect included";
  EXPECT_NEAR(totals["total"].get<double>(), usd, 1e-12) << "Total cost in USD";
  EXPECT_GE(requests, 9u) << "at least the catalog read and one request per operation above";
  EXPECT_GT(totals["total"].get<double>(), 0);
}

// Seed 000, "Resource Events": insert, get, update and delete events with the record's id
// (update with the new data, delete with the id).
TEST_P(SeedsPluginsTest, ResourceEvents) {
  auto db = Connect();
  Resource& users = db->CreateResource(Def("users", {{"name", "string"}}));
  std::vector<std::string> log;
  users.events().On("insert", [&](const Json& e) { log.push_back("inserted " + e["id"].get<std::string>()); });
  users.events().On("get", [&](const Json& e) { log.push_back("retrieved " + e["id"].get<std::string>()); });
  users.events().On("update", [&](const Json& e) {
    log.push_back("updated " + e["id"].get<std::string>() + " to " + e["record"]["name"].get<std::string>() + " by " +
                  e["patch"].dump());
  });
  users.events().On("delete", [&](const Json& e) { log.push_back("deleted " + e["id"].get<std::string>()); });
  users.Insert({{"id", "ada"}, {"name", "Ada"}});
  users.Get("ada");
  users.Update("ada", {{"name", "Ada L"}});
  users.Delete("ada");
  EXPECT_EQ(log, (std::vector<std::string>{"inserted ada", "retrieved ada",
                                           "updated ada to Ada L by {\"name\":\"Ada L\"}", "deleted ada"}));
}

// Seed 000, "Resource Schema Export/Import": export a resource's schema, import it elsewhere
// (another database on the same backend: a migration), where it defines the same resource.
TEST_P(SeedsPluginsTest, ResourceSchemaExportImport) {
  auto db = Connect();
  ResourceDefinition def = Def("users", {{"name", "string|min:2"}, {"email", "email"}, {"region", "string"}});
  def.timestamps = true;
  def.partitions = Json::parse(R"({"byRegion": {"fields": {"region": "string"}}})");
  Resource& users = db->CreateResource(def);
  const Json schema_data = users.ExportSchema();
  EXPECT_EQ(schema_data["version"], 1);

  const ResourceDefinition imported = ResourceDefinition::Import(schema_data);
  EXPECT_EQ(imported.DefinitionHash(), def.DefinitionHash());
  auto other = stores_.Connect("migrated");
  CreateResourceResult made = other->CreateResourceIfNotExists(imported);
  EXPECT_TRUE(made.created);
  Resource& copy = *made.resource;
  copy.Insert({{"id", "ada"}, {"name", "Ada"}, {"email", "ada@example.com"}, {"region", "eu"}});
  EXPECT_THROW(copy.Insert({{"name", "A"}, {"email", "x@example.com"}, {"region", "eu"}}), ValidationError)
      << "the imported rules hold";
  EXPECT_EQ(
      copy.Count({.offset = 0, .limit = std::nullopt, .partition = "byRegion", .partition_values = {{"region", "eu"}}}),
      1u);
  EXPECT_EQ(copy.ExportSchema()["hash"], schema_data["hash"]);

  Json damaged = schema_data;
  damaged["attributes"]["name"] = "string";
  EXPECT_THROW(ResourceDefinition::Import(damaged), InvalidSchema) << "the hash no longer matches";
}

// Seed 000, "Example: Custom plugin": setup(s3db), start(), and a callback for each user
// created. Setup and Start run at connect, in that order; the plugin reaches the database
// from Start on, and sees every insert into users.
class MyPlugin : public Plugin {
 public:
  std::string name() const override { return "my-plugin"; }
  void Setup(PluginContext& context) override {
    context_ = &context;
    log.push_back("Plugin setup");
    context.OnResourceEvent(events::kInsert, [this](const Json& e) {
      if (e["resource"] == "users") OnUserCreated(e["record"]);
    });
  }
  void Start() override {
    log.push_back("Plugin started with " + std::to_string(context_->database().ResourceNames().size()) + " resources");
  }
  void OnUserCreated(const Json& user) { log.push_back("New user created: " + user["id"].get<std::string>()); }
  std::vector<std::string> log;

 private:
  PluginContext* context_ = nullptr;
};

TEST_P(SeedsPluginsTest, CustomPlugin) {
  {
    auto db = Connect();
    db->CreateResource(Def("users", {{"name", "string"}}));
  }
  auto plugin = std::make_shared<MyPlugin>();
  auto db = Connect({.uri = "", .plugins = {plugin}});
  EXPECT_EQ(plugin->log, (std::vector<std::string>{"Plugin setup", "Plugin started with 1 resources"}));
  db->resource("users").Insert({{"id", "ada"}, {"name", "Ada"}});
  db->CreateResource(Def("posts", {{"title", "string"}})).Insert({{"id", "p1"}, {"title", "t"}});
  ASSERT_EQ(plugin->log.size(), 3u) << "users only";
  EXPECT_EQ(plugin->log[2], "New user created: ada");

  // The same plugin added to an open database (db.usePlugin).
  auto late = std::make_shared<MyPlugin>();
  db->UsePlugin(late);
  db->resource("users").Insert({{"id", "bob"}, {"name", "Bob"}});
  EXPECT_EQ(late->log,
            (std::vector<std::string>{"Plugin setup", "Plugin started with 2 resources", "New user created: bob"}));
}

S3DB_SEEDS_EXAMPLES_ON_EVERY_BACKEND(SeedsPluginsTest);

}  // namespace
}  // namespace s3db::seeds

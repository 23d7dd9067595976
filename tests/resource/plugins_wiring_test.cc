// Hooks, events and plugins as the core drives them (issue 7): hooks around the writes, events
// from resources and the database, CostsPlugin counting what the store really served, and
// CachePlugin answering repeated reads. On every backend of the run (memory, file, and S3 when
// $S3DB_TEST_S3_URI names a server).
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "s3db/cache.h"
#include "s3db/database.h"
#include "s3db/plugin.h"
#include "support/counting_store.h"
#include "support/test_stores.h"

namespace s3db {
namespace {

using testing::Backend;
using testing::StoreFactory;

ResourceDefinition Notes() {
  ResourceDefinition def;
  def.name = "notes";
  def.attributes = Json::parse(R"({"title": "string|min:2", "body": "string|optional", "n": "number|optional"})");
  return def;
}

// A plugin that records the events it is given, as a plugin sees them.
class Recorder : public Plugin {
 public:
  std::string name() const override { return "recorder"; }
  void Setup(PluginContext& context) override {
    context.OnDatabaseEvent(events::kConnected, [this](const Json& p) { Add("db:connected", p); });
    context.OnDatabaseEvent(events::kResourceCreated, [this](const Json& p) { Add("db:resourceCreated", p); });
    for (const char* e :
         {events::kInsert, events::kGet, events::kUpdate, events::kDelete, events::kError, events::kHookError}) {
      context.OnResourceEvent(e, [this, e](const Json& p) { Add(e, p); });
    }
  }
  std::vector<std::pair<std::string, Json>> seen() {
    std::lock_guard lock(mu_);
    return seen_;
  }
  std::vector<Json> Of(const std::string& event) {
    std::vector<Json> out;
    for (auto& [name, payload] : seen()) {
      if (name == event) out.push_back(payload);
    }
    return out;
  }

 private:
  void Add(std::string event, const Json& payload) {
    std::lock_guard lock(mu_);
    seen_.emplace_back(std::move(event), payload);
  }
  std::mutex mu_;
  std::vector<std::pair<std::string, Json>> seen_;
};

uint64_t Count(const CostTotals& t, RequestKind kind) { return t.count(kind); }

class PluginsWiringTest : public ::testing::TestWithParam<Backend> {
 protected:
  // A database whose store is wrapped in a CountingStore (under everything the database adds).
  std::unique_ptr<Database> Connect(DatabaseOptions options = {}) {
    return Database::Open(std::make_unique<testing::CountingStore>(stores_.Open(), tally_), "db", options);
  }

  StoreFactory stores_{GetParam()};
  std::shared_ptr<testing::RequestCounts> tally_ = std::make_shared<testing::RequestCounts>();
};

TEST_P(PluginsWiringTest, HooksRunInOrderAndPreHooksMayChangeTheData) {
  auto db = Connect();
  std::vector<std::string> order;
  HookSet hooks;
  hooks.pre_insert.push_back([&](Json& data) {
    order.push_back("pre1");
    data["title"] = data["title"].get<std::string>() + "!";
  });
  hooks.pre_insert.push_back([&](Json& data) {
    order.push_back("pre2");
    data["body"] = "added by a hook";
  });
  hooks.after_insert.push_back(
      [&](const Record& r) { order.push_back("after1:" + r.data["title"].get<std::string>()); });
  hooks.pre_update.push_back([&](const std::string& id, Json& patch) {
    order.push_back("preUpdate:" + id);
    patch["n"] = 7;
  });
  hooks.after_update.push_back([&](const Record& r) { order.push_back("afterUpdate:" + r.id); });
  hooks.pre_delete.push_back([&](const std::string& id) { order.push_back("preDelete:" + id); });
  hooks.after_delete.push_back([&](const std::string& id) { order.push_back("afterDelete:" + id); });
  Resource& notes = db->CreateResource(Notes(), hooks);
  notes.hooks().AddAfterInsert([&](const Record&) { order.push_back("after2"); });

  Record r = notes.Insert({{"id", "a"}, {"title", "hi"}});
  EXPECT_EQ(r.data["title"], "hi!");
  EXPECT_EQ(notes.Get("a").data["body"], "added by a hook");
  Record u = notes.Update("a", {{"body", "b"}});
  EXPECT_EQ(u.data["n"], 7);
  EXPECT_EQ(notes.Get("a").data["n"], 7);
  notes.Delete("a");
  EXPECT_FALSE(notes.Exists("a"));
  EXPECT_EQ(order, (std::vector<std::string>{"pre1", "pre2", "after1:hi!", "after2", "preUpdate:a", "afterUpdate:a",
                                             "preDelete:a", "afterDelete:a"}));
  // Bulk calls go through the same path.
  InsertManyResult many = notes.InsertMany({Json{{"id", "b"}, {"title", "bb"}}, Json{{"id", "c"}, {"title", "cc"}}});
  ASSERT_TRUE(many.errors.empty());
  EXPECT_EQ(notes.Get("b").data["title"], "bb!");
  EXPECT_EQ(notes.Get("c").data["body"], "added by a hook");
}

TEST_P(PluginsWiringTest, APreHookThatThrowsAbortsAndNothingIsSent) {
  auto costs = std::make_shared<CostsPlugin>();
  DatabaseOptions options;
  options.plugins = {costs};
  auto db = Connect(options);
  Resource& notes = db->CreateResource(Notes());
  notes.Insert({{"id", "kept"}, {"title", "kept"}});
  std::vector<Json> errors;
  notes.events().On(events::kError, [&](const Json& p) { errors.push_back(p); });
  notes.hooks().AddPreInsert([](Json& data) {
    if (data.value("title", "") == "nope") throw std::runtime_error("refused by policy");
  });
  notes.hooks().AddPreDelete([](const std::string& id) {
    if (id == "kept") throw std::runtime_error("kept records stay");
  });
  notes.hooks().AddPreUpdate([](const std::string&, Json& patch) {
    if (patch.contains("title")) throw ValidationError("titles are frozen", {}, "notes");
  });

  const CostTotals before = costs->Totals();
  const uint64_t tally_before = tally_->get("put") + tally_->get("get") + tally_->get("head") + tally_->get("delete");
  EXPECT_THROW(notes.Insert({{"id", "x"}, {"title", "nope"}}), HookAborted);
  EXPECT_THROW(notes.Delete("kept"), HookAborted);
  EXPECT_THROW(notes.Update("kept", {{"title", "changed"}}), ValidationError);  // the hook's own error
  // Not one request: no PUT, no read, no delete.
  EXPECT_EQ(costs->Totals(), before);
  EXPECT_EQ(tally_->get("put") + tally_->get("get") + tally_->get("head") + tally_->get("delete"), tally_before);
  EXPECT_FALSE(notes.Exists("x"));
  EXPECT_EQ(notes.Get("kept").data["title"], "kept");

  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0]["operation"], "insert");
  EXPECT_EQ(errors[0]["resource"], "notes");
  EXPECT_EQ(errors[0]["code"], ErrorCodeName(ErrorCode::kInvalidArgument));
  EXPECT_NE(errors[0]["message"].get<std::string>().find("refused by policy"), std::string::npos);
  EXPECT_EQ(errors[1]["operation"], "delete");
  EXPECT_EQ(errors[1]["id"], "kept");
  EXPECT_EQ(errors[2]["operation"], "update");
}

TEST_P(PluginsWiringTest, AfterHookFailuresAreHookErrorEventsAndTheWriteStands) {
  auto recorder = std::make_shared<Recorder>();
  DatabaseOptions options;
  options.plugins = {recorder};
  auto db = Connect(options);
  Resource& notes = db->CreateResource(Notes());
  int later_hook_ran = 0;
  notes.hooks().AddAfterInsert([](const Record&) { throw std::runtime_error("mail server down"); });
  notes.hooks().AddAfterInsert([&](const Record&) { ++later_hook_ran; });
  notes.hooks().AddAfterDelete([](const std::string&) { throw 42; });
  std::vector<Json> hook_errors;
  notes.events().On(events::kHookError, [&](const Json& p) { hook_errors.push_back(p); });

  Record r = notes.Insert({{"id", "a"}, {"title", "stays"}});
  EXPECT_EQ(r.id, "a");
  EXPECT_EQ(later_hook_ran, 1);
  EXPECT_EQ(notes.Get("a").data["title"], "stays");
  notes.Delete("a");
  EXPECT_FALSE(notes.Exists("a"));

  ASSERT_EQ(hook_errors.size(), 2u);
  EXPECT_EQ(hook_errors[0]["hook"], "afterInsert");
  EXPECT_EQ(hook_errors[0]["index"], 0);
  EXPECT_EQ(hook_errors[0]["id"], "a");
  EXPECT_EQ(hook_errors[0]["resource"], "notes");
  EXPECT_EQ(hook_errors[0]["message"], "mail server down");
  EXPECT_EQ(hook_errors[1]["hook"], "afterDelete");
  // Plugins see them too.
  EXPECT_EQ(recorder->Of(events::kHookError).size(), 2u);
  EXPECT_TRUE(recorder->Of(events::kError).empty());  // the operations succeeded
}

TEST_P(PluginsWiringTest, ListenerExceptionsNeverCrossIntoTheLibrary) {
  auto db = Connect();
  db->events().On(events::kResourceCreated, [](const Json&) { throw std::runtime_error("db listener"); });
  Resource& notes = db->CreateResource(Notes());
  int reached = 0;
  for (const char* e : {events::kInsert, events::kGet, events::kUpdate, events::kDelete}) {
    notes.events().On(e, [](const Json&) { throw std::logic_error("listener bug"); });
    notes.events().On(e, [&](const Json&) { ++reached; });
  }
  std::vector<Json> listener_errors;
  notes.events().On(events::kError, [&](const Json& p) { listener_errors.push_back(p); });
  EXPECT_NO_THROW(notes.Insert({{"id", "a"}, {"title", "tt"}}));
  EXPECT_NO_THROW(notes.Get("a"));
  EXPECT_NO_THROW(notes.Update("a", {{"n", 1}}));
  EXPECT_NO_THROW(notes.Delete("a"));
  EXPECT_EQ(reached, 4);
  EXPECT_EQ(notes.events().listener_failures(), 4u);
  EXPECT_EQ(db->events().listener_failures(), 1u);
  ASSERT_EQ(listener_errors.size(), 4u);
  EXPECT_EQ(listener_errors[0]["type"], "listenerError");
  EXPECT_FALSE(notes.Exists("a"));
}

TEST_P(PluginsWiringTest, EventsFromResourcesAndTheDatabase) {
  auto recorder = std::make_shared<Recorder>();
  DatabaseOptions options;
  options.plugins = {recorder};
  auto db = Connect(options);
  ASSERT_EQ(recorder->Of("db:connected").size(), 1u);
  EXPECT_EQ(recorder->Of("db:connected")[0]["prefix"], "db");
  Resource& notes = db->CreateResource(Notes());
  auto created = recorder->Of("db:resourceCreated");
  ASSERT_EQ(created.size(), 1u);
  EXPECT_EQ(created[0], (Json{{"resource", "notes"}, {"version", 1}, {"created", true}}));
  // A new definition of it: a new version, created=false; the same one again: no event.
  ResourceDefinition changed = Notes();
  changed.attributes["extra"] = "string|optional";
  EXPECT_FALSE(db->CreateResourceIfNotExists(changed).created);
  EXPECT_FALSE(db->CreateResourceIfNotExists(changed).created);
  created = recorder->Of("db:resourceCreated");
  ASSERT_EQ(created.size(), 2u);
  EXPECT_EQ(created[1]["version"], 2);
  EXPECT_EQ(created[1]["created"], false);

  notes.Insert({{"id", "a"}, {"title", "one"}});
  notes.Get("a");
  notes.Update("a", {{"title", "two"}});
  notes.Delete("a");
  EXPECT_THROW(notes.Get("a"), NotFound);
  std::vector<std::string> names;
  for (const auto& [name, payload] : recorder->seen()) {
    if (name.rfind("db:", 0) == 0) continue;
    names.push_back(name);
    EXPECT_EQ(payload["resource"], "notes") << name;
    EXPECT_EQ(payload["id"], "a") << name;
  }
  EXPECT_EQ(names, (std::vector<std::string>{"insert", "get", "update", "delete", "error"}));
  EXPECT_EQ(recorder->Of(events::kInsert)[0]["record"]["title"], "one");
  EXPECT_EQ(recorder->Of(events::kUpdate)[0]["record"]["title"], "two");
  EXPECT_EQ(recorder->Of(events::kUpdate)[0]["patch"], (Json{{"title", "two"}}));
  const Json error = recorder->Of(events::kError)[0];
  EXPECT_EQ(error["operation"], "get");
  EXPECT_EQ(error["code"], ErrorCodeName(ErrorCode::kNotFound));
  // Upsert reports once, as itself, however it gets there.
  EXPECT_THROW(notes.Upsert("b", {{"title", "x"}}), ValidationError);
  const auto errors = recorder->Of(events::kError);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[1]["operation"], "upsert");
}

TEST_P(PluginsWiringTest, EventsCarryNoSecretValues) {
  auto recorder = std::make_shared<Recorder>();
  DatabaseOptions options;
  options.plugins = {recorder};
  options.passphrase = "wiring test passphrase";
  options.kdf_iterations = 1000;
  auto db = Connect(options);
  ResourceDefinition def;
  def.name = "accounts";
  def.attributes = Json::parse(R"({"user": "string", "password": "secret|min:8",
                                   "card": {"number": "secret|optional", "brand": "string|optional"}})");
  Resource& accounts = db->CreateResource(def);
  std::vector<std::string> local;
  for (const char* e : {events::kInsert, events::kGet, events::kUpdate, events::kError}) {
    accounts.events().On(e, [&](const Json& p) { local.push_back(p.dump()); });
  }
  accounts.Insert({{"id", "u1"},
                   {"user", "ada"},
                   {"password", "hunter2-very-secret"},
                   {"card", {{"number", "4111111111111111"}, {"brand", "visa"}}}});
  EXPECT_EQ(accounts.Get("u1").data["password"], "hunter2-very-secret");  // the caller sees it
  accounts.Update("u1", {{"password", "correct-horse-battery"}});
  EXPECT_THROW(accounts.Update("u1", {{"password", "Zq9x"}}), ValidationError);
  EXPECT_THROW(accounts.Insert({{"id", "u2"}, {"user", "bob"}, {"password", "Wv7y"}}), ValidationError);

  std::vector<std::string> all = local;
  for (const auto& [name, payload] : recorder->seen()) all.push_back(payload.dump());
  ASSERT_GE(local.size(), 5u);  // insert, get, update, and two errors
  for (const std::string& text : all) {
    for (const char* secret : {"hunter2-very-secret", "4111111111111111", "correct-horse-battery", "Zq9x", "Wv7y"}) {
      EXPECT_EQ(text.find(secret), std::string::npos) << secret << " in " << text;
    }
  }
  const Json inserted = recorder->Of(events::kInsert)[0];
  EXPECT_EQ(inserted["record"]["password"], "***");
  EXPECT_EQ(inserted["record"]["card"]["number"], "***");
  EXPECT_EQ(inserted["record"]["card"]["brand"], "visa");
  EXPECT_EQ(recorder->Of(events::kUpdate)[0]["patch"]["password"], "***");
}

TEST_P(PluginsWiringTest, CostsCountExactlyWhatTheStoreServed) {
  {
    auto db = Connect();
    db->CreateResource(Notes());
  }
  auto costs = std::make_shared<CostsPlugin>();
  DatabaseOptions options;
  options.plugins = {costs};
  tally_->Clear();
  auto db = Connect(options);
  // Connect to an existing database: one GET of the catalog.
  CostTotals t = costs->Totals();
  EXPECT_EQ(Count(t, RequestKind::kGet), 1u);
  EXPECT_EQ(t.total_requests(), 1u);
  Resource& notes = db->resource("notes");

  costs->Reset();
  notes.Insert({{"id", "a"}, {"title", "one"}});
  t = costs->Totals();
  EXPECT_EQ(Count(t, RequestKind::kPut), 1u);
  EXPECT_EQ(t.total_requests(), 1u);
  EXPECT_GT(t.bytes_out, 0u);

  costs->Reset();
  notes.Get("a");
  t = costs->Totals();
  EXPECT_EQ(Count(t, RequestKind::kGet), 1u);
  EXPECT_EQ(t.total_requests(), 1u);
  EXPECT_GT(t.bytes_in, 0u);

  costs->Reset();
  EXPECT_TRUE(notes.Exists("a"));
  t = costs->Totals();
  EXPECT_EQ(Count(t, RequestKind::kHead), 1u);
  EXPECT_EQ(t.total_requests(), 1u);
  EXPECT_EQ(costs->ResourceTotals("notes").total_requests(), 1u);

  // A mixed workload: the totals equal the independent tally, kind by kind.
  costs->Reset();
  tally_->Clear();
  for (int i = 0; i < 12; ++i) notes.Insert({{"id", "m" + std::to_string(i)}, {"title", "tt"}, {"n", i}});
  notes.Update("m1", {{"n", 100}});
  notes.Upsert("m2", {{"n", 200}});
  notes.GetMany({"m3", "m4", "absent"});
  EXPECT_EQ(notes.Count(), 13u);
  notes.List(ListOptions{.offset = 2, .limit = 3, .partition = {}, .partition_values = Json::object()});
  notes.DeleteMany({"m5", "m6", "absent"});
  EXPECT_THROW(notes.Get("absent"), NotFound);
  db->DropResource("notes");
  t = costs->Totals();
  const std::map<std::string, RequestKind> kinds{{"put", RequestKind::kPut},       {"get", RequestKind::kGet},
                                                 {"head", RequestKind::kHead},     {"list", RequestKind::kList},
                                                 {"delete", RequestKind::kDelete}, {"post", RequestKind::kPost}};
  uint64_t sum = 0;
  for (const auto& [name, kind] : kinds) {
    EXPECT_EQ(Count(t, kind), tally_->get(name)) << name;
    sum += tally_->get(name);
  }
  EXPECT_EQ(t.total_requests(), sum);
  EXPECT_GE(Count(t, RequestKind::kPut), 13u);
  EXPECT_GE(Count(t, RequestKind::kPost), 1u);  // the drop's DeleteObjects
}

TEST_P(PluginsWiringTest, CachedGetsMakeOneRequestAndOwnWritesInvalidate) {
  auto costs = std::make_shared<CostsPlugin>();
  DatabaseOptions options;
  options.plugins = {costs};
  options.cache = CacheOptions{};
  auto db = Connect(options);
  Resource& notes = db->CreateResource(Notes());
  notes.Insert({{"id", "a"}, {"title", "first"}});

  costs->Reset();
  for (int i = 0; i < 10; ++i) EXPECT_EQ(notes.Get("a").data["title"], "first");
  EXPECT_EQ(Count(costs->Totals(), RequestKind::kGet), 1u);
  EXPECT_EQ(costs->Totals().total_requests(), 1u);
  // GetMany and TryGet read the same entry.
  EXPECT_EQ(notes.GetMany({"a"}).records.size(), 1u);
  EXPECT_TRUE(notes.TryGet("a").has_value());
  EXPECT_EQ(costs->Totals().total_requests(), 1u);

  // The update reads the store, not the cache (its If-Match needs the real ETag).
  Record updated = notes.Update("a", {{"title", "second"}});
  costs->Reset();
  Record again = notes.Get("a");
  EXPECT_EQ(again.data["title"], "second");
  EXPECT_EQ(again.etag, updated.etag);
  for (int i = 0; i < 5; ++i) notes.Get("a");
  EXPECT_EQ(Count(costs->Totals(), RequestKind::kGet), 1u);

  // Queries: a repeated count is answered from the cache; an insert invalidates it.
  costs->Reset();
  EXPECT_EQ(notes.Count(), 1u);
  const uint64_t first_count = costs->Totals().total_requests();
  EXPECT_GE(first_count, 1u);
  EXPECT_EQ(notes.Count(), 1u);
  EXPECT_EQ(notes.ListIds(), (std::vector<std::string>{"a"}));
  EXPECT_EQ(costs->Totals().total_requests(), first_count);
  notes.Insert({{"id", "b"}, {"title", "bb"}});
  EXPECT_EQ(notes.Count(), 2u);
  EXPECT_EQ(notes.List().size(), 2u);

  // A delete invalidates too, and a deleted record is not served from the cache.
  notes.Get("b");
  notes.Delete("b");
  EXPECT_FALSE(notes.TryGet("b").has_value());
  EXPECT_EQ(notes.Count(), 1u);
  // DeleteAll drops everything the cache holds of the resource.
  notes.Get("a");
  EXPECT_EQ(notes.DeleteAll(), 1u);
  EXPECT_FALSE(notes.TryGet("a").has_value());
  EXPECT_EQ(notes.Count(), 0u);
}

TEST_P(PluginsWiringTest, TheCacheIsPerProcessOtherWritersAreSeenAfterTheTtl) {
  std::atomic<int64_t> now{1'000'000};
  DatabaseOptions cached;
  cached.cache = CacheOptions{};
  cached.cache->ttl = std::chrono::milliseconds(1000);
  cached.cache->clock = [&] { return now.load(); };
  auto reader = Connect(cached);
  auto writer = Connect();
  Resource& mine = reader->CreateResource(Notes());
  Resource& theirs = writer->resource("notes");
  theirs.Insert({{"id", "a"}, {"title", "old"}});
  EXPECT_EQ(mine.Get("a").data["title"], "old");
  theirs.Update("a", {{"title", "new"}});
  EXPECT_EQ(mine.Get("a").data["title"], "old");  // within the stale-read window
  now += 1001;
  EXPECT_EQ(mine.Get("a").data["title"], "new");
  // Update through the caching process reads the store, so it never loses the other write.
  theirs.Update("a", {{"body", "theirs"}});
  Record merged = mine.Update("a", {{"n", 5}});
  EXPECT_EQ(merged.data["body"], "theirs");
  EXPECT_EQ(merged.data["n"], 5);
}

TEST_P(PluginsWiringTest, PluginsStopWhenTheDatabaseCloses) {
  class Lifecycle : public Plugin {
   public:
    explicit Lifecycle(std::vector<std::string>* log) : log_(log) {}
    std::string name() const override { return "lifecycle"; }
    void Setup(PluginContext& context) override {
      log_->push_back("setup");
      context_ = &context;
    }
    void Start() override {
      // The whole stack is usable from Start on: this HEAD is counted by the costs plugin.
      (void)context_->store().Head("db/absent");
      log_->push_back("start");
    }
    void Stop() override { log_->push_back("stop"); }

   private:
    std::vector<std::string>* log_;
    PluginContext* context_ = nullptr;
  };
  std::vector<std::string> log;
  auto costs = std::make_shared<CostsPlugin>();
  DatabaseOptions options;
  options.plugins = {costs, std::make_shared<Lifecycle>(&log)};
  {
    auto db = Connect(options);
    EXPECT_EQ(log, (std::vector<std::string>{"setup", "start"}));
    EXPECT_EQ(Count(costs->Totals(), RequestKind::kHead), 1u);
  }
  EXPECT_EQ(log, (std::vector<std::string>{"setup", "start", "stop"}));
  // An empty plugin pointer is refused at connect.
  DatabaseOptions bad;
  bad.plugins = {nullptr};
  EXPECT_THROW(Connect(bad), InvalidArgument);
}

TEST_P(PluginsWiringTest, UsePluginAddsACacheAfterConnect) {
  // The performance guide: `await db.usePlugin(new CachePlugin({driver: 'memory', ...}))`.
  auto costs = std::make_shared<CostsPlugin>();
  DatabaseOptions options;
  options.plugins = {costs};
  auto db = Connect(options);
  Resource& notes = db->CreateResource(Notes());
  notes.Insert({{"id", "a"}, {"title", "first"}});
  costs->Reset();
  notes.Get("a");
  notes.Get("a");
  EXPECT_EQ(Count(costs->Totals(), RequestKind::kGet), 2u);  // no cache yet

  auto cache = std::make_shared<CachePlugin>(CacheOptions{});
  Plugin& added = db->UsePlugin(cache);
  EXPECT_EQ(&added, cache.get());
  costs->Reset();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(notes.Get("a").data["title"], "first");
  EXPECT_EQ(Count(costs->Totals(), RequestKind::kGet), 1u);
  EXPECT_EQ(cache->stats().hits, 4u);
  // Its writes invalidate it like a cache given at connect.
  notes.Update("a", {{"title", "second"}});
  EXPECT_EQ(notes.Get("a").data["title"], "second");

  // Refused, each with a message that says why; nothing is kept.
  try {
    db->UsePlugin(std::make_shared<CachePlugin>(CacheOptions{}));
    ADD_FAILURE() << "a second cache was accepted";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("already has a cache"), std::string::npos) << e.what();
  }
  try {
    db->UsePlugin(std::make_shared<CostsPlugin>());
    ADD_FAILURE() << "a store-wrapping plugin was accepted after connect";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("DatabaseOptions::plugins"), std::string::npos) << e.what();
  }
  EXPECT_THROW(db->UsePlugin(cache), InvalidArgument);  // already in use
  EXPECT_THROW(db->UsePlugin(nullptr), InvalidArgument);
}

// The seeds' custom plugin: setup(s3db) reaches the database, and it reacts to created users.
class UserWatcher : public Plugin {
 public:
  std::string name() const override { return "user-watcher"; }
  void Setup(PluginContext& context) override {
    context_ = &context;
    context.OnResourceEvent(events::kInsert, [this](const Json& p) {
      if (p.value("resource", "") == "notes") created_.push_back(p["id"].get<std::string>());
    });
  }
  void Start() override {
    Database& db = context_->database();
    names_at_start_ = db.ResourceNames();
    if (db.ResourceExists("notes")) count_at_start_ = db.resource("notes").Count();
  }
  std::vector<std::string> names_at_start_;
  size_t count_at_start_ = 0;
  std::vector<std::string> created_;

 private:
  PluginContext* context_ = nullptr;
};

TEST_P(PluginsWiringTest, APluginReachesTheDatabaseAndItsResources) {
  {
    auto db = Connect();
    Resource& notes = db->CreateResource(Notes());
    notes.Insert({{"id", "a"}, {"title", "first"}});
    notes.Insert({{"id", "b"}, {"title", "second"}});
  }
  // Given at connect: the database is reachable from Start.
  auto at_connect = std::make_shared<UserWatcher>();
  DatabaseOptions options;
  options.plugins = {at_connect};
  auto db = Connect(options);
  EXPECT_EQ(at_connect->names_at_start_, (std::vector<std::string>{"notes"}));
  EXPECT_EQ(at_connect->count_at_start_, 2u);

  // Added later: reachable in Setup and Start, and it sees the inserts from then on.
  auto later = std::make_shared<UserWatcher>();
  db->UsePlugin(later);
  EXPECT_EQ(later->count_at_start_, 2u);
  db->resource("notes").Insert({{"id", "c"}, {"title", "third"}});
  EXPECT_EQ(later->created_, (std::vector<std::string>{"c"}));
  EXPECT_EQ(at_connect->created_, (std::vector<std::string>{"c"}));

  // A plugin that asks for the database in Setup at connect is told it is too early.
  class TooEarly : public Plugin {
   public:
    std::string name() const override { return "too-early"; }
    void Setup(PluginContext& context) override { context.database(); }
  };
  DatabaseOptions early;
  early.plugins = {std::make_shared<TooEarly>()};
  try {
    Connect(early);
    ADD_FAILURE() << "database() worked in Setup at connect";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("Start"), std::string::npos) << e.what();
  }
  // A plugin whose Setup throws in UsePlugin is not kept, and neither are its subscriptions.
  class Failing : public UserWatcher {
   public:
    void Setup(PluginContext& context) override {
      UserWatcher::Setup(context);
      throw std::runtime_error("no thanks");
    }
  };
  auto failing = std::make_shared<Failing>();
  EXPECT_ANY_THROW(db->UsePlugin(failing));
  db->resource("notes").Insert({{"id", "d"}, {"title", "fourth"}});
  EXPECT_TRUE(failing->created_.empty());
}

TEST_P(PluginsWiringTest, ConnectedIsSeenByListenersGivenAtConnect) {
  // s3db.js: `db.on("connected", ...)` before `await db.connect()`.
  std::vector<Json> seen;
  DatabaseOptions options;
  options.listeners.emplace(events::kConnected, [&](const Json& p) { seen.push_back(p); });
  auto db = Connect(options);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0]["prefix"], "db");
  EXPECT_TRUE(seen[0].contains("store"));
  // The other database events reach them too.
  options.listeners.clear();
  std::vector<std::string> created;
  options.listeners.emplace(events::kResourceCreated,
                            [&](const Json& p) { created.push_back(p["resource"].get<std::string>()); });
  auto again = Connect(options);
  again->CreateResource(Notes());
  EXPECT_EQ(created, (std::vector<std::string>{"notes"}));
}

INSTANTIATE_TEST_SUITE_P(Backends, PluginsWiringTest, ::testing::ValuesIn(testing::TestBackends()),
                         [](const auto& info) { return testing::BackendName(info.param); });

}  // namespace
}  // namespace s3db

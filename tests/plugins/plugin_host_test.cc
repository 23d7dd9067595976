// PluginHost: the lifecycle, the order of store decorators, events, and failure handling.
#include <gtest/gtest.h>

#include <stdexcept>

#include "plugin_test_util.h"
#include "plugins/plugin_host.h"
#include "s3db/object_store.h"
#include "s3db/plugin.h"
#include "s3db/stores.h"

namespace s3db::plugins {
namespace {

using Trace = std::vector<std::string>;

// Forwards to the store below and writes its tag into the trace on every Get.
class TagStore : public ForwardingStore {
 public:
  TagStore(std::unique_ptr<ObjectStore> inner, std::string tag, Trace* trace)
      : ForwardingStore(std::move(inner)), tag_(std::move(tag)), trace_(trace) {}
  Result<GetResult> Get(const std::string& k) override {
    trace_->push_back(tag_);
    return inner().Get(k);
  }

 private:
  std::string tag_;
  Trace* trace_;
};

StoreDecorator Tag(const std::string& tag, Trace* trace) {
  return [tag, trace](std::unique_ptr<ObjectStore> inner) -> std::unique_ptr<ObjectStore> {
    return std::make_unique<TagStore>(std::move(inner), tag, trace);
  };
}

// A plugin that records its lifecycle and can be told to fail.
class Probe : public Plugin {
 public:
  Probe(std::string name, Trace* trace) : name_(std::move(name)), trace_(trace) {}
  std::string name() const override { return name_; }
  void Setup(PluginContext&) override {
    trace_->push_back(name_ + ".setup");
    if (fail_setup) throw std::runtime_error("no config");
  }
  void Start() override {
    trace_->push_back(name_ + ".start");
    if (fail_start) throw std::runtime_error("cannot start");
  }
  void Stop() override {
    trace_->push_back(name_ + ".stop");
    if (fail_stop) throw std::runtime_error("cannot stop");
  }
  bool fail_setup = false, fail_start = false, fail_stop = false;

 private:
  std::string name_;
  Trace* trace_;
};

class PluginHostTest : public ::testing::Test {
 protected:
  void TearDown() override { ClearMemoryBucket(bucket_); }
  std::unique_ptr<ObjectStore> Backend() { return NewMemoryStore(bucket_); }
  std::string bucket_ = testing::UniqueBucket("host");
  Trace trace_;
};

TEST_F(PluginHostTest, RunsTheLifecycleInOrderAndStopsInReverse) {
  auto a = std::make_shared<Probe>("a", &trace_);
  auto b = std::make_shared<Probe>("b", &trace_);
  {
    PluginHost host("db", {a, b});
    host.SetupAll();
    auto store = host.BuildStore(Backend());
    host.StartAll();
    EXPECT_EQ(&host.store(), store.get());
    host.StopAll();
    host.StopAll();  // idempotent
  }
  EXPECT_EQ(trace_, (Trace{"a.setup", "b.setup", "a.start", "b.start", "b.stop", "a.stop"}));
}

TEST_F(PluginHostTest, TheDestructorStopsWhatWasStarted) {
  auto a = std::make_shared<Probe>("a", &trace_);
  std::unique_ptr<ObjectStore> store;
  {
    PluginHost host("", {a});
    host.SetupAll();
    store = host.BuildStore(Backend());
    host.StartAll();
  }
  EXPECT_EQ(trace_.back(), "a.stop");
}

TEST_F(PluginHostTest, DecoratorsNestInnerThenMiddleThenOuter) {
  struct Wrapper : Plugin {
    std::vector<std::pair<StoreDecorator, StorePosition>> wraps;
    std::string name() const override { return "w"; }
    void Setup(PluginContext& ctx) override {
      for (auto& [d, pos] : wraps) ctx.WrapStore(d, pos);
    }
  };
  Trace all;
  auto first = std::make_shared<Wrapper>();
  first->wraps = {{Tag("outer1", &all), StorePosition::kOuter}, {Tag("inner1", &all), StorePosition::kInner}};
  auto second = std::make_shared<Wrapper>();
  second->wraps = {{Tag("inner2", &all), StorePosition::kInner}, {Tag("outer2", &all), StorePosition::kOuter}};
  PluginHost host("db", {first, second});
  host.SetupAll();
  auto stack = host.BuildStore(Backend(), Tag("executor", &all));
  host.StartAll();
  (void)stack->Get("k");
  // A call travels from the outside in; within a position the first added is innermost.
  EXPECT_EQ(all, (Trace{"outer2", "outer1", "executor", "inner2", "inner1"}));
}

TEST_F(PluginHostTest, ADecoratorCanAnswerARequestItself) {
  struct ReadOnly : ObjectStore {
    explicit ReadOnly(std::unique_ptr<ObjectStore> inner) : inner(std::move(inner)) {}
    Result<ObjectInfo> Put(const PutRequest&) override { return Status(ErrorCode::kAccessDenied, "read-only"); }
    Result<GetResult> Get(const std::string& k) override { return inner->Get(k); }
    Result<ObjectInfo> Head(const std::string& k) override { return inner->Head(k); }
    Status Delete(const std::string&) override { return Status(ErrorCode::kAccessDenied, "read-only"); }
    Result<DeleteManyResult> DeleteMany(const std::vector<std::string>& k) override { return inner->DeleteMany(k); }
    Result<ListPage> List(const ListRequest& r) override { return inner->List(r); }
    Capabilities capabilities() const override { return inner->capabilities(); }
    std::string Describe() const override { return inner->Describe(); }
    std::unique_ptr<ObjectStore> inner;
  };
  struct Guard : Plugin {
    std::string name() const override { return "guard"; }
    void Setup(PluginContext& ctx) override {
      ctx.WrapStore([](std::unique_ptr<ObjectStore> inner) -> std::unique_ptr<ObjectStore> {
        return std::make_unique<ReadOnly>(std::move(inner));
      });
    }
  };
  auto costs = std::make_shared<CostsPlugin>();
  PluginHost host("db", {costs, std::make_shared<Guard>()});
  host.SetupAll();
  auto store = host.BuildStore(Backend());
  host.StartAll();
  PutRequest put;
  put.key = "db/x";
  EXPECT_EQ(store->Put(put).code(), ErrorCode::kAccessDenied);
  // The costs decorator sits inner, below the guard: a refused request never reached S3.
  EXPECT_EQ(costs->Totals().total_requests(), 0u);
  EXPECT_EQ(store->Get("db/x").code(), ErrorCode::kNotFound);
  EXPECT_EQ(costs->Totals().count(RequestKind::kGet), 1u);
}

TEST_F(PluginHostTest, StoreIsOnlyAvailableFromStartAndWrapOnlyDuringSetup) {
  struct Early : Plugin {
    std::string name() const override { return "early"; }
    void Setup(PluginContext& ctx) override {
      ctx_ = &ctx;
      EXPECT_THROW(ctx.store(), InvalidArgument);
    }
    void Start() override {
      EXPECT_NO_THROW(ctx_->store());
      EXPECT_THROW(ctx_->WrapStore([](std::unique_ptr<ObjectStore> s) { return s; }), InvalidArgument);
    }
    PluginContext* ctx_ = nullptr;
  };
  PluginHost host("db", {std::make_shared<Early>()});
  host.SetupAll();
  EXPECT_THROW(host.StartAll(), InvalidArgument);  // no store built yet
  auto store = host.BuildStore(Backend());
  EXPECT_THROW(host.BuildStore(Backend()), InvalidArgument);
  host.StartAll();
  host.StopAll();
  EXPECT_THROW(host.store(), InvalidArgument);
}

TEST_F(PluginHostTest, ASetupFailureNamesThePlugin) {
  auto a = std::make_shared<Probe>("a", &trace_);
  auto b = std::make_shared<Probe>("b", &trace_);
  b->fail_setup = true;
  PluginHost host("db", {a, b});
  try {
    host.SetupAll();
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("plugin 'b' failed in Setup: no config"), std::string::npos);
  }
  EXPECT_THROW(host.SetupAll(), InvalidArgument);  // once only
  EXPECT_THROW(PluginHost("db", {nullptr}).SetupAll(), InvalidArgument);
}

TEST_F(PluginHostTest, AStartFailureStopsThePluginsAlreadyStarted) {
  auto a = std::make_shared<Probe>("a", &trace_);
  auto b = std::make_shared<Probe>("b", &trace_);
  auto c = std::make_shared<Probe>("c", &trace_);
  b->fail_start = true;
  PluginHost host("db", {a, b, c});
  host.SetupAll();
  auto store = host.BuildStore(Backend());
  EXPECT_THROW(host.StartAll(), InvalidArgument);
  EXPECT_EQ(trace_, (Trace{"a.setup", "b.setup", "c.setup", "a.start", "b.start", "a.stop"}));
}

TEST_F(PluginHostTest, StopFailuresAreReportedAndTheRestStillStop) {
  auto a = std::make_shared<Probe>("a", &trace_);
  auto b = std::make_shared<Probe>("b", &trace_);
  b->fail_stop = true;
  std::vector<std::string> lines;
  PluginHost host("db", {a, b}, [&](const std::string& l) { lines.push_back(l); });
  std::vector<Json> errors;
  host.SetupAll();
  auto store = host.BuildStore(Backend());
  host.StartAll();
  host.StopAll();
  EXPECT_EQ(trace_.back(), "a.stop");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("plugin 'b' failed in Stop: cannot stop"), std::string::npos);

  // With an error listener the failure is an event instead.
  trace_.clear();
  auto c = std::make_shared<Probe>("c", &trace_);
  c->fail_stop = true;
  PluginHost host2("db", {c}, [&](const std::string& l) { lines.push_back(l); });
  host2.database_events().On(events::kError, [&](const Json& p) { errors.push_back(p); });
  host2.SetupAll();
  auto store2 = host2.BuildStore(Backend());
  host2.StartAll();
  host2.StopAll();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0]["type"], "pluginError");
  EXPECT_EQ(errors[0]["plugin"], "c");
  EXPECT_EQ(lines.size(), 1u);
}

TEST_F(PluginHostTest, PluginsSeeDatabaseAndResourceEvents) {
  struct Listener : Plugin {
    std::string name() const override { return "listener"; }
    void Setup(PluginContext& ctx) override {
      ctx.OnDatabaseEvent(events::kConnected, [this](const Json& p) { seen.push_back("connected " + p.dump()); });
      insert_sub = ctx.OnResourceEvent(
          events::kInsert, [this](const Json& p) { seen.push_back("insert " + p["resource"].get<std::string>()); });
      ctx_ = &ctx;
    }
    std::vector<std::string> seen;
    SubscriptionId insert_sub = 0;
    PluginContext* ctx_ = nullptr;
  };
  auto l = std::make_shared<Listener>();
  PluginHost host("/db/", {l});
  EXPECT_EQ(host.prefix(), "db");
  host.SetupAll();
  auto store = host.BuildStore(Backend());
  host.database_events().Emit(events::kConnected, Json{{"prefix", "db"}});
  host.StartAll();
  host.resource_events().Emit(events::kInsert, Json{{"resource", "users"}, {"id", "1"}});
  host.resource_events().Emit(events::kDelete, Json{{"resource", "users"}, {"id", "1"}});
  EXPECT_TRUE(l->ctx_->Off(l->insert_sub));
  host.resource_events().Emit(events::kInsert, Json{{"resource", "orders"}, {"id", "2"}});
  EXPECT_EQ(l->seen, (std::vector<std::string>{R"(connected {"prefix":"db"})", "insert users"}));
  EXPECT_EQ(host.Find<Listener>(), l.get());
  EXPECT_EQ(host.Find<CostsPlugin>(), nullptr);
}

}  // namespace
}  // namespace s3db::plugins

// HookRegistry: ordering, changing data, aborting, after-hook failures reported as events.
#include <gtest/gtest.h>

#include <stdexcept>

#include "plugin_test_util.h"
#include "s3db/plugin.h"
#include "s3db/stores.h"

namespace s3db {
namespace {

Record MakeRecord(const std::string& id) {
  Record r;
  r.id = id;
  r.data = {{"name", "Ada"}};
  return r;
}

TEST(Hooks, NamesRoundTrip) {
  for (HookType t : {HookType::kPreInsert, HookType::kAfterInsert, HookType::kPreUpdate, HookType::kAfterUpdate,
                     HookType::kPreDelete, HookType::kAfterDelete}) {
    EXPECT_EQ(HookTypeFromName(HookTypeName(t)), t);
  }
  EXPECT_STREQ(HookTypeName(HookType::kPreInsert), "preInsert");
  EXPECT_STREQ(HookTypeName(HookType::kAfterDelete), "afterDelete");
  EXPECT_FALSE(HookTypeFromName("beforeInsert").has_value());
}

TEST(Hooks, PreHooksRunInOrderAndMayChangeTheData) {
  HookRegistry hooks("users");
  hooks.AddPreInsert([](Json& d) { d["email"] = d["email"].get<std::string>() + "@x"; });
  hooks.AddPreInsert([](Json& d) { d["email"] = d["email"].get<std::string>() + ".org"; });
  hooks.AddPreInsert([](Json& d) { d["id"] = "chosen-by-hook"; });
  Json data = {{"email", "ada"}};
  hooks.RunPreInsert(data);
  EXPECT_EQ(data["email"], "ada@x.org");
  EXPECT_EQ(data["id"], "chosen-by-hook");
  EXPECT_EQ(hooks.size(HookType::kPreInsert), 3u);
  EXPECT_EQ(hooks.size(HookType::kAfterInsert), 0u);

  std::vector<std::string> seen;
  hooks.AddPreUpdate([&](const std::string& id, Json& patch) {
    seen.push_back(id);
    patch["touched"] = true;
  });
  Json patch = {{"name", "B"}};
  hooks.RunPreUpdate("u1", patch);
  EXPECT_EQ(patch["touched"], true);
  hooks.AddPreDelete([&](const std::string& id) { seen.push_back("del:" + id); });
  hooks.RunPreDelete("u2");
  EXPECT_EQ(seen, (std::vector<std::string>{"u1", "del:u2"}));
}

TEST(Hooks, AThrowingPreHookAbortsWithHookAbortedAndStopsTheRest) {
  HookRegistry hooks("users");
  bool later_ran = false;
  hooks.AddPreInsert([](Json&) {});
  hooks.AddPreInsert([](Json& d) {
    if (!d["email"].get<std::string>().ends_with(".org")) throw std::runtime_error("only .org addresses");
  });
  hooks.AddPreInsert([&](Json&) { later_ran = true; });
  Json data = {{"id", "u9"}, {"email", "a@b.com"}};
  try {
    hooks.RunPreInsert(data);
    FAIL() << "expected HookAborted";
  } catch (const HookAborted& e) {
    EXPECT_EQ(e.hook(), HookType::kPreInsert);
    EXPECT_EQ(e.index(), 1u);
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(e.resource(), "users");
    EXPECT_EQ(e.id(), "u9");
    EXPECT_NE(std::string(e.what()).find("only .org addresses"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("preInsert hook #1"), std::string::npos);
    // The hook's own exception is nested inside.
    try {
      std::rethrow_if_nested(e);
      FAIL() << "expected a nested exception";
    } catch (const std::runtime_error& inner) {
      EXPECT_STREQ(inner.what(), "only .org addresses");
    }
  }
  EXPECT_FALSE(later_ran);
  // It is an InvalidArgument to whoever catches by type.
  EXPECT_THROW(hooks.RunPreInsert(data), InvalidArgument);
}

TEST(Hooks, AnS3dbErrorFromAPreHookPassesThroughUnchanged) {
  HookRegistry hooks("users");
  hooks.AddPreDelete([](const std::string& id) { throw NotFound("no such " + id, "users", id); });
  EXPECT_THROW(hooks.RunPreDelete("x"), NotFound);
  hooks.AddPreUpdate([](const std::string&, Json&) {
    throw ValidationError("bad", {FieldError{"a", "r", "", "", ""}});
  });
  Json patch = Json::object();
  try {
    hooks.RunPreUpdate("x", patch);
    FAIL();
  } catch (const ValidationError& e) {
    EXPECT_EQ(e.fields().size(), 1u);
  }
}

TEST(Hooks, NonStdExceptionsAbortToo) {
  HookRegistry hooks;
  hooks.AddPreDelete([](const std::string&) { throw 7; });
  EXPECT_THROW(hooks.RunPreDelete("x"), HookAborted);
}

TEST(Hooks, APreHookMustLeaveAnObject) {
  HookRegistry hooks("users");
  hooks.AddPreInsert([](Json& d) { d = Json::array(); });
  Json data = Json::object();
  EXPECT_THROW(hooks.RunPreInsert(data), HookAborted);
  hooks.AddPreUpdate([](const std::string&, Json& p) { p = nullptr; });
  Json patch = Json::object();
  EXPECT_THROW(hooks.RunPreUpdate("id", patch), HookAborted);
}

TEST(Hooks, AHookSetAppendsEveryListInOrder) {
  HookRegistry hooks("users");
  std::vector<std::string> seen;
  hooks.AddPreInsert([&](Json&) { seen.push_back("existing"); });
  HookSet set;
  set.pre_insert = {[&](Json&) { seen.push_back("set1"); }, [&](Json&) { seen.push_back("set2"); }};
  set.after_update = {[](const Record&) {}};
  set.pre_delete = {[](const std::string&) {}};
  set.after_delete = {[](const std::string&) {}, [](const std::string&) {}};
  hooks.Add(set);
  Json d = Json::object();
  hooks.RunPreInsert(d);
  EXPECT_EQ(seen, (std::vector<std::string>{"existing", "set1", "set2"}));
  EXPECT_EQ(hooks.size(HookType::kAfterInsert), 0u);
  EXPECT_EQ(hooks.size(HookType::kPreUpdate), 0u);
  EXPECT_EQ(hooks.size(HookType::kAfterUpdate), 1u);
  EXPECT_EQ(hooks.size(HookType::kPreDelete), 1u);
  EXPECT_EQ(hooks.size(HookType::kAfterDelete), 2u);
  HookSet broken;
  broken.after_insert = {nullptr};
  EXPECT_THROW(hooks.Add(broken), InvalidArgument);
}

TEST(Hooks, RejectsEmptyHooks) {
  HookRegistry hooks;
  EXPECT_THROW(hooks.AddPreInsert(nullptr), InvalidArgument);
  EXPECT_THROW(hooks.AddAfterDelete(nullptr), InvalidArgument);
}

TEST(Hooks, AfterHookFailuresAreEventsAndTheOtherHooksStillRun) {
  HookRegistry hooks("users");
  EventEmitter events;
  std::vector<Json> reported;
  events.On(events::kHookError, [&](const Json& p) { reported.push_back(p); });
  int ran = 0;
  hooks.AddAfterInsert([&](const Record&) { ++ran; });
  hooks.AddAfterInsert([&](const Record&) { throw std::runtime_error("mailer down"); });
  hooks.AddAfterInsert([&](const Record& r) {
    ++ran;
    EXPECT_EQ(r.id, "u1");
  });
  size_t failed = 0;
  EXPECT_NO_THROW(failed = hooks.RunAfterInsert(MakeRecord("u1"), events));
  EXPECT_EQ(failed, 1u);
  EXPECT_EQ(ran, 2);
  ASSERT_EQ(reported.size(), 1u);
  EXPECT_EQ(
      reported[0],
      (Json{{"resource", "users"}, {"hook", "afterInsert"}, {"index", 1}, {"id", "u1"}, {"message", "mailer down"}}));

  hooks.AddAfterUpdate([](const Record&) { throw 1; });
  EXPECT_EQ(hooks.RunAfterUpdate(MakeRecord("u2"), events), 1u);
  hooks.AddAfterDelete([](const std::string&) { throw std::logic_error("x"); });
  hooks.AddAfterDelete([](const std::string&) { throw std::logic_error("y"); });
  EXPECT_EQ(hooks.RunAfterDelete("u3", events), 2u);
  ASSERT_EQ(reported.size(), 4u);
  EXPECT_EQ(reported[1]["hook"], "afterUpdate");
  EXPECT_EQ(reported[3]["hook"], "afterDelete");
  EXPECT_EQ(reported[3]["id"], "u3");
  EXPECT_EQ(reported[3]["index"], 1);
}

TEST(Hooks, AnAfterHookFailureNobodyListensForIsReportedAsALine) {
  std::vector<std::string> lines;
  EventEmitter events([&](const std::string& l) { lines.push_back(l); });
  HookRegistry hooks("orders");
  hooks.AddAfterDelete([](const std::string&) { throw std::runtime_error("audit log full"); });
  EXPECT_EQ(hooks.RunAfterDelete("o1", events), 1u);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("afterDelete hook #0 of resource 'orders'"), std::string::npos);
  EXPECT_NE(lines[0].find("audit log full"), std::string::npos);
}

TEST(Hooks, AThrowingHookErrorListenerDoesNotEscapeEither) {
  HookRegistry hooks("users");
  std::vector<std::string> lines;
  EventEmitter events([&](const std::string& l) { lines.push_back(l); });
  events.On(events::kHookError, [](const Json&) { throw std::runtime_error("listener broke"); });
  hooks.AddAfterInsert([](const Record&) { throw std::runtime_error("hook broke"); });
  EXPECT_NO_THROW(hooks.RunAfterInsert(MakeRecord("u1"), events));
  EXPECT_EQ(events.listener_failures(), 1u);
}

TEST(Hooks, HooksAddedDuringARunApplyFromTheNextRun) {
  HookRegistry hooks;
  int second = 0;
  hooks.AddPreInsert([&](Json&) { hooks.AddPreInsert([&](Json&) { ++second; }); });
  Json d = Json::object();
  hooks.RunPreInsert(d);
  EXPECT_EQ(second, 0);
  hooks.RunPreInsert(d);
  EXPECT_EQ(second, 1);
}

// The contract the core relies on: pre-hooks run before any request, so an abort writes
// nothing; an after-hook failure leaves the write in place. Shown with the insert sequence the
// core will run (pre-hooks, PUT, after-hooks), counted by CostsPlugin on a real store.
TEST(Hooks, AnAbortedInsertMakesNoRequestAndAFailedAfterHookKeepsTheWrite) {
  CostsPlugin costs;
  std::string bucket = testing::UniqueBucket("hooks");
  auto store = costs.Wrap(NewMemoryStore(bucket));
  HookRegistry hooks("users");
  EventEmitter events([](const std::string&) {});
  bool reject = true;
  hooks.AddPreInsert([&](Json&) {
    if (reject) throw std::runtime_error("rejected");
  });
  hooks.AddAfterInsert([](const Record&) { throw std::runtime_error("after failed"); });
  auto insert = [&](Json data) {
    hooks.RunPreInsert(data);
    PutRequest put;
    put.key = "resource=users/data/id=" + data["id"].get<std::string>();
    put.body = data.dump();
    put.if_none_match_star = true;
    Result<ObjectInfo> written = store->Put(put);
    ThrowIfError(written.status());
    Record r;
    r.id = data["id"];
    hooks.RunAfterInsert(r, events);
  };
  EXPECT_THROW(insert({{"id", "a"}}), HookAborted);
  EXPECT_EQ(costs.Totals().total_requests(), 0u);
  reject = false;
  EXPECT_NO_THROW(insert({{"id", "a"}}));
  EXPECT_EQ(costs.Totals().count(RequestKind::kPut), 1u);
  EXPECT_TRUE(store->Get("resource=users/data/id=a").ok());
  ClearMemoryBucket(bucket);
}

}  // namespace
}  // namespace s3db

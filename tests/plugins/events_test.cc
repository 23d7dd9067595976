// EventEmitter and RedactSecrets.
#include <gtest/gtest.h>

#include <stdexcept>
#include <thread>

#include "s3db/plugin.h"

namespace s3db {
namespace {

struct Reports {
  std::mutex mu;
  std::vector<std::string> lines;
  EventEmitter::ReportFn fn() {
    return [this](const std::string& line) {
      std::lock_guard lock(mu);
      lines.push_back(line);
    };
  }
};

TEST(EventEmitter, CallsListenersInOrderWithThePayload) {
  EventEmitter e;
  std::vector<std::string> seen;
  e.On("insert", [&](const Json& p) { seen.push_back("a" + p["id"].get<std::string>()); });
  e.On("insert", [&](const Json& p) { seen.push_back("b" + p["id"].get<std::string>()); });
  e.On("delete", [&](const Json&) { seen.push_back("never"); });
  EXPECT_EQ(e.Emit("insert", Json{{"id", "1"}}), 2u);
  EXPECT_EQ(seen, (std::vector<std::string>{"a1", "b1"}));
  EXPECT_EQ(e.Emit("update", Json::object()), 0u);
  EXPECT_TRUE(e.HasListeners("delete"));
  EXPECT_FALSE(e.HasListeners("update"));
}

TEST(EventEmitter, OffRemovesOnlyThatListener) {
  EventEmitter e;
  int a = 0, b = 0;
  SubscriptionId ia = e.On("x", [&](const Json&) { ++a; });
  e.On("x", [&](const Json&) { ++b; });
  EXPECT_NE(ia, 0u);
  EXPECT_TRUE(e.Off(ia));
  EXPECT_FALSE(e.Off(ia));
  EXPECT_FALSE(e.Off(987654321));
  e.Emit("x", {});
  EXPECT_EQ(a, 0);
  EXPECT_EQ(b, 1);
}

TEST(EventEmitter, IdsAreUniqueAcrossEmitters) {
  EventEmitter one, two;
  int calls = 0;
  SubscriptionId a = one.On("x", [&](const Json&) { ++calls; });
  SubscriptionId b = two.On("x", [&](const Json&) { ++calls; });
  EXPECT_NE(a, b);
  EXPECT_FALSE(one.Off(b));  // another emitter's id is not this one's to remove
  one.Emit("x", {});
  EXPECT_EQ(calls, 1);
}

TEST(EventEmitter, RejectsAnEmptyListener) {
  EventEmitter e;
  EXPECT_THROW(e.On("x", nullptr), InvalidArgument);
}

TEST(EventEmitter, AThrowingListenerNeverEscapesAndTheOthersStillRun) {
  Reports reports;
  EventEmitter e(reports.fn());
  int after = 0;
  e.On("insert", [](const Json&) { throw std::runtime_error("boom"); });
  e.On("insert", [](const Json&) { throw 42; });
  e.On("insert", [&](const Json&) { ++after; });
  EXPECT_NO_THROW(e.Emit("insert", Json::object()));
  EXPECT_EQ(after, 1);
  EXPECT_EQ(e.listener_failures(), 2u);
  // Nobody listens for "error": each failure became one report line naming the event.
  ASSERT_EQ(reports.lines.size(), 2u);
  EXPECT_NE(reports.lines[0].find("'insert'"), std::string::npos);
  EXPECT_NE(reports.lines[0].find("boom"), std::string::npos);
}

TEST(EventEmitter, ListenerFailuresGoToErrorListenersWhenThereAreSome) {
  Reports reports;
  EventEmitter e(reports.fn());
  std::vector<Json> errors;
  e.On("error", [&](const Json& p) { errors.push_back(p); });
  e.On("get", [](const Json&) { throw std::runtime_error("bad listener"); });
  e.Emit("get", Json::object());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0]["type"], "listenerError");
  EXPECT_EQ(errors[0]["event"], "get");
  EXPECT_EQ(errors[0]["message"], "bad listener");
  EXPECT_TRUE(reports.lines.empty());
}

TEST(EventEmitter, AThrowingErrorListenerIsReportedNotRecursedInto) {
  Reports reports;
  EventEmitter e(reports.fn());
  int error_calls = 0;
  e.On("error", [&](const Json&) {
    ++error_calls;
    throw std::runtime_error("error listener broke");
  });
  e.On("get", [](const Json&) { throw std::runtime_error("first"); });
  EXPECT_NO_THROW(e.Emit("get", Json::object()));
  EXPECT_EQ(error_calls, 1);
  EXPECT_EQ(e.listener_failures(), 2u);
  ASSERT_EQ(reports.lines.size(), 1u);
  EXPECT_NE(reports.lines[0].find("error listener broke"), std::string::npos);
}

TEST(EventEmitter, AThrowingReportFunctionIsSwallowed) {
  EventEmitter e([](const std::string&) { throw std::runtime_error("stderr is gone"); });
  e.On("x", [](const Json&) { throw std::runtime_error("listener"); });
  EXPECT_NO_THROW(e.Emit("x", {}));
  EXPECT_EQ(e.listener_failures(), 1u);
}

TEST(EventEmitter, ListenersMaySubscribeUnsubscribeAndEmitFromInside) {
  EventEmitter e;
  int nested = 0, late = 0;
  SubscriptionId self = 0;
  self = e.On("outer", [&](const Json&) {
    e.On("outer", [&](const Json&) { ++late; });  // joins from the next Emit on
    e.Emit("inner", {});
    e.Off(self);
  });
  e.On("inner", [&](const Json&) { ++nested; });
  e.Emit("outer", {});
  EXPECT_EQ(nested, 1);
  EXPECT_EQ(late, 0);  // the running Emit used the snapshot taken when it started
  e.Emit("outer", {});
  EXPECT_EQ(nested, 1);  // the first listener removed itself
  EXPECT_EQ(late, 1);
}

TEST(EventEmitter, IsThreadSafe) {
  EventEmitter e;
  std::atomic<int> calls{0};
  e.On("x", [&](const Json&) { calls++; });
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) e.Emit("x", Json{{"i", i}});
    });
  }
  threads.emplace_back([&] {
    for (int i = 0; i < 500; ++i) {
      SubscriptionId id = e.On("x", [](const Json&) {});
      e.Off(id);
    }
  });
  for (auto& t : threads) t.join();
  EXPECT_EQ(calls.load(), 2000);
}

TEST(RedactSecrets, ReplacesTopLevelNestedAndArrayItemPaths) {
  Json record = {{"id", "u1"},
                 {"name", "Ada"},
                 {"password", "hunter2"},
                 {"card", {{"number", "4111"}, {"holder", "Ada"}}},
                 {"keys", Json::array({{{"token", "t1"}}, {{"token", "t2"}}, {{"other", 1}}})},
                 {"pins", Json::array({"1", "2"})}};
  Json out = RedactSecrets(record, {"password", "card.number", "keys[].token", "pins[]"});
  EXPECT_EQ(out["password"], "***");
  EXPECT_EQ(out["card"]["number"], "***");
  EXPECT_EQ(out["card"]["holder"], "Ada");
  EXPECT_EQ(out["keys"][0]["token"], "***");
  EXPECT_EQ(out["keys"][1]["token"], "***");
  EXPECT_EQ(out["keys"][2], (Json{{"other", 1}}));
  EXPECT_EQ(out["pins"], (Json::array({"***", "***"})));
  EXPECT_EQ(out["name"], "Ada");
  EXPECT_EQ(record["password"], "hunter2");  // the input is a copy
}

TEST(RedactSecrets, LeavesAbsentNullAndMismatchedShapesAlone) {
  Json record = {{"a", nullptr}, {"b", "x"}, {"c", {{"d", nullptr}}}};
  Json out = RedactSecrets(record, {"a", "missing", "b.deeper", "c.d", "c.e", "", "b[]"});
  EXPECT_EQ(out["a"], nullptr);
  EXPECT_EQ(out["c"]["d"], nullptr);
  // "b[]" on a string (not an array) still redacts the value itself: never leak by shape.
  EXPECT_EQ(out["b"], "***");
  EXPECT_EQ(RedactSecrets(Json("text"), {"a"}), Json("text"));
}

}  // namespace
}  // namespace s3db

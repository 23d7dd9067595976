// `unique` on scalar fields: enforced across records with claim objects (index/unique_index.h),
// on every local backend, including concurrent writers and writers that crashed half way.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "index/unique_index.h"
#include "s3db/database.h"
#include "support/test_stores.h"
#include "util/time_format.h"

namespace s3db {
namespace {

using testing::Backend;
using testing::StoreFactory;

ResourceDefinition Users() {
  ResourceDefinition def;
  def.name = "users";
  def.attributes = Json::parse(R"({
    "username": "string|min:3|max:50|unique",
    "email": "email|unique|trim|lowercase",
    "score": "number|unique|optional",
    "nick": "string|unique|optional",
    "profile": {"handle": "string|unique|optional"},
    "tags": "array|items:string|unique|optional"
  })");
  return def;
}

Json User(const std::string& id, const std::string& username, const std::string& email) {
  return Json{{"id", id}, {"username", username}, {"email", email}};
}

class UniqueTest : public ::testing::TestWithParam<Backend> {
 protected:
  StoreFactory stores_{GetParam()};
  std::unique_ptr<Database> db_ = stores_.Connect();
  Resource& users_ = db_->CreateResource(Users());

  // The claim object a value of `path` lives in, as the index names it.
  std::string ClaimKey(const std::string& path, const Json& value) {
    core::UniqueIndex index(db_->store(), "db/resource=users/", "users", nullptr, util::NowMs);
    return index.KeyFor(path, value);
  }
  void PutClaim(const std::string& path, const Json& value, const Json& body) {
    PutRequest put;
    put.key = ClaimKey(path, value);
    put.body = body.dump();
    ASSERT_TRUE(db_->store().Put(put).ok());
  }
};

TEST_P(UniqueTest, ADuplicateIsRefusedAndNothingIsWritten) {
  users_.Insert(User("a", "ada", "ada@example.com"));
  try {
    users_.Insert(User("b", "bob", " ADA@example.com "));  // normalised first, then compared
    FAIL() << "expected AlreadyExists";
  } catch (const AlreadyExists& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("'email'"), std::string::npos) << what;
    EXPECT_NE(what.find("record 'a'"), std::string::npos) << what;
  }
  EXPECT_FALSE(users_.Exists("b"));
  // The username bob claimed before the email failed was given back.
  users_.Insert(User("c", "bob", "bob@example.com"));
  EXPECT_EQ(users_.Count(), 2u);
}

TEST_P(UniqueTest, AbsentAndNullHoldNothingAndArraysMeanDistinctItems) {
  users_.Insert(User("a", "ada", "ada@example.com"));
  Json b = User("b", "bob", "bob@example.com");
  b["nick"] = nullptr;
  users_.Insert(b);
  Json c = User("c", "cyd", "cyd@example.com");
  c["tags"] = Json::array({"x", "y"});
  users_.Insert(c);
  Json d = User("d", "dan", "dan@example.com");
  d["tags"] = Json::array({"x", "y"});  // the same array on two records is fine
  users_.Insert(d);
  Json e = User("e", "eve", "eve@example.com");
  e["tags"] = Json::array({"x", "x"});
  EXPECT_THROW(users_.Insert(e), ValidationError);
  EXPECT_EQ(users_.Count(), 4u);
}

TEST_P(UniqueTest, NumbersCompareByValueAndNestedFieldsCount) {
  Json a = User("a", "ada", "ada@example.com");
  a["score"] = 2;
  a["profile"] = {{"handle", "@ada"}};
  users_.Insert(a);
  Json b = User("b", "bob", "bob@example.com");
  b["score"] = 2.0;
  EXPECT_THROW(users_.Insert(b), AlreadyExists);
  b["score"] = 2.5;
  b["profile"] = {{"handle", "@ada"}};
  EXPECT_THROW(users_.Insert(b), AlreadyExists);
  b["profile"]["handle"] = "@bob";
  users_.Insert(b);
}

TEST_P(UniqueTest, UpdateMovesTheClaimAndDeleteFreesIt) {
  users_.Insert(User("a", "ada", "ada@example.com"));
  users_.Insert(User("b", "bob", "bob@example.com"));
  EXPECT_THROW(users_.Update("b", Json{{"email", "ada@example.com"}}), AlreadyExists);
  EXPECT_EQ(users_.Get("b").data["email"], "bob@example.com");
  users_.Update("a", Json{{"email", "ada@new.example.com"}});
  users_.Update("b", Json{{"email", "ada@example.com"}});  // freed by a's update
  EXPECT_EQ(users_.Get("b").data["email"], "ada@example.com");
  EXPECT_THROW(users_.Insert(User("c", "cyd", "ada@new.example.com")), AlreadyExists);
  users_.Update("a", Json{{"username", "ada2"}});  // unchanged unique values keep their claims
  EXPECT_THROW(users_.Insert(User("c", "cyd", "ada@new.example.com")), AlreadyExists);
  users_.Delete("a");
  users_.Insert(User("c", "ada2", "ada@new.example.com"));  // both values freed by the delete
  EXPECT_EQ(users_.Count(), 2u);
  // Upsert goes through the same paths.
  EXPECT_THROW(users_.Upsert("d", Json{{"username", "ada2"}, {"email", "d@example.com"}}), AlreadyExists);
}

TEST_P(UniqueTest, ConcurrentInsertsOfOneValueLetExactlyOneWin) {
  constexpr int kThreads = 8;
  std::atomic<int> won{0}, lost{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto db = stores_.Connect();  // its own connection, as another process would have
      try {
        db->resource("users").Insert(User("u" + std::to_string(t), "user" + std::to_string(t), "same@example.com"));
        won++;
      } catch (const AlreadyExists&) {
        lost++;
      } catch (const Conflict&) {
        lost++;  // still being claimed when its retries ran out: also not inserted
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(won.load(), 1);
  EXPECT_EQ(lost.load(), kThreads - 1);
  EXPECT_EQ(users_.Count(), 1u);
}

TEST_P(UniqueTest, InsertManyRefusesDuplicatesWithinTheBatch) {
  std::vector<Json> items;
  for (int i = 0; i < 6; ++i)
    items.push_back(User("u" + std::to_string(i), "user" + std::to_string(i), "dup@example.com"));
  InsertManyResult result = users_.InsertMany(items);
  EXPECT_EQ(result.inserted.size(), 1u);
  EXPECT_EQ(result.errors.size(), 5u);
  for (const auto& e : result.errors) {
    EXPECT_TRUE(e.code == ErrorCode::kAlreadyExists || e.code == ErrorCode::kConflict) << e.message;
  }
}

TEST_P(UniqueTest, AWriteThatThrowsGivesItsClaimsBack) {
  ResourceDefinition def;
  def.name = "strict";
  def.behavior = "enforce-limits";
  def.attributes = Json::parse(R"({"code": "string|unique", "text": "string"})");
  Resource& strict = db_->CreateResource(def);
  EXPECT_THROW(strict.Insert(Json{{"id", "big"}, {"code", "A1"}, {"text", std::string(3000, 'x')}}), MetadataTooLarge);
  // Had the claim stayed pending, this would wait for the lease and fail with Conflict.
  strict.Insert(Json{{"id", "small"}, {"code", "A1"}, {"text", "fits"}});
  EXPECT_THROW(strict.Update("small", Json{{"text", std::string(3000, 'y')}}), MetadataTooLarge);
  EXPECT_EQ(strict.Get("small").data["text"], "fits");
}

TEST_P(UniqueTest, ClaimsLeftByCrashedWritersAreTakenOver) {
  // A writer claimed a value and died before writing its record (pending, past the lease).
  const int64_t long_ago = util::NowMs() - core::kUniqueClaimLeaseMs - 1000;
  PutClaim("email", "crash@example.com", {{"id", "ghost"}, {"state", "pending"}, {"at", long_ago}, {"w", "x"}});
  users_.Insert(User("a", "ada", "crash@example.com"));
  // A record that held a value and changed it without freeing it (died before the release).
  PutClaim("username", "bob", {{"id", "a"}, {"state", "held"}, {"at", util::NowMs()}, {"w", "y"}});
  users_.Insert(User("b", "bob", "bob@example.com"));  // a's username is "ada", not "bob"
  // A held claim whose holder was deleted behind the index's back.
  users_.Insert(User("c", "cyd", "cyd@example.com"));
  ASSERT_TRUE(db_->store().Delete("db/resource=users/data/id=c").ok());
  users_.Insert(User("d", "cyd", "dan@example.com"));
  EXPECT_EQ(users_.Count(), 3u);
}

TEST_P(UniqueTest, DropClearsTheClaims) {
  users_.Insert(User("a", "ada", "ada@example.com"));
  db_->DropResource("users");
  Resource& again = db_->CreateResource(Users());
  again.Insert(User("b", "ada", "ada@example.com"));
  EXPECT_EQ(again.Count(), 1u);
}

// Memory only: the claim protocol is the same on every backend, and this case waits ~2 s.
class UniqueWaitTest : public UniqueTest {};

TEST_P(UniqueWaitTest, AFreshPendingClaimIsAConflictNotADuplicate) {
  // Another writer is between its claim and its record write: this one waits, then reports
  // a retryable Conflict rather than a false "already taken".
  PutClaim("email", "busy@example.com", {{"id", "other"}, {"state", "pending"}, {"at", util::NowMs()}, {"w", "z"}});
  try {
    users_.Insert(User("a", "ada", "busy@example.com"));
    FAIL() << "expected Conflict";
  } catch (const Conflict& e) {
    EXPECT_TRUE(e.retryable());
    EXPECT_NE(std::string(e.what()).find("concurrent write"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(users_.Exists("a"));
}

INSTANTIATE_TEST_SUITE_P(Memory, UniqueWaitTest, ::testing::Values(Backend::kMemory),
                         [](const auto& info) { return testing::BackendName(info.param); });
INSTANTIATE_TEST_SUITE_P(Backends, UniqueTest, ::testing::ValuesIn(testing::TestBackends()),
                         [](const auto& info) { return testing::BackendName(info.param); });

}  // namespace
}  // namespace s3db

// MemoryStore beyond the shared contract: buckets shared by name within the process.
#include <gtest/gtest.h>

#include <string>

#include "s3db/stores.h"
#include "support/raw_objects.h"

namespace s3db {
namespace {

using testing::PutBody;

TEST(MemoryStore, StoresOnOneNameShareObjects) {
  ClearMemoryBucket("shared-a");
  ClearMemoryBucket("shared-b");
  auto first = NewMemoryStore("shared-a");
  auto second = NewMemoryStore("shared-a");
  auto other = NewMemoryStore("shared-b");
  ASSERT_TRUE(PutBody(*first, "k", "v").ok());
  Result<GetResult> got = second->Get("k");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->body, "v");
  EXPECT_EQ(other->Get("k").code(), ErrorCode::kNotFound);

  // A conditional write on one store sees the object written through the other.
  PutRequest create;
  create.key = "k";
  create.if_none_match_star = true;
  EXPECT_EQ(second->Put(create).code(), ErrorCode::kPreconditionFailed);
}

TEST(MemoryStore, BucketOutlivesItsStores) {
  ClearMemoryBucket("outlives");
  ASSERT_TRUE(PutBody(*NewMemoryStore("outlives"), "k", "kept").ok());
  Result<GetResult> got = NewMemoryStore("outlives")->Get("k");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->body, "kept");
}

TEST(MemoryStore, ClearEmptiesOneBucket) {
  auto store = NewMemoryStore("clear-me");
  auto keep = NewMemoryStore("keep-me");
  ASSERT_TRUE(PutBody(*store, "a", "1").ok());
  ASSERT_TRUE(PutBody(*keep, "a", "1").ok());
  ClearMemoryBucket("clear-me");
  EXPECT_EQ(store->Get("a").code(), ErrorCode::kNotFound);
  EXPECT_TRUE(keep->Get("a").ok());
  ClearMemoryBucket("never-opened");  // no-op
  ClearMemoryBucket("keep-me");
}

TEST(MemoryStore, Describe) {
  EXPECT_EQ(NewMemoryStore("my-bucket")->Describe(), "memory://my-bucket");
  EXPECT_EQ(NewMemoryStore("my bucket")->Describe(), "memory://my%20bucket");
}

}  // namespace
}  // namespace s3db

// The parallel lister returns exactly what a sequential listing does, on real stores.
#include <gtest/gtest.h>

#include <cstdio>
#include <random>

#include "exec/parallel_lister.h"
#include "format/key_layout.h"
#include "support/test_stores.h"
#include "util/parallel.h"

namespace s3db {
namespace {

using testing::Backend;
using testing::StoreFactory;

std::vector<std::string> SequentialKeys(ObjectStore& store, const std::string& prefix) {
  std::vector<std::string> keys;
  ListRequest request;
  request.prefix = prefix;
  while (true) {
    Result<ListPage> page = store.List(request);
    EXPECT_TRUE(page.ok());
    for (const auto& o : page->objects) keys.push_back(o.key);
    if (!page->truncated) return keys;
    request.continuation_token = page->next_continuation_token;
  }
}

void PutEmpty(ObjectStore& store, const std::string& key) {
  PutRequest put;
  put.key = key;
  ASSERT_TRUE(store.Put(put).ok()) << key;
}

class ParallelListerTest : public ::testing::TestWithParam<Backend> {
 protected:
  StoreFactory stores_{GetParam()};
};

TEST_P(ParallelListerTest, EqualsSequentialListingOnSkewedIds) {
  auto store = stores_.Open();
  const std::string prefix = "db/resource=r/data/id=";
  std::vector<std::string> ids;
  for (int i = 0; i < 1500; ++i) ids.push_back(format::NewId());                       // uniform
  for (int i = 0; i < 1300; ++i) ids.push_back("user-" + std::to_string(100000 + i));  // one hot range
  for (const char* odd : {"~tilde", "%25pct", "-dash", ".dot", "_under", "Z", "z"}) ids.push_back(odd);
  // Keys around the prefix that must not be listed.
  PutEmpty(*store, "db/resource=r/data/id");
  PutEmpty(*store, "db/resource=r2/data/id=x");
  util::ParallelFor(ids.size(), 16, [&](size_t i) { PutEmpty(*store, prefix + ids[i]); });
  const std::vector<std::string> sequential = SequentialKeys(*store, prefix);
  ASSERT_EQ(sequential.size(), ids.size());
  exec::ParallelListStats stats;
  Result<std::vector<std::string>> parallel =
      exec::ListKeysInParallel(*store, prefix, 16, exec::kEncodedIdAlphabet, &stats);
  ASSERT_TRUE(parallel.ok()) << parallel.status().ToString();
  EXPECT_EQ(*parallel, sequential);
  EXPECT_GE(stats.levels, 3u);  // "user-1..." needed splitting twice
  Result<std::vector<std::string>> one = exec::ListKeysInParallel(*store, prefix, 1, exec::kEncodedIdAlphabet);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(*one, sequential);
}

TEST_P(ParallelListerTest, SequentialIdsCostFewRequestsBeyondASequentialListing) {
  // Ids that share a long prefix ("u000000".."u004999") fill one narrow range: splitting it by
  // character at every depth would list ~66 empty ranges per level (269 requests for what 5
  // pages hold); the lister stops splitting once most ranges come back empty.
  auto store = stores_.Open();
  const std::string prefix = "db/resource=r/data/id=";
  const int n = GetParam() == Backend::kS3 ? 2500 : 5000;
  util::ParallelFor(static_cast<size_t>(n), 16, [&](size_t i) {
    char id[16];
    std::snprintf(id, sizeof(id), "u%06zu", i);
    PutEmpty(*store, prefix + id);
  });
  const std::vector<std::string> sequential = SequentialKeys(*store, prefix);
  ASSERT_EQ(sequential.size(), static_cast<size_t>(n));
  exec::ParallelListStats stats;
  Result<std::vector<std::string>> parallel =
      exec::ListKeysInParallel(*store, prefix, 32, exec::kEncodedIdAlphabet, &stats);
  ASSERT_TRUE(parallel.ok()) << parallel.status().ToString();
  EXPECT_EQ(*parallel, sequential);
  const size_t pages = (static_cast<size_t>(n) + 999) / 1000;
  EXPECT_LE(stats.requests, pages + 10) << "levels " << stats.levels;
}

TEST_P(ParallelListerTest, UniformIdsAreSplitOnceAndNoPageIsListedTwice) {
  auto store = stores_.Open();
  const std::string prefix = "db/resource=r/data/id=";
  const size_t n = GetParam() == Backend::kS3 ? 2500 : 6000;
  std::vector<std::string> ids(n);
  for (auto& id : ids) id = format::NewId();
  util::ParallelFor(n, 16, [&](size_t i) { PutEmpty(*store, prefix + ids[i]); });
  exec::ParallelListStats stats;
  Result<std::vector<std::string>> parallel =
      exec::ListKeysInParallel(*store, prefix, 32, exec::kEncodedIdAlphabet, &stats);
  ASSERT_TRUE(parallel.ok()) << parallel.status().ToString();
  EXPECT_EQ(*parallel, SequentialKeys(*store, prefix));
  // The first page, then one range per character after its last key's: 62 at most.
  EXPECT_EQ(stats.levels, 2u);
  EXPECT_LE(stats.requests, 1u + 63u);
}

TEST_P(ParallelListerTest, EmptyAndSmallRanges) {
  auto store = stores_.Open();
  Result<std::vector<std::string>> none = exec::ListKeysInParallel(*store, "nothing/", 8, exec::kEncodedIdAlphabet);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  PutEmpty(*store, "p/a");
  PutEmpty(*store, "p/b");
  Result<std::vector<std::string>> two = exec::ListKeysInParallel(*store, "p/", 8, exec::kEncodedIdAlphabet);
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(*two, (std::vector<std::string>{"p/a", "p/b"}));
}

INSTANTIATE_TEST_SUITE_P(Backends, ParallelListerTest, ::testing::ValuesIn(testing::TestBackends()),
                         [](const auto& info) { return testing::BackendName(info.param); });

}  // namespace
}  // namespace s3db

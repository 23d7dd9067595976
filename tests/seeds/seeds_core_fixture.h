// What the seed-example tests of the s3db.js README's first part share: a fixture that runs
// each example on every backend (memory, file, and RGW when $S3DB_TEST_S3_URI is set).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "s3db/database.h"
#include "support/test_stores.h"

namespace s3db::seeds {

class SeedsTest : public ::testing::TestWithParam<testing::Backend> {
 protected:
  testing::StoreFactory stores_{GetParam()};
  std::unique_ptr<Database> db_ = stores_.Connect();
};

inline std::string BackendTestName(const ::testing::TestParamInfo<testing::Backend>& info) {
  return testing::BackendName(info.param);
}

// The ids of `records`, in their order.
inline std::vector<std::string> IdsOf(const std::vector<Record>& records) {
  std::vector<std::string> ids;
  for (const Record& r : records) ids.push_back(r.id);
  return ids;
}

}  // namespace s3db::seeds

// Every suite of the seed tests runs on each backend this run can reach.
#define S3DB_SEEDS_ON_EVERY_BACKEND(Suite)                                                        \
  INSTANTIATE_TEST_SUITE_P(Backends, Suite, ::testing::ValuesIn(::s3db::testing::TestBackends()), \
                           ::s3db::seeds::BackendTestName)

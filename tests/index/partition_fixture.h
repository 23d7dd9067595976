// The fixture the partition tests share: a users resource with partitions, on every backend.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "s3db/database.h"
#include "support/fault_store.h"
#include "support/raw_objects.h"
#include "support/test_stores.h"

namespace s3db::partition_testing {

using testing::Backend;
using testing::FaultStore;
using testing::PutRawReference;
using testing::StoreFactory;

inline ResourceDefinition Users(bool async = false) {
  ResourceDefinition def;
  def.name = "users";
  def.attributes = Json::parse(R"({
    "name": "string",
    "region": "string|optional|nullable",
    "tier": "string|optional",
    "address": {"country": "string|optional", "state": "string|optional"},
    "born": "date|optional",
    "active": "boolean|optional",
    "age": "number|optional"
  })");
  def.partitions = Json::parse(R"({
    "byRegion": {"fields": {"region": "string"}},
    "byCountry": {"fields": {"address.country": "string|maxlength:2"}},
    "byPlace": {"fields": {"address.country": "string", "address.state": "string"}},
    "byTierRegion": {"fields": [{"tier": "string"}, {"region": "string"}]},
    "byBorn": {"fields": {"born": "date"}},
    "byActive": {"fields": {"active": "boolean"}}
  })");
  def.async_partitions = async;
  return def;
}

inline Json Ada() {
  return Json::parse(R"({"id": "ada", "name": "Ada", "region": "eu", "tier": "gold",
                         "address": {"country": "Portugal", "state": "Lisboa"},
                         "born": "1990-05-17T10:00:00Z", "active": true})");
}

inline ListOptions In(const std::string& partition, Json values) {
  ListOptions options;
  options.partition = partition;
  options.partition_values = std::move(values);
  return options;
}

inline std::set<std::string> AsSet(const std::vector<std::string>& v) { return {v.begin(), v.end()}; }

class PartitionTest : public ::testing::TestWithParam<Backend> {
 protected:
  std::unique_ptr<Database> Connect(DatabaseOptions options = {}) {
    options.executor.retries = 0;  // injected failures fail at once
    return Database::Open(std::make_unique<FaultStore>(stores_.Open(), control_), "db", options);
  }

  // Every object under the resource's partition references, read past the library.
  std::set<std::string> References(const std::string& resource = "users") {
    auto store = stores_.Open();
    ListRequest request;
    request.prefix = "db/resource=" + resource + "/partition=";
    std::set<std::string> keys;
    while (true) {
      Result<ListPage> page = store->List(request);
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok()) return keys;
      for (const auto& o : page->objects) keys.insert(o.key);
      if (!page->truncated) return keys;
      request.continuation_token = page->next_continuation_token;
    }
  }

  // The reference keys the record's current data calls for, through GetPartitionKey.
  std::set<std::string> Expected(Resource& resource, const std::vector<std::string>& ids) {
    std::set<std::string> keys;
    const Json partitions = resource.definition().partitions;
    for (const auto& id : ids) {
      Record r = resource.Get(id);
      for (const auto& p : partitions.items()) {
        if (auto key = resource.GetPartitionKey(p.key(), id, r.data)) keys.insert(*key);
      }
    }
    return keys;
  }

  StoreFactory stores_{GetParam()};
  std::shared_ptr<FaultStore::Control> control_ = std::make_shared<FaultStore::Control>();
  std::unique_ptr<Database> db_ = Connect();
};

}  // namespace s3db::partition_testing

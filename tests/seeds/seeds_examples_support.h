// What the seed-example tests of part 2 share (the s3db.js README from "Examples" to the end,
// and the performance guide): a fixture parameterized over every backend of the run, a
// connection with a cheap key derivation for secret fields, a way to read every stored object
// behind the database's back (to check what really lies in the bucket), and a URI that another
// process (the CLI) can open on the same objects.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cli/cli_fixture.h"
#include "s3db/database.h"
#include "s3db/object_store.h"
#include "support/definitions.h"
#include "support/test_stores.h"

namespace s3db::seeds {

using testing::Backend;
using testing::Def;
using testing::StoreFactory;

// Every object under `prefix` of `store` (key, metadata and body), read straight from the
// store: what a reader of the bucket without s3db would see.
inline std::vector<GetResult> RawObjects(ObjectStore& store, const std::string& prefix) {
  std::vector<GetResult> out;
  ListRequest list;
  list.prefix = prefix;
  while (true) {
    Result<ListPage> page = store.List(list);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    if (!page.ok()) return out;
    for (const ObjectInfo& o : page->objects) {
      Result<GetResult> got = store.Get(o.key);
      if (got.ok()) out.push_back(std::move(got).value());
    }
    if (!page->truncated) return out;
    list.continuation_token = page->next_continuation_token;
  }
}

// True when `text` appears in any stored object's metadata values or body.
inline bool StoredAnywhere(ObjectStore& store, const std::string& prefix, const std::string& text) {
  for (const GetResult& object : RawObjects(store, prefix)) {
    if (object.body.find(text) != std::string::npos) return true;
    for (const auto& [key, value] : object.info.metadata) {
      if (value.find(text) != std::string::npos || key.find(text) != std::string::npos) return true;
    }
  }
  return false;
}

class SeedsExampleTest : public ::testing::TestWithParam<Backend> {
 protected:
  // A database on this test's store. With a passphrase, the key derivation is cut to the
  // minimum the library accepts: the tests check what is encrypted, not how slowly.
  std::unique_ptr<Database> Connect(DatabaseOptions options = {}) {
    if (options.passphrase) options.kdf_iterations = 1000;
    return stores_.Connect("db", std::move(options));
  }
  // A second look at the same objects, under no database: to read what is stored.
  std::unique_ptr<ObjectStore> RawStore() { return stores_.Open(); }

  // A URI the CLI (another process) opens on objects this process also sees: a directory for
  // the file backend, a prefix of the test bucket on S3. Empty on memory (a memory bucket
  // lives in one process).
  std::string SharedUri() {
    switch (GetParam()) {
      case Backend::kMemory:
        return "";
      case Backend::kFile:
        return "file://" + (stores_.dir() / "shared").string();
      case Backend::kS3:
        return testing::TestS3Uri() + "/seeds-" + std::to_string(::getpid()) + "-" + StoreFactory::RandomTag() + "-" +
               std::to_string(shared_counter_++);
    }
    return "";
  }

  // The built `s3db` binary with these arguments, run in this test's directory.
  clitest::RunResult Cli(const std::vector<std::string>& args, const clitest::RunOptions& options = {}) {
    return clitest::Wait(clitest::Spawn(stores_.dir().string(), args, options));
  }

  StoreFactory stores_{GetParam()};
  static inline int shared_counter_ = 0;
};

#define S3DB_SEEDS_EXAMPLES_ON_EVERY_BACKEND(Suite)                                               \
  INSTANTIATE_TEST_SUITE_P(Backends, Suite, ::testing::ValuesIn(::s3db::testing::TestBackends()), \
                           [](const auto& info) { return ::s3db::testing::BackendName(info.param); })

}  // namespace s3db::seeds

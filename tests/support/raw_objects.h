// Objects written straight to a store, the way a test sets the scene behind the code it
// checks: PutBody for a bare body, MustPut for an object with a body and metadata, PutRawReference for the empty
// object a partition reference is (docs/FORMAT.md "Partition references"), such as a crash or
// a stale writer leaves behind. Needs only the ObjectStore interface.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "s3db/object_store.h"

namespace s3db::testing {

// Puts `body` at `key`, with no metadata and no condition; returns what the store said.
inline Status PutBody(ObjectStore& store, const std::string& key, const std::string& body) {
  PutRequest request;
  request.key = key;
  request.body = body;
  return store.Put(request).status();
}

// Puts the object and expects it to succeed; returns what the store reported (empty on failure).
inline ObjectInfo MustPut(ObjectStore& store, const std::string& key, const std::string& body = "body",
                          const Metadata& metadata = {}) {
  PutRequest request;
  request.key = key;
  request.body = body;
  request.metadata = metadata;
  Result<ObjectInfo> result = store.Put(request);
  EXPECT_TRUE(result.ok()) << key << ": " << result.status().ToString();
  return result.ok() ? *result : ObjectInfo{};
}

// An empty object with no metadata at `key`, written behind the database's back.
inline void PutRawReference(ObjectStore& store, const std::string& key) {
  PutRequest put;
  put.key = key;
  ASSERT_TRUE(store.Put(put).ok()) << key;
}

}  // namespace s3db::testing

// How every local store reads a ListRequest: the key bound a page starts after, the page
// size, and the continuation token. Kept apart from the stores so both page identically.
//
// The continuation token is "1." followed by the standard base64 of the last key the page
// returned. Callers must treat it as opaque; the version prefix lets the format change
// without misreading old tokens.
//
// May call: util/ and the public headers.
#pragma once

#include <string>
#include <string_view>

#include "s3db/errors.h"
#include "s3db/object_store.h"

namespace s3db::store {

inline constexpr int kMaxListKeys = 1000;
inline constexpr size_t kMaxDeleteKeys = 1000;

// A ListRequest reduced to what a store needs.
struct ListBounds {
  std::string prefix;
  // Only keys strictly greater than this are listed: the larger of start_after and the
  // key the continuation token resumes after. Empty lists from the start (keys are never empty).
  std::string after;
  int max_keys = kMaxListKeys;  // clamped to 1..1000
};

// kInvalidArgument when the continuation token is malformed.
Result<ListBounds> ResolveListRequest(const ListRequest& request);

std::string EncodeContinuationToken(std::string_view last_key);

}  // namespace s3db::store

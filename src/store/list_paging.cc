#include "store/list_paging.h"

#include <algorithm>

#include "store/metadata_rules.h"
#include "util/crypto_hash.h"

namespace s3db::store {
namespace {

constexpr std::string_view kTokenVersion = "1.";

}  // namespace

std::string EncodeContinuationToken(std::string_view last_key) {
  return std::string(kTokenVersion) + util::Base64Encode(last_key);
}

Result<ListBounds> ResolveListRequest(const ListRequest& request) {
  ListBounds bounds;
  bounds.prefix = request.prefix;
  bounds.after = request.start_after;
  bounds.max_keys = std::clamp(request.max_keys, 1, kMaxListKeys);
  if (!request.continuation_token.empty()) {
    std::string_view token = request.continuation_token;
    std::string resume_after;
    if (token.substr(0, kTokenVersion.size()) != kTokenVersion ||
        !util::Base64Decode(token.substr(kTokenVersion.size()), &resume_after) ||
        !ValidateObjectKey(resume_after).ok()) {
      // The token is ours, so anything else is a caller bug; do not echo it (it may be huge).
      return Status(ErrorCode::kInvalidArgument, "malformed list continuation token");
    }
    bounds.after = std::max(bounds.after, resume_after);
  }
  return bounds;
}

}  // namespace s3db::store

// What the connection-string parser (src/store/uri.cc) shares with the masker of secrets
// (src/store/secret_masker.cc), which parses a URI to learn its secrets.
#pragma once

#include <string>
#include <string_view>

#include "s3db/stores.h"

namespace s3db::store {

// What stands in for a secret in every text we print.
inline constexpr std::string_view kSecretMask = "***";

// ParseStoreUri's grammar (src/store/uri.cc); the messages echo no secret, but are not masked.
Result<StoreUri> ParseStoreUriUnmasked(const std::string& text);

}  // namespace s3db::store

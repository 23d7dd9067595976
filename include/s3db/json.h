// The document type of the public API: nlohmann::json (header-only, Debian nlohmann-json3-dev).
#pragma once

#include <nlohmann/json.hpp>

namespace s3db {
using Json = nlohmann::json;
}  // namespace s3db

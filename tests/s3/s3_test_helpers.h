// What the S3 store tests share: the ETag S3 gives a body.
#pragma once

#include <string>

#include "util/crypto_hash.h"

namespace s3db::s3 {

inline std::string Md5Etag(const std::string& body) { return "\"" + util::HexEncode(util::Md5(body)) + "\""; }

}  // namespace s3db::s3

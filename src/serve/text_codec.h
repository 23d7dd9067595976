// The text encodings the API shares: base64url (JWTs, listing cursors) and percent-encoding of
// one path segment (Location headers, the OpenAPI document's paths). The library has its own
// percent-encoder in src/util, but the server uses only the public API (include/s3db/).
#pragma once

#include <string>
#include <string_view>

namespace s3db::serve {

// Unpadded base64url (RFC 4648 §5).
std::string Base64UrlEncode(std::string_view bytes);
// False for a character outside the alphabet (padding included) or a lone trailing character.
bool Base64UrlDecode(std::string_view text, std::string& out);
// Every byte but A-Z a-z 0-9 - . _ ~ as %XX.
std::string PercentEncodeSegment(std::string_view text);

}  // namespace s3db::serve

// Who may call the API (docs/SERVE.md, "Authentication"): API keys, kept as SHA-256 digests
// with scopes read/write/admin per resource, and bearer JWTs signed HS256 or RS256 with a
// configured key, whose "scope" claim carries the same scopes. Signatures and digests are
// checked with OpenSSL 3, compared in constant time; a token's alg must be the configured one
// (never "none"), and exp (required) and nbf are enforced.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "http_types.h"
#include "s3db/record.h"

namespace s3db::serve {

enum class Access { kRead = 1, kWrite = 2, kAdmin = 3 };

// "read:users", "write:*", "admin:*"; "read" alone means "read:*". admin includes write,
// write includes read.
struct Scope {
  Access access = Access::kRead;
  std::string resource = "*";
  static std::optional<Scope> Parse(const std::string& text);
};

struct Principal {
  std::string name;  // the key's name, the token's "sub"
  std::vector<Scope> scopes;
  bool Allows(Access access, const std::string& resource) const;
};

struct ApiKey {
  std::string name;
  std::string sha256_hex;  // of the key's bytes
  std::vector<Scope> scopes;
};

struct JwtSettings {
  std::string algorithm;   // "HS256" or "RS256"
  std::string secret;      // HS256: the shared secret's bytes
  std::string public_key;  // RS256: PEM
  std::string issuer;      // checked against "iss" when not empty
  std::string audience;    // must be "aud" (or one of them) when not empty
  std::chrono::seconds leeway{30};
};

struct AuthConfig {
  std::vector<ApiKey> keys;
  std::optional<JwtSettings> jwt;
  bool enabled() const { return !keys.empty() || jwt.has_value(); }

  // The --auth-file document:
  // {"apiKeys": [{"name": "ci", "sha256": "<hex>", "scopes": ["read:*", "write:users"]}],
  //  "jwt": {"algorithm": "HS256", "secretFile": "...", "issuer": "...", "audience": "..."}}
  // ("publicKeyFile" for RS256; relative files are relative to the document's directory).
  // InvalidArgument naming what is wrong (never a secret).
  static AuthConfig FromFile(const std::string& path);
  static AuthConfig FromJson(const Json& document, const std::string& base_directory);
};

// Hex SHA-256 of `text`: what an API key is stored as.
std::string Sha256Hex(const std::string& text);

struct AuthOutcome {
  std::optional<Principal> principal;  // set: authenticated
  std::string problem;                 // else why not (for the 401's detail)
};

class Authenticator {
 public:
  explicit Authenticator(AuthConfig config);
  ~Authenticator();
  bool enabled() const { return config_.enabled(); }
  // From "Authorization: Bearer <jwt or key>" or "X-API-Key: <key>".
  AuthOutcome Authenticate(const HttpRequest& request) const;
  // A JWT alone (exposed for the tests' refusals).
  AuthOutcome VerifyJwt(const std::string& token) const;

 private:
  AuthConfig config_;
  struct PublicKey;
  std::unique_ptr<PublicKey> public_key_;  // RS256
};

}  // namespace s3db::serve

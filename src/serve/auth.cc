#include "auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "s3db/errors.h"
#include "text_codec.h"

namespace s3db::serve {

std::optional<Scope> Scope::Parse(const std::string& text) {
  const size_t colon = text.find(':');
  const std::string level = text.substr(0, colon);
  Scope scope;
  if (level == "read") {
    scope.access = Access::kRead;
  } else if (level == "write") {
    scope.access = Access::kWrite;
  } else if (level == "admin") {
    scope.access = Access::kAdmin;
  } else {
    return std::nullopt;
  }
  if (colon != std::string::npos) scope.resource = text.substr(colon + 1);
  if (scope.resource.empty()) return std::nullopt;
  return scope;
}

bool Principal::Allows(Access access, const std::string& resource) const {
  for (const Scope& scope : scopes) {
    if (static_cast<int>(scope.access) >= static_cast<int>(access) &&
        (scope.resource == "*" || scope.resource == resource)) {
      return true;
    }
  }
  return false;
}

std::string Sha256Hex(const std::string& text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
  return out;
}

namespace {

std::string ReadWholeFile(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InvalidArgument(what + " " + path + " cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Resolve(const std::string& base, const std::string& file) {
  if (file.empty() || file[0] == '/' || base.empty()) return file;
  return (std::filesystem::path(base) / file).string();
}

std::vector<Scope> ScopesOf(const Json& list, const std::string& owner) {
  std::vector<Scope> scopes;
  if (!list.is_array()) throw InvalidArgument("auth: " + owner + ": \"scopes\" must be an array of strings");
  for (const Json& item : list) {
    std::optional<Scope> scope = item.is_string() ? Scope::Parse(item.get<std::string>()) : std::nullopt;
    if (!scope) {
      throw InvalidArgument("auth: " + owner + ": scope " + item.dump() +
                            " is not read, write or admin, optionally followed by :RESOURCE or :*");
    }
    scopes.push_back(*scope);
  }
  return scopes;
}

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

AuthConfig AuthConfig::FromFile(const std::string& path) {
  const std::string text = ReadWholeFile(path, "auth file");
  Json document = Json::parse(text, nullptr, false);
  if (document.is_discarded()) throw InvalidArgument("auth file " + path + " is not JSON");
  return FromJson(document, std::filesystem::path(path).parent_path().string());
}

AuthConfig AuthConfig::FromJson(const Json& document, const std::string& base_directory) {
  if (!document.is_object()) throw InvalidArgument("auth: the document must be a JSON object");
  AuthConfig config;
  if (auto keys = document.find("apiKeys"); keys != document.end()) {
    if (!keys->is_array()) throw InvalidArgument("auth: \"apiKeys\" must be an array");
    for (const Json& entry : *keys) {
      ApiKey key;
      key.name = entry.value("name", "");
      if (key.name.empty()) throw InvalidArgument("auth: an API key has no \"name\"");
      key.sha256_hex = entry.value("sha256", "");
      if (key.sha256_hex.size() != 64 || key.sha256_hex.find_first_not_of("0123456789abcdef") != std::string::npos) {
        throw InvalidArgument("auth: API key '" + key.name + "': \"sha256\" must be 64 lower-case hex digits");
      }
      key.scopes = ScopesOf(entry.value("scopes", Json::array()), "API key '" + key.name + "'");
      config.keys.push_back(std::move(key));
    }
  }
  if (auto jwt = document.find("jwt"); jwt != document.end()) {
    JwtSettings settings;
    settings.algorithm = jwt->value("algorithm", "");
    if (settings.algorithm == "HS256") {
      const std::string file = jwt->value("secretFile", "");
      if (file.empty()) throw InvalidArgument("auth: jwt HS256 needs \"secretFile\"");
      settings.secret = ReadWholeFile(Resolve(base_directory, file), "jwt secret file");
      while (!settings.secret.empty() && (settings.secret.back() == '\n' || settings.secret.back() == '\r')) {
        settings.secret.pop_back();
      }
      if (settings.secret.size() < 32) throw InvalidArgument("auth: the HS256 secret must be at least 32 bytes");
    } else if (settings.algorithm == "RS256") {
      const std::string file = jwt->value("publicKeyFile", "");
      if (file.empty()) throw InvalidArgument("auth: jwt RS256 needs \"publicKeyFile\"");
      settings.public_key = ReadWholeFile(Resolve(base_directory, file), "jwt public key file");
    } else {
      throw InvalidArgument("auth: jwt \"algorithm\" must be HS256 or RS256");
    }
    settings.issuer = jwt->value("issuer", "");
    settings.audience = jwt->value("audience", "");
    settings.leeway = std::chrono::seconds(jwt->value("leewaySeconds", 30));
    config.jwt = std::move(settings);
  }
  return config;
}

struct Authenticator::PublicKey {
  EVP_PKEY* key = nullptr;
  ~PublicKey() { EVP_PKEY_free(key); }
};

Authenticator::Authenticator(AuthConfig config) : config_(std::move(config)) {
  if (config_.jwt && config_.jwt->algorithm == "RS256") {
    BIO* bio = BIO_new_mem_buf(config_.jwt->public_key.data(), static_cast<int>(config_.jwt->public_key.size()));
    public_key_ = std::make_unique<PublicKey>();
    public_key_->key = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    if (public_key_->key == nullptr || EVP_PKEY_get_base_id(public_key_->key) != EVP_PKEY_RSA) {
      throw InvalidArgument("auth: the RS256 public key file does not hold a PEM RSA public key");
    }
  }
}

Authenticator::~Authenticator() = default;

AuthOutcome Authenticator::Authenticate(const HttpRequest& request) const {
  std::string presented = request.Header("x-api-key");
  const std::string authorization = request.Header("authorization");
  if (presented.empty() && !authorization.empty()) {
    if (authorization.size() < 7 || strncasecmp(authorization.c_str(), "Bearer ", 7) != 0) {
      return {std::nullopt, "the Authorization header must be 'Bearer <token or API key>'"};
    }
    presented = authorization.substr(7);
    if (std::count(presented.begin(), presented.end(), '.') == 2) {
      if (!config_.jwt) return {std::nullopt, "this server accepts no JWTs"};
      return VerifyJwt(presented);
    }
  }
  if (presented.empty()) return {std::nullopt, "credentials required: an API key (X-API-Key) or a bearer token"};
  const std::string digest = Sha256Hex(presented);
  const ApiKey* match = nullptr;
  for (const ApiKey& key : config_.keys) {  // every key compared, in constant time each
    if (CRYPTO_memcmp(key.sha256_hex.data(), digest.data(), digest.size()) == 0) match = &key;
  }
  if (match == nullptr) return {std::nullopt, "unknown API key"};
  return {Principal{match->name, match->scopes}, ""};
}

AuthOutcome Authenticator::VerifyJwt(const std::string& token) const {
  if (!config_.jwt) return {std::nullopt, "this server accepts no JWTs"};
  const JwtSettings& jwt = *config_.jwt;
  const size_t first = token.find('.');
  const size_t second = token.find('.', first + 1);
  if (first == std::string::npos || second == std::string::npos || token.find('.', second + 1) != std::string::npos) {
    return {std::nullopt, "malformed JWT"};
  }
  std::string header_text, payload_text, signature;
  if (!Base64UrlDecode(std::string_view(token).substr(0, first), header_text) ||
      !Base64UrlDecode(std::string_view(token).substr(first + 1, second - first - 1), payload_text) ||
      !Base64UrlDecode(std::string_view(token).substr(second + 1), signature)) {
    return {std::nullopt, "malformed JWT (base64url)"};
  }
  const Json header = Json::parse(header_text, nullptr, false);
  const Json payload = Json::parse(payload_text, nullptr, false);
  if (!header.is_object() || !payload.is_object()) return {std::nullopt, "malformed JWT (JSON)"};
  if (header.value("alg", "") != jwt.algorithm) {
    return {std::nullopt, "JWT algorithm must be " + jwt.algorithm};  // never "none", never another
  }
  const std::string_view signed_part = std::string_view(token).substr(0, second);
  bool verified = false;
  if (jwt.algorithm == "HS256") {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    HMAC(EVP_sha256(), jwt.secret.data(), static_cast<int>(jwt.secret.size()),
         reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size(), mac, &length);
    verified = signature.size() == length && CRYPTO_memcmp(mac, signature.data(), length) == 0;
  } else {
    EVP_MD_CTX* context = EVP_MD_CTX_new();
    verified = context != nullptr &&
               EVP_DigestVerifyInit(context, nullptr, EVP_sha256(), nullptr, public_key_->key) == 1 &&
               EVP_DigestVerify(context, reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                                reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size()) == 1;
    EVP_MD_CTX_free(context);
  }
  if (!verified) return {std::nullopt, "JWT signature does not verify"};
  const int64_t now = NowSeconds();
  const int64_t leeway = jwt.leeway.count();
  auto exp = payload.find("exp");
  if (exp == payload.end() || !exp->is_number()) return {std::nullopt, "JWT has no \"exp\""};
  if (now - leeway >= exp->get<double>()) return {std::nullopt, "JWT has expired"};
  if (auto nbf = payload.find("nbf"); nbf != payload.end()) {
    if (!nbf->is_number()) return {std::nullopt, "JWT \"nbf\" is not a number"};
    if (now + leeway < nbf->get<double>()) return {std::nullopt, "JWT is not valid yet (nbf)"};
  }
  if (!jwt.issuer.empty() && payload.value("iss", "") != jwt.issuer)
    return {std::nullopt, "JWT issuer is not accepted"};
  if (!jwt.audience.empty()) {
    const Json aud = payload.value("aud", Json());
    bool found = aud.is_string() && aud.get<std::string>() == jwt.audience;
    if (aud.is_array()) {
      for (const Json& item : aud) found = found || (item.is_string() && item.get<std::string>() == jwt.audience);
    }
    if (!found) return {std::nullopt, "JWT audience is not accepted"};
  }
  Principal principal;
  principal.name = payload.value("sub", "");
  std::vector<std::string> scope_texts;
  if (auto scope = payload.find("scope"); scope != payload.end() && scope->is_string()) {
    std::istringstream words(scope->get<std::string>());
    for (std::string word; words >> word;) scope_texts.push_back(word);
  } else if (auto scopes = payload.find("scopes"); scopes != payload.end() && scopes->is_array()) {
    for (const Json& item : *scopes) {
      if (item.is_string()) scope_texts.push_back(item.get<std::string>());
    }
  }
  for (const std::string& text : scope_texts) {
    if (std::optional<Scope> scope = Scope::Parse(text)) principal.scopes.push_back(*scope);  // others are not ours
  }
  return {std::move(principal), ""};
}

}  // namespace s3db::serve

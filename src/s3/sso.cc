#include "s3/sso.h"

#include <openssl/sha.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <utility>

#include "s3/credential_sources.h"
#include "s3/credentials.h"
#include "util/crypto_hash.h"
#include "util/text.h"
#include "util/time_format.h"

namespace s3db::s3 {
std::string SsoCacheFileName(const std::string& key) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest);
  return util::HexEncode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest)) + ".json";
}

Result<std::unique_ptr<SsoCredentialSource>> SsoCredentialSource::Create(SsoOptions options, std::string description) {
  Result<std::unique_ptr<HttpClient>> client = CredentialServiceClient();
  if (!client.ok()) return client.status();
  std::unique_ptr<SsoCredentialSource> source(new SsoCredentialSource());
  source->options_ = std::move(options);
  source->description_ = std::move(description);
  source->http_ = std::move(client).value();
  return source;
}

Result<TimedCredentials> SsoCredentialSource::Fetch() {
  const std::string login = "; run `" + options_.login_hint + "`";
  std::optional<std::string> cached = ReadWholeFile(options_.cache_file);
  if (!cached) return CredentialsUnavailable(description_ + ": no cached SSO token in " + options_.cache_file + login);
  nlohmann::json token = nlohmann::json::parse(*cached, nullptr, false);
  if (!token.is_object() || !token.contains("accessToken") || !token["accessToken"].is_string()) {
    return CredentialsUnavailable(description_ + ": " + options_.cache_file + " holds no accessToken" + login);
  }
  const std::string expires_at = token.value("expiresAt", "");
  std::optional<int64_t> expires_ms = util::ParseIso8601Ms(expires_at);
  if (!expires_ms || *expires_ms <= util::NowMs()) {
    return CredentialsUnavailable(description_ + ": the cached SSO token expired (" + expires_at + ")" + login);
  }
  HttpRequest request;
  request.url = options_.endpoint + "/federation/credentials?account_id=" + util::PercentEncode(options_.account_id) +
                "&role_name=" + util::PercentEncode(options_.role_name);
  request.headers.emplace_back("x-amz-sso_bearer_token", token["accessToken"].get<std::string>());
  Result<HttpResponse> response = http_->Send(request);
  const std::string where = description_ + ": GetRoleCredentials at " + options_.endpoint;
  if (!response.ok()) return Status(response.code(), where + ": " + response.status().message());
  if (response->status == 401 || response->status == 403) {
    return CredentialsUnavailable(where + ": HTTP " + std::to_string(response->status) + " (token refused" + login +
                                  ")");
  }
  if (response->status != 200) return CredentialsUnavailable(where + ": HTTP " + std::to_string(response->status));
  nlohmann::json body = nlohmann::json::parse(response->body, nullptr, false);
  const nlohmann::json* role =
      body.is_object() && body.contains("roleCredentials") ? &body["roleCredentials"] : nullptr;
  if (role == nullptr || !role->is_object())
    return CredentialsUnavailable(where + ": the answer has no roleCredentials");
  TimedCredentials timed;
  timed.credentials.access_key_id = role->value("accessKeyId", "");
  timed.credentials.secret_access_key = role->value("secretAccessKey", "");
  timed.credentials.session_token = role->value("sessionToken", "");
  if (timed.credentials.access_key_id.empty() || timed.credentials.secret_access_key.empty()) {
    return CredentialsUnavailable(where + ": the answer has no accessKeyId and secretAccessKey");
  }
  if (role->contains("expiration") && (*role)["expiration"].is_number_integer()) {
    timed.expiration = ExpirationFromMillis((*role)["expiration"].get<int64_t>());
  }
  return timed;
}

}  // namespace s3db::s3

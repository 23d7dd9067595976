#include "s3/sts.h"

#include <chrono>
#include <pugixml.hpp>
#include <utility>
#include <vector>

#include "s3/credential_sources.h"
#include "s3/credentials.h"
#include "s3/sigv4.h"
#include "util/text.h"
#include "util/time_format.h"

namespace s3db::s3 {
namespace {

// Finds the first element of that name anywhere under `node` (STS wraps its answers in
// <XResponse><XResult>, RGW sometimes with a namespace, sometimes not).
pugi::xml_node Descendant(const pugi::xml_node& node, const char* name) {
  return node.find_node([name](const pugi::xml_node& n) {
    std::string_view element = n.name();
    if (size_t colon = element.find(':'); colon != std::string_view::npos) element.remove_prefix(colon + 1);
    return element == name;
  });
}

std::string Body(const std::vector<std::pair<std::string, std::string>>& form) {
  std::string body;
  for (const auto& [name, value] : form) {
    if (!body.empty()) body += '&';
    body += util::PercentEncode(name) + "=" + util::PercentEncode(value);
  }
  return body;
}

std::string SessionName(const StsOptions& options) {
  if (!options.role_session_name.empty()) return options.role_session_name;
  return "s3db-" + std::to_string(util::NowMs());
}

// "host[:port]" of "scheme://host[:port][/]".
std::string HostHeader(const std::string& endpoint) {
  size_t begin = endpoint.find("://");
  begin = begin == std::string::npos ? 0 : begin + 3;
  return endpoint.substr(begin, endpoint.find('/', begin) - begin);
}

// Sends a Query API call; signed with `signer` unless it is null (web identity).
Result<TimedCredentials> Call(HttpClient& http, const StsOptions& options,
                              const std::vector<std::pair<std::string, std::string>>& form, const Credentials* signer,
                              const std::string& where) {
  HttpRequest request;
  request.method = "POST";
  request.url = options.endpoint + "/";
  request.body = Body(form);
  const std::string host = HostHeader(options.endpoint);
  request.headers.emplace_back("Host", host);
  request.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded; charset=utf-8");
  if (signer != nullptr) {
    SigningRequest signing;
    signing.method = "POST";
    signing.host = host;
    signing.path = "/";
    signing.headers = {{"content-type", "application/x-www-form-urlencoded; charset=utf-8"}};
    signing.payload_hash = PayloadHash(request.body);
    SigningContext context;
    context.credentials = *signer;
    context.region = options.region;
    context.service = "sts";
    context.time = std::chrono::system_clock::now();
    Result<SignedRequest> signed_request = SignV4(signing, context);
    if (!signed_request.ok()) return CredentialsUnavailable(where + ": " + signed_request.status().message());
    for (const auto& header : signed_request->headers_to_add) request.headers.push_back(header);
  }
  Result<HttpResponse> response = http.Send(request);
  if (!response.ok()) return Status(response.code(), where + ": " + response.status().message());
  return ParseStsResponse(response->status, response->body, where);
}

}  // namespace

Result<TimedCredentials> ParseStsResponse(int http_status, std::string_view body, const std::string& where) {
  pugi::xml_document doc;
  const bool parsed = doc.load_buffer(body.data(), body.size()).status == pugi::status_ok;
  if (http_status != 200) {
    pugi::xml_node error = parsed ? Descendant(doc, "Error") : pugi::xml_node();
    std::string code = error ? Descendant(error, "Code").text().get() : "";
    std::string message = error ? Descendant(error, "Message").text().get() : "";
    std::string text = where + ": HTTP " + std::to_string(http_status);
    if (!code.empty()) text += " " + code;
    if (!message.empty()) text += ": " + message;
    return CredentialsUnavailable(text);
  }
  pugi::xml_node credentials = parsed ? Descendant(doc, "Credentials") : pugi::xml_node();
  if (!credentials) return CredentialsUnavailable(where + ": the answer has no <Credentials>");
  TimedCredentials timed;
  timed.credentials.access_key_id = Descendant(credentials, "AccessKeyId").text().get();
  timed.credentials.secret_access_key = Descendant(credentials, "SecretAccessKey").text().get();
  timed.credentials.session_token = Descendant(credentials, "SessionToken").text().get();
  if (timed.credentials.access_key_id.empty() || timed.credentials.secret_access_key.empty()) {
    return CredentialsUnavailable(where + ": the answer's <Credentials> has no AccessKeyId and SecretAccessKey");
  }
  std::string expiration = Descendant(credentials, "Expiration").text().get();
  std::optional<int64_t> ms = util::ParseIso8601Ms(expiration);
  if (!ms) return CredentialsUnavailable(where + ": the answer's Expiration is not ISO 8601: '" + expiration + "'");
  timed.expiration = ExpirationFromMillis(*ms);
  return timed;
}

Result<std::unique_ptr<AssumeRoleSource>> AssumeRoleSource::Create(std::shared_ptr<CredentialProvider> base,
                                                                   StsOptions options, std::string description) {
  Result<std::unique_ptr<HttpClient>> http = CredentialServiceClient();
  if (!http.ok()) return http.status();
  std::unique_ptr<AssumeRoleSource> source(new AssumeRoleSource());
  source->base_ = std::move(base);
  source->options_ = std::move(options);
  source->description_ = std::move(description);
  source->http_ = std::move(http).value();
  return source;
}

Result<TimedCredentials> AssumeRoleSource::Fetch() {
  Result<Credentials> base = base_->Get();
  if (!base.ok()) return base.status();
  std::vector<std::pair<std::string, std::string>> form = {
      {"Action", "AssumeRole"},
      {"Version", "2011-06-15"},
      {"RoleArn", options_.role_arn},
      {"RoleSessionName", SessionName(options_)},
      {"DurationSeconds", std::to_string(options_.duration_seconds)}};
  if (!options_.external_id.empty()) form.emplace_back("ExternalId", options_.external_id);
  const std::string where = "STS AssumeRole " + options_.role_arn + " at " + options_.endpoint;
  return Call(*http_, options_, form, &*base, where);
}

Result<std::unique_ptr<WebIdentitySource>> WebIdentitySource::Create(StsOptions options, std::string description) {
  Result<std::unique_ptr<HttpClient>> http = CredentialServiceClient();
  if (!http.ok()) return http.status();
  std::unique_ptr<WebIdentitySource> source(new WebIdentitySource());
  source->options_ = std::move(options);
  source->description_ = std::move(description);
  source->http_ = std::move(http).value();
  return source;
}

Result<TimedCredentials> WebIdentitySource::Fetch() {
  std::optional<std::string> token = ReadWholeFile(options_.token_file);
  if (!token)
    return CredentialsUnavailable(description_ + ": cannot read the web identity token file " + options_.token_file);
  while (!token->empty() && (token->back() == '\n' || token->back() == '\r' || token->back() == ' ')) {
    token->pop_back();
  }
  if (token->empty())
    return CredentialsUnavailable(description_ + ": the web identity token file " + options_.token_file + " is empty");
  std::vector<std::pair<std::string, std::string>> form = {
      {"Action", "AssumeRoleWithWebIdentity"},
      {"Version", "2011-06-15"},
      {"RoleArn", options_.role_arn},
      {"RoleSessionName", SessionName(options_)},
      {"DurationSeconds", std::to_string(options_.duration_seconds)},
      {"WebIdentityToken", *token}};
  const std::string where = "STS AssumeRoleWithWebIdentity " + options_.role_arn + " at " + options_.endpoint;
  return Call(*http_, options_, form, nullptr, where);
}

}  // namespace s3db::s3

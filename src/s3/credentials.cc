#include "s3/credentials.h"

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <utility>

#include "util/text.h"

namespace s3db::s3 {
namespace {

constexpr const char* kVariables[] = {
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_STS",
    "AWS_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_EC2_METADATA_DISABLED",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT",
    "HOME",
};

Status Invalid(std::string message) { return Status(ErrorCode::kInvalidArgument, std::move(message)); }

bool ValidEndpoint(const std::string& endpoint) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (!util::StartsWith(endpoint, scheme)) continue;
    std::string_view rest = std::string_view(endpoint).substr(scheme.size());
    if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
    if (rest.empty()) return false;
    for (char c : rest) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
                c == ':' || c == '[' || c == ']';
      if (!ok) return false;
    }
    return true;
  }
  return false;
}

// The host of "scheme://host[:port]/path", lower-case, without brackets or port.
std::string HostOf(const std::string& url) {
  size_t begin = url.find("://");
  begin = begin == std::string::npos ? 0 : begin + 3;
  size_t end = url.find_first_of("/?#", begin);
  std::string authority = url.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
  if (size_t at = authority.rfind('@'); at != std::string::npos) authority.erase(0, at + 1);
  if (!authority.empty() && authority.front() == '[') {
    return util::ToLower(authority.substr(1, authority.find(']') - 1));
  }
  return util::ToLower(authority.substr(0, authority.find(':')));
}

// The hosts the SDKs let AWS_CONTAINER_CREDENTIALS_FULL_URI name over plain http: loopback,
// the ECS agent and the EKS Pod Identity agent.
bool AllowedContainerHost(const std::string& url) {
  if (util::StartsWith(util::ToLower(url), "https://")) return true;
  if (!util::StartsWith(util::ToLower(url), "http://")) return false;
  const std::string host = HostOf(url);
  return util::StartsWith(host, "127.") || host == "localhost" || host == "::1" || host == "169.254.170.2" ||
         host == "169.254.170.23" || host == "fd00:ec2::23";
}

bool IsTrue(const std::string& value) { return util::ToLower(value) == "true"; }

class Chain {
 public:
  Chain(const StoreUri& uri, const Environment& env, const ChainOptions& options)
      : uri_(uri), env_(env), options_(options) {}

  Result<ResolvedCredentials> Resolve() {
    // 1. The connection string.
    if (!uri_.access_key.empty() || !uri_.secret_key.empty()) {
      if (uri_.access_key.empty() || uri_.secret_key.empty()) {
        return Invalid("the connection string has an access key without a secret key");
      }
      return Finish(std::make_unique<StaticCredentialSource>(
          Credentials{uri_.access_key, uri_.secret_key, uri_.session_token}, "the connection string"));
    }
    Skip("the connection string: it has no KEY:SECRET@");
    // 2. The environment.
    std::string key = EnvValue(env_, "AWS_ACCESS_KEY_ID");
    std::string secret = EnvValue(env_, "AWS_SECRET_ACCESS_KEY");
    if (!key.empty() || !secret.empty()) {
      if (key.empty()) return Invalid("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
      if (secret.empty()) return Invalid("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
      return Finish(std::make_unique<StaticCredentialSource>(
          Credentials{key, secret, EnvValue(env_, "AWS_SESSION_TOKEN")}, "the environment (AWS_ACCESS_KEY_ID)"));
    }
    Skip("the environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set");
    // 3. Web identity from the environment.
    if (!EnvValue(env_, "AWS_WEB_IDENTITY_TOKEN_FILE").empty()) {
      return Status(ErrorCode::kUnsupported, "AWS_WEB_IDENTITY_TOKEN_FILE is set, but s3db cannot call STS yet");
    }
    Skip("web identity: AWS_WEB_IDENTITY_TOKEN_FILE is not set");
    // 4. The profile.
    const AwsProfiles profiles = LoadProfiles(env_, options_.read_file);
    const std::string profile = SelectedProfile(env_);
    std::string why;
    Result<std::unique_ptr<CredentialSource>> from_profile = FromProfile(profiles, profile, {}, &why);
    if (!from_profile.ok()) return from_profile.status();
    if (*from_profile) return Finish(std::move(from_profile).value());
    if (!EnvValue(env_, "AWS_PROFILE").empty()) return Invalid(why + " (AWS_PROFILE=" + profile + ")" + Tried());
    Skip(why);
    // 5 and 6 call the network: only for AWS itself, with nothing else to go on.
    if (uri_.scheme != StoreScheme::kS3) {
      Skip("container and EC2 instance metadata: they are tried only for s3:// connection strings");
      return Invalid("no S3 credentials found" + Tried());
    }
    // 5. Container credentials.
    Result<std::unique_ptr<CredentialSource>> container = FromContainer();
    if (!container.ok()) return container.status();
    if (*container) return Finish(std::move(container).value());
    // 6. EC2 instance metadata.
    if (IsTrue(EnvValue(env_, "AWS_EC2_METADATA_DISABLED"))) {
      Skip("EC2 instance metadata: AWS_EC2_METADATA_DISABLED is true");
      return Invalid("no S3 credentials found" + Tried());
    }
    std::string endpoint = EnvValue(env_, "AWS_EC2_METADATA_SERVICE_ENDPOINT");
    if (endpoint.empty()) endpoint = options_.imds_endpoint;
    Result<std::unique_ptr<ImdsCredentialSource>> imds = ImdsCredentialSource::Create(endpoint, options_.metadata);
    if (!imds.ok()) return imds.status();
    return Finish(std::move(imds).value());
  }

 private:
  void Skip(std::string why) { skipped_.push_back(std::move(why)); }

  std::string Tried() const {
    std::string text = "; tried, in order:";
    for (size_t i = 0; i < skipped_.size(); ++i) text += " (" + std::to_string(i + 1) + ") " + skipped_[i];
    return text;
  }

  Result<ResolvedCredentials> Finish(std::unique_ptr<CredentialSource> source) {
    auto provider = std::make_shared<CredentialProvider>(std::move(source));
    Result<Credentials> first = provider->Get();
    if (!first.ok()) {
      return Status(first.code(), first.status().message() + (skipped_.empty() ? std::string() : Tried()));
    }
    return ResolvedCredentials{provider, provider->Describe(), skipped_};
  }

  // The source profile `name` describes; nullptr with `why` set when it gives none.
  Result<std::unique_ptr<CredentialSource>> FromProfile(const AwsProfiles& profiles, const std::string& name,
                                                        std::set<std::string> visited, std::string* why) {
    const ProfileSettings* settings = profiles.Find(name);
    const std::string described = profiles.Describe(name);
    if (settings == nullptr) {
      *why = "the shared files: no profile [" + name + "] in " + profiles.Where();
      return std::unique_ptr<CredentialSource>();
    }
    if (!visited.insert(name).second) return Invalid(described + ": source_profile loops back to it");
    if (!Setting(*settings, "role_arn").empty()) {
      return Status(ErrorCode::kUnsupported, described + " assumes role_arn through STS, which s3db cannot call yet");
    }
    if (!Setting(*settings, "sso_start_url").empty() || !Setting(*settings, "sso_session").empty() ||
        !Setting(*settings, "sso_account_id").empty()) {
      return Status(ErrorCode::kUnsupported,
                    described +
                        " is an AWS IAM Identity Center (SSO) profile: s3db does not read the aws CLI's SSO "
                        "token cache; export temporary keys with `aws configure export-credentials --profile " +
                        name + " --format env` or use another profile");
    }
    const std::string key = Setting(*settings, "aws_access_key_id");
    const std::string secret = Setting(*settings, "aws_secret_access_key");
    if (!key.empty() || !secret.empty()) {
      if (key.empty()) return Invalid(described + " has aws_secret_access_key but no aws_access_key_id");
      if (secret.empty()) return Invalid(described + " has aws_access_key_id but no aws_secret_access_key");
      return std::unique_ptr<CredentialSource>(std::make_unique<StaticCredentialSource>(
          Credentials{key, secret, Setting(*settings, "aws_session_token")}, described + " (static keys)"));
    }
    const std::string process = Setting(*settings, "credential_process");
    if (!process.empty()) {
      return std::unique_ptr<CredentialSource>(
          std::make_unique<ProcessCredentialSource>(process, described + " (credential_process)"));
    }
    *why = "the shared files: " + described + " has no aws_access_key_id, role_arn, sso_* or credential_process";
    return std::unique_ptr<CredentialSource>();
  }

  Result<std::unique_ptr<CredentialSource>> FromContainer() {
    const std::string relative = EnvValue(env_, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    const std::string full = EnvValue(env_, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
    std::string url;
    std::string description;
    if (!relative.empty()) {
      if (relative.front() != '/') return Invalid("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must start with '/'");
      url = options_.ecs_endpoint + relative;
      description = "container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI)";
    } else if (!full.empty()) {
      if (!AllowedContainerHost(full)) {
        return Invalid(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI must be https:// or name a loopback address, 169.254.170.2 or "
            "169.254.170.23 (host '" +
            HostOf(full) + "')");
      }
      url = full;
      description = "container credentials (AWS_CONTAINER_CREDENTIALS_FULL_URI)";
    } else {
      Skip(
          "container credentials: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and AWS_CONTAINER_CREDENTIALS_FULL_URI are "
          "not set");
      return std::unique_ptr<CredentialSource>();
    }
    const std::string token_file = EnvValue(env_, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    Result<std::unique_ptr<ContainerCredentialSource>> source = ContainerCredentialSource::Create(
        url, token_file.empty() ? EnvValue(env_, "AWS_CONTAINER_AUTHORIZATION_TOKEN") : std::string(), token_file,
        description, options_.metadata);
    if (!source.ok()) return source.status();
    return std::unique_ptr<CredentialSource>(std::move(source).value());
  }

  const StoreUri& uri_;
  const Environment& env_;
  const ChainOptions& options_;
  std::vector<std::string> skipped_;
};

// The selected profile's value for `key`, or empty.
std::string ProfileSetting(const Environment& env, const FileReader& read_file, const std::string& key) {
  if (!read_file) return {};
  const AwsProfiles profiles = LoadProfiles(env, read_file);
  const ProfileSettings* settings = profiles.Find(SelectedProfile(env));
  return settings == nullptr ? std::string() : Setting(*settings, key);
}

}  // namespace

Environment CaptureEnvironment() {
  Environment env;
  for (const char* name : kVariables) {
    if (const char* value = std::getenv(name); value != nullptr) env[name] = value;
  }
  return env;
}

std::optional<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return text.str();
}

Result<ResolvedCredentials> ResolveCredentials(const StoreUri& uri, const Environment& env,
                                               const ChainOptions& options) {
  return Chain(uri, env, options).Resolve();
}

std::string ResolveRegion(const StoreUri& uri, const Environment& env, const FileReader& read_file) {
  if (!uri.region.empty()) return uri.region;
  for (const char* name : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
    std::string value = EnvValue(env, name);
    if (!value.empty()) return value;
  }
  std::string from_profile = ProfileSetting(env, read_file, "region");
  return from_profile.empty() ? "us-east-1" : from_profile;
}

Result<std::string> ResolveEndpoint(const StoreUri& uri, const Environment& env, const std::string& region,
                                    const FileReader& read_file) {
  std::string endpoint = uri.endpoint;
  std::string from = "the connection string's endpoint";
  for (const char* name : {"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"}) {
    if (!endpoint.empty()) break;
    endpoint = EnvValue(env, name);
    from = name;
  }
  if (endpoint.empty()) {
    endpoint = ProfileSetting(env, read_file, "endpoint_url");
    from = "the profile's endpoint_url";
  }
  if (endpoint.empty()) return "https://s3." + region + ".amazonaws.com";
  if (!ValidEndpoint(endpoint)) {
    return Invalid(from + " must be http(s)://host[:port] without a path");
  }
  if (endpoint.back() == '/') endpoint.pop_back();
  return endpoint;
}

}  // namespace s3db::s3

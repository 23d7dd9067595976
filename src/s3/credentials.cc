#include "s3/credentials.h"

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <utility>

#include "s3/sso.h"
#include "s3/sts.h"
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
    "AWS_ENDPOINT_URL_SSO",
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
    const AwsProfiles profiles = LoadProfiles(env_, options_.read_file);
    const std::string profile = SelectedProfile(env_);
    const std::string token_file = EnvValue(env_, "AWS_WEB_IDENTITY_TOKEN_FILE");
    if (!token_file.empty()) {
      const std::string role_arn = EnvValue(env_, "AWS_ROLE_ARN");
      if (role_arn.empty()) return Invalid("AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not");
      Result<StsOptions> sts = Sts(profiles.Find(profile), role_arn);
      if (!sts.ok()) return sts.status();
      sts->role_session_name = EnvValue(env_, "AWS_ROLE_SESSION_NAME");
      sts->token_file = token_file;
      Result<std::unique_ptr<WebIdentitySource>> source = WebIdentitySource::Create(
          std::move(sts).value(), "web identity (AWS_WEB_IDENTITY_TOKEN_FILE, " + role_arn + ")");
      if (!source.ok()) return source.status();
      return Finish(std::move(source).value());
    }
    Skip("web identity: AWS_WEB_IDENTITY_TOKEN_FILE is not set");
    // 4. The profile.
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
    // Asked only when no region is configured; a failure leaves the default.
    std::string region;
    if (ConfiguredRegion(uri_, env_, options_.read_file).empty()) {
      Result<std::string> placement = (*imds)->Region();
      if (placement.ok()) region = *placement;
    }
    Result<ResolvedCredentials> resolved = Finish(std::move(imds).value());
    if (resolved.ok()) resolved->instance_region = region;
    return resolved;
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
    return ResolvedCredentials{provider, provider->Describe(), skipped_, std::string()};
  }

  // Where STS is for a role of `profile` (may be null) and the role's settings.
  Result<StsOptions> Sts(const ProfileSettings* profile, const std::string& role_arn) {
    StsOptions sts;
    sts.role_arn = role_arn;
    sts.region = ResolveRegion(uri_, env_, options_.read_file);
    Result<std::string> endpoint = ResolveStsEndpoint(env_, profile, sts.region);
    if (!endpoint.ok()) return endpoint.status();
    sts.endpoint = std::move(endpoint).value();
    if (profile == nullptr) return sts;
    sts.role_session_name = Setting(*profile, "role_session_name");
    sts.external_id = Setting(*profile, "external_id");
    const std::string duration = Setting(*profile, "duration_seconds");
    if (!duration.empty()) {
      // The server enforces its own minimum (AWS: 900 s; a test RGW allows less).
      if (duration.size() > 5 || duration.find_first_not_of("0123456789") != std::string::npos ||
          std::stoi(duration) < 1 || std::stoi(duration) > 43200) {
        return Invalid("duration_seconds must be a number of seconds up to 43200, got '" + duration + "'");
      }
      sts.duration_seconds = std::stoi(duration);
    }
    return sts;
  }

  // A profile's role: STS AssumeRole with the credentials of source_profile or
  // credential_source, or AssumeRoleWithWebIdentity with web_identity_token_file.
  Result<std::unique_ptr<CredentialSource>> Role(const AwsProfiles& profiles, const std::string& name,
                                                 const ProfileSettings& settings, std::set<std::string> visited) {
    const std::string described = profiles.Describe(name);
    const std::string role_arn = Setting(settings, "role_arn");
    Result<StsOptions> sts = Sts(&settings, role_arn);
    if (!sts.ok()) return Invalid(described + ": " + sts.status().message());
    const std::string token_file = Setting(settings, "web_identity_token_file");
    if (!token_file.empty()) {
      sts->token_file = token_file;
      Result<std::unique_ptr<WebIdentitySource>> source =
          WebIdentitySource::Create(std::move(sts).value(), described + " (web_identity_token_file, " + role_arn + ")");
      if (!source.ok()) return source.status();
      return std::unique_ptr<CredentialSource>(std::move(source).value());
    }
    const std::string source_profile = Setting(settings, "source_profile");
    const std::string credential_source = Setting(settings, "credential_source");
    Result<std::unique_ptr<CredentialSource>> base = std::unique_ptr<CredentialSource>();
    std::string how;
    if (!source_profile.empty()) {
      how = "source_profile " + source_profile;
      std::string why;
      base = source_profile == name ? StaticKeys(settings, described)
                                    : FromProfile(profiles, source_profile, visited, &why);
      if (base.ok() && !*base) {
        return Invalid(described + ": its source_profile [" + source_profile + "] gives no credentials" +
                       (why.empty() ? std::string() : " (" + why + ")"));
      }
    } else if (credential_source == "Environment") {
      how = "credential_source Environment";
      std::string key = EnvValue(env_, "AWS_ACCESS_KEY_ID");
      std::string secret = EnvValue(env_, "AWS_SECRET_ACCESS_KEY");
      if (key.empty() || secret.empty()) {
        return Invalid(described + ": credential_source Environment needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
      }
      base = std::unique_ptr<CredentialSource>(std::make_unique<StaticCredentialSource>(
          Credentials{key, secret, EnvValue(env_, "AWS_SESSION_TOKEN")}, "the environment (AWS_ACCESS_KEY_ID)"));
    } else if (credential_source == "Ec2InstanceMetadata") {
      how = "credential_source Ec2InstanceMetadata";
      std::string endpoint = EnvValue(env_, "AWS_EC2_METADATA_SERVICE_ENDPOINT");
      Result<std::unique_ptr<ImdsCredentialSource>> imds =
          ImdsCredentialSource::Create(endpoint.empty() ? options_.imds_endpoint : endpoint, options_.metadata);
      if (!imds.ok()) return imds.status();
      base = std::unique_ptr<CredentialSource>(std::move(imds).value());
    } else if (credential_source == "EcsContainer") {
      how = "credential_source EcsContainer";
      base = FromContainer();
      if (base.ok() && !*base) {
        return Invalid(described +
                       ": credential_source EcsContainer needs AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or "
                       "AWS_CONTAINER_CREDENTIALS_FULL_URI");
      }
    } else {
      return Invalid(described +
                     " has role_arn but no source_profile, web_identity_token_file or a credential_source "
                     "of Environment, Ec2InstanceMetadata or EcsContainer");
    }
    if (!base.ok()) return base.status();
    Result<std::unique_ptr<AssumeRoleSource>> source =
        AssumeRoleSource::Create(std::make_shared<CredentialProvider>(std::move(base).value()), std::move(sts).value(),
                                 described + " (role_arn " + role_arn + " via " + how + ")");
    if (!source.ok()) return source.status();
    return std::unique_ptr<CredentialSource>(std::move(source).value());
  }

  // An SSO profile: the aws CLI's cached token for its sso_session (or legacy
  // sso_start_url), exchanged for role credentials (s3/sso.h).
  Result<std::unique_ptr<CredentialSource>> Sso(const AwsProfiles& profiles, const std::string& name,
                                                const ProfileSettings& settings) {
    const std::string described = profiles.Describe(name);
    const std::string session = Setting(settings, "sso_session");
    std::string key = session;
    std::string region = Setting(settings, "sso_region");
    if (!session.empty()) {
      auto it = profiles.sso_sessions.find(session);
      if (it == profiles.sso_sessions.end()) {
        return Invalid(described + " names sso_session " + session + ", but there is no [sso-session " + session +
                       "] in " + profiles.config_path);
      }
      region = Setting(it->second, "sso_region");
    } else {
      key = Setting(settings, "sso_start_url");
    }
    SsoOptions sso;
    sso.account_id = Setting(settings, "sso_account_id");
    sso.role_name = Setting(settings, "sso_role_name");
    for (const auto& [setting, value] : {std::pair<const char*, std::string>{"sso_account_id", sso.account_id},
                                         {"sso_role_name", sso.role_name},
                                         {"sso_region", region},
                                         {"sso_start_url", key}}) {
      if (value.empty()) return Invalid(described + " is an SSO profile without " + setting);
    }
    const std::string home = EnvValue(env_, "HOME");
    if (home.empty()) return Invalid(described + ": the SSO token cache is under $HOME, which is not set");
    sso.cache_file = home + "/.aws/sso/cache/" + SsoCacheFileName(key);
    sso.endpoint = EnvValue(env_, "AWS_ENDPOINT_URL_SSO");
    if (sso.endpoint.empty()) sso.endpoint = "https://portal.sso." + region + ".amazonaws.com";
    if (!ValidEndpoint(sso.endpoint))
      return Invalid("AWS_ENDPOINT_URL_SSO must be http(s)://host[:port] without a path");
    while (sso.endpoint.back() == '/') sso.endpoint.pop_back();
    sso.login_hint = "aws sso login --profile " + name;
    Result<std::unique_ptr<SsoCredentialSource>> source = SsoCredentialSource::Create(
        std::move(sso), described + " (SSO, account " + Setting(settings, "sso_account_id") + ", role " +
                            Setting(settings, "sso_role_name") + ")");
    if (!source.ok()) return source.status();
    return std::unique_ptr<CredentialSource>(std::move(source).value());
  }

  // The static keys of a profile; nullptr when it has none.
  static Result<std::unique_ptr<CredentialSource>> StaticKeys(const ProfileSettings& settings,
                                                              const std::string& described) {
    const std::string key = Setting(settings, "aws_access_key_id");
    const std::string secret = Setting(settings, "aws_secret_access_key");
    if (key.empty() && secret.empty()) return std::unique_ptr<CredentialSource>();
    if (key.empty()) return Invalid(described + " has aws_secret_access_key but no aws_access_key_id");
    if (secret.empty()) return Invalid(described + " has aws_access_key_id but no aws_secret_access_key");
    return std::unique_ptr<CredentialSource>(std::make_unique<StaticCredentialSource>(
        Credentials{key, secret, Setting(settings, "aws_session_token")}, described + " (static keys)"));
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
    if (!Setting(*settings, "role_arn").empty()) return Role(profiles, name, *settings, visited);
    if (!Setting(*settings, "sso_start_url").empty() || !Setting(*settings, "sso_session").empty() ||
        !Setting(*settings, "sso_account_id").empty()) {
      return Sso(profiles, name, *settings);
    }
    Result<std::unique_ptr<CredentialSource>> keys = StaticKeys(*settings, described);
    if (!keys.ok() || *keys) return keys;
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

std::string ConfiguredRegion(const StoreUri& uri, const Environment& env, const FileReader& read_file) {
  if (!uri.region.empty()) return uri.region;
  for (const char* name : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
    std::string value = EnvValue(env, name);
    if (!value.empty()) return value;
  }
  return ProfileSetting(env, read_file, "region");
}

std::string ResolveRegion(const StoreUri& uri, const Environment& env, const FileReader& read_file,
                          const std::string& instance_region) {
  std::string configured = ConfiguredRegion(uri, env, read_file);
  if (!configured.empty()) return configured;
  return instance_region.empty() ? "us-east-1" : instance_region;
}

Result<std::string> ResolveStsEndpoint(const Environment& env, const ProfileSettings* profile,
                                       const std::string& region) {
  std::string from = "AWS_ENDPOINT_URL_STS";
  std::string endpoint = EnvValue(env, "AWS_ENDPOINT_URL_STS");
  if (endpoint.empty() && profile != nullptr) {
    endpoint = Setting(*profile, "endpoint_url");
    from = "the profile's endpoint_url";
  }
  if (endpoint.empty()) {
    endpoint = EnvValue(env, "AWS_ENDPOINT_URL");
    from = "AWS_ENDPOINT_URL";
  }
  if (endpoint.empty()) return "https://sts." + region + ".amazonaws.com";
  if (!ValidEndpoint(endpoint)) return Invalid(from + " must be http(s)://host[:port] without a path");
  while (endpoint.back() == '/') endpoint.pop_back();
  return endpoint;
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

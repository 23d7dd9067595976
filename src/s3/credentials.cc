#include "s3/credentials.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

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
    "AWS_PROFILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "HOME",
};

std::string_view Trim(std::string_view s) {
  size_t first = s.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  size_t last = s.find_last_not_of(" \t\r");
  return s.substr(first, last - first + 1);
}

// An environment value, or empty when unset or blank.
std::string Get(const Environment& env, const std::string& name) {
  auto it = env.find(name);
  return it == env.end() ? std::string() : std::string(Trim(it->second));
}

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

Result<Credentials> ParseCredentialsFile(std::string_view contents, std::string_view profile) {
  bool found = false;
  bool in_profile = false;
  Credentials credentials;
  size_t start = 0;
  while (start <= contents.size()) {
    size_t end = contents.find('\n', start);
    if (end == std::string_view::npos) end = contents.size();
    std::string_view line = Trim(contents.substr(start, end - start));
    start = end + 1;
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[') {
      size_t close = line.find(']');
      std::string_view name = close == std::string_view::npos ? line.substr(1) : line.substr(1, close - 1);
      in_profile = Trim(name) == profile;
      found = found || in_profile;
      continue;
    }
    if (!in_profile) continue;
    size_t equals = line.find('=');
    if (equals == std::string_view::npos) continue;
    std::string key = util::ToLower(Trim(line.substr(0, equals)));
    std::string value(Trim(line.substr(equals + 1)));
    if (key == "aws_access_key_id") {
      credentials.access_key_id = value;
    } else if (key == "aws_secret_access_key") {
      credentials.secret_access_key = value;
    } else if (key == "aws_session_token") {
      credentials.session_token = value;
    }
  }
  std::string shown = "profile [" + std::string(profile) + "]";
  if (!found) return Status(ErrorCode::kNotFound, "no " + shown);
  if (credentials.access_key_id.empty()) return Invalid(shown + " has no aws_access_key_id");
  if (credentials.secret_access_key.empty()) {
    return Invalid(shown + " has no aws_secret_access_key");
  }
  return credentials;
}

Result<ResolvedCredentials> ResolveCredentials(const StoreUri& uri, const Environment& env,
                                               const FileReader& read_file) {
  // 1. The connection string.
  if (!uri.access_key.empty() || !uri.secret_key.empty()) {
    if (uri.access_key.empty() || uri.secret_key.empty()) {
      return Invalid("the connection string has an access key without a secret key");
    }
    return ResolvedCredentials{{uri.access_key, uri.secret_key, uri.session_token}, "the connection string"};
  }
  // 2. The environment.
  std::string key = Get(env, "AWS_ACCESS_KEY_ID");
  std::string secret = Get(env, "AWS_SECRET_ACCESS_KEY");
  if (!key.empty() || !secret.empty()) {
    if (key.empty()) return Invalid("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
    if (secret.empty()) {
      return Invalid("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
    }
    return ResolvedCredentials{{key, secret, Get(env, "AWS_SESSION_TOKEN")}, "the environment (AWS_ACCESS_KEY_ID)"};
  }
  // 3. The shared credentials file.
  std::string path = Get(env, "AWS_SHARED_CREDENTIALS_FILE");
  std::string home = Get(env, "HOME");
  if (path.empty() && !home.empty()) path = home + "/.aws/credentials";
  std::string profile = Get(env, "AWS_PROFILE");
  if (profile.empty()) profile = "default";
  std::string looked =
      "no S3 credentials found: looked in the connection string (KEY:SECRET@), the "
      "environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) and ";
  if (path.empty()) {
    return Invalid(looked + "the shared credentials file (neither AWS_SHARED_CREDENTIALS_FILE nor HOME is set)");
  }
  std::string where = path + " [" + profile + "]";
  std::optional<std::string> contents = read_file ? read_file(path) : std::nullopt;
  if (!contents) return Invalid(looked + path + " (cannot be read)");
  Result<Credentials> parsed = ParseCredentialsFile(*contents, profile);
  if (parsed.code() == ErrorCode::kNotFound) {
    return Invalid(looked + path + " (it has no profile [" + profile + "]; set AWS_PROFILE)");
  }
  if (!parsed.ok()) return Invalid(path + ": " + parsed.status().message());
  return ResolvedCredentials{std::move(parsed).value(), where};
}

std::string ResolveRegion(const StoreUri& uri, const Environment& env) {
  if (!uri.region.empty()) return uri.region;
  for (const char* name : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
    std::string value = Get(env, name);
    if (!value.empty()) return value;
  }
  return "us-east-1";
}

Result<std::string> ResolveEndpoint(const StoreUri& uri, const Environment& env, const std::string& region) {
  std::string endpoint = uri.endpoint;
  std::string from = "the connection string's endpoint";
  for (const char* name : {"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"}) {
    if (!endpoint.empty()) break;
    endpoint = Get(env, name);
    from = name;
  }
  if (endpoint.empty()) return "https://s3." + region + ".amazonaws.com";
  if (!ValidEndpoint(endpoint)) {
    return Invalid(from + " must be http(s)://host[:port] without a path");
  }
  if (endpoint.back() == '/') endpoint.pop_back();
  return endpoint;
}

}  // namespace s3db::s3

// Where an S3 store's credentials, region and endpoint come from (README.md "Connection
// strings"), as pure functions: the environment and the credentials file are inputs, so
// every rule is unit-tested without touching the process environment or $HOME.
//
// Credentials, first match wins:
//   1. the connection string (KEY:SECRET@..., ?sessionToken=T);
//   2. AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN);
//   3. the shared credentials file: AWS_SHARED_CREDENTIALS_FILE, else $HOME/.aws/credentials,
//      profile AWS_PROFILE, else "default" (aws_access_key_id, aws_secret_access_key,
//      aws_session_token).
// Nothing found is kInvalidArgument naming every place that was looked at. A half-given
// pair (a key without a secret) is an error naming the variable, not a fall-through.
//
// Region: ?region=, else AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1.
// Endpoint: the URI's (?endpoint= or the http(s):// host), else AWS_ENDPOINT_URL_S3, else
// AWS_ENDPOINT_URL, else https://s3.<region>.amazonaws.com.
//
// Secrets never appear in a returned message: errors name variables, files and profiles.
//
// Thread-safety: pure functions. CaptureEnvironment() reads the process environment and is
// meant for the factory only (getenv is not safe against a concurrent setenv).
//
// May call: exec/ (the retry policy), store/, util/, libcurl, pugixml, OpenSSL.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "s3/sigv4.h"
#include "s3db/errors.h"
#include "s3db/stores.h"

namespace s3db::s3 {

// Environment variable name -> value, for the variables that matter here.
using Environment = std::map<std::string, std::string>;

// The AWS_* variables above and HOME, from the process environment.
Environment CaptureEnvironment();

// Reads a whole file; nullopt when it cannot be read (absent, unreadable).
using FileReader = std::function<std::optional<std::string>(const std::string& path)>;

// The real file system.
std::optional<std::string> ReadWholeFile(const std::string& path);

// Credentials of `profile` in an AWS shared credentials file (INI: "[name]" sections,
// "key = value" lines, '#' and ';' comments). kNotFound when the profile is absent,
// kInvalidArgument when it lacks the key or the secret (naming the profile, never a value).
Result<Credentials> ParseCredentialsFile(std::string_view contents, std::string_view profile);

struct ResolvedCredentials {
  Credentials credentials;
  // Where they came from, for messages: "the connection string", "the environment
  // (AWS_ACCESS_KEY_ID)", "/home/u/.aws/credentials [default]".
  std::string source;
};

Result<ResolvedCredentials> ResolveCredentials(const StoreUri& uri, const Environment& env,
                                               const FileReader& read_file);

std::string ResolveRegion(const StoreUri& uri, const Environment& env);

// "http(s)://host[:port]" with no path. kInvalidArgument for an endpoint from the
// environment that is not of that form.
Result<std::string> ResolveEndpoint(const StoreUri& uri, const Environment& env, const std::string& region);

}  // namespace s3db::s3

// Connection-string parsing (ParseStoreUri) and printing (StoreUri::ToString); the masking of
// secrets is src/store/secret_masker.cc. OpenStore lives in the database layer, which knows
// every backend.
//
// Grammar (strict; anything else is kInvalidArgument):
//   memory://BUCKET[/PREFIX]                      no credentials, no parameters
//   file:///ABS/DIR | file://./REL/DIR | file://REL/DIR  [?fsync=true|false]
//       Everything after "file://" is the directory, so a path that does not start with
//       '/' is relative to the working directory ("file://data" is "./data"; there is no
//       host part). "file://" alone is an error, and so is a control character (a NUL
//       above all, which would cut the path short) in the decoded path.
//   s3://[KEY:SECRET@]BUCKET[/PREFIX][?region=R&endpoint=URL&forcePathStyle=B&sessionToken=T]
//   http(s)://[KEY:SECRET@]HOST[:PORT]/BUCKET[/PREFIX][?region=R&sessionToken=T]
// Credentials, bucket, prefix, path and parameter values are percent-decoded ('+' stays
// '+'). The credentials end at the first '@'; a raw '/' in the secret is accepted (AWS
// secrets often hold one), but a '@' anywhere else must be written %40, and a '?' in the
// secret must be written %3F. The prefix loses its leading and trailing '/'.
//
// Error messages never contain the secret: they echo only pieces that cannot hold it (a
// validated scheme, a parameter name, a bucket name when the URI has no credentials), and
// every message is masked with whatever secret the credentials part carried.

#include "s3db/stores.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/uri_parsing.h"
#include "util/text.h"

namespace s3db {
namespace {

Status Invalid(const std::string& why) {
  return Status(ErrorCode::kInvalidArgument, "invalid connection string: " + why);
}

bool IsAsciiAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

bool AllOf(std::string_view text, bool (*predicate)(char)) { return std::all_of(text.begin(), text.end(), predicate); }

// A piece of a URI that may be echoed in an error (it could not be a stray secret).
bool IsEchoableName(std::string_view text) {
  return !text.empty() && text.size() <= 40 &&
         AllOf(text, [](char c) { return IsAsciiAlnum(c) || c == '_' || c == '-' || c == '.'; });
}

Result<std::string> Decode(std::string_view text, const std::string& what) {
  std::string decoded;
  if (!util::PercentDecode(text, &decoded)) return Invalid("bad percent-escape in the " + what);
  return decoded;
}

struct QueryParam {
  std::string name;
  std::string value;
};

Result<std::vector<QueryParam>> ParseQuery(std::string_view query) {
  std::vector<QueryParam> params;
  if (query.empty()) return params;
  size_t start = 0;
  while (start <= query.size()) {
    size_t end = std::min(query.find('&', start), query.size());
    std::string_view piece = query.substr(start, end - start);
    size_t equals = piece.find('=');
    if (piece.empty() || equals == std::string_view::npos) {
      return Invalid("query parameters must be written name=value");
    }
    Result<std::string> name = Decode(piece.substr(0, equals), "name of a query parameter");
    if (!name.ok()) return name.status();
    std::string shown = IsEchoableName(*name) ? "'" + *name + "'" : "a query parameter";
    Result<std::string> value = Decode(piece.substr(equals + 1), "value of " + shown);
    if (!value.ok()) return value.status();
    if (value->empty()) return Invalid("empty value for " + shown);
    for (const QueryParam& seen : params) {
      if (seen.name == *name) return Invalid(shown + " is given twice");
    }
    params.push_back({std::move(name).value(), std::move(value).value()});
    start = end + 1;
  }
  return params;
}

Status UnknownParam(const std::string& name, std::string_view scheme, std::string_view allowed) {
  std::string shown = IsEchoableName(name) ? "'" + name + "'" : "(unprintable)";
  return Invalid("unknown query parameter " + shown + " for " + std::string(scheme) + "://" +
                 (allowed.empty() ? " (it takes none)" : " (known: " + std::string(allowed) + ")"));
}

Result<bool> ParseBool(const QueryParam& param) {
  if (param.value == "true") return true;
  if (param.value == "false") return false;
  return Invalid("'" + param.name + "' must be true or false");
}

// A NUL would end a path where the C library reads it (file:///tmp/a%00b is /tmp/a, a
// directory the user never named), and no other control character belongs in a path, a
// prefix or a bucket name a user typed (nor in the keys made of them): refused, naming the
// byte and where it is, not echoing it.
Status RefuseControlCharacters(std::string_view text, std::string_view what) {
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (util::IsAsciiControl(c)) {
      char byte[5];
      std::snprintf(byte, sizeof(byte), "0x%02X", c);
      return Invalid(std::string(what) + " holds a control character, " + std::string(byte) + ", at byte " +
                     std::to_string(i) + (c == 0 ? " (a NUL would cut it short)" : ""));
    }
  }
  return Status::Ok();
}

Result<std::string> DecodePrefix(std::string_view raw) {
  Result<std::string> prefix = Decode(raw, "prefix");
  if (!prefix.ok()) return prefix;
  std::string& text = *prefix;
  size_t first = text.find_first_not_of('/');
  if (first == std::string::npos) return std::string();
  size_t last = text.find_last_not_of('/');
  text = text.substr(first, last - first + 1);
  if (!util::IsValidUtf8(text)) return Invalid("the prefix is not valid UTF-8");
  if (Status s = RefuseControlCharacters(text, "the prefix"); !s.ok()) return s;
  return prefix;
}

// Splits "BUCKET[/PREFIX]" into its decoded parts.
struct BucketAndPrefix {
  std::string bucket;
  std::string prefix;
};

Result<BucketAndPrefix> SplitBucketAndPrefix(std::string_view text, std::string_view usage) {
  size_t slash = text.find('/');
  std::string_view raw_bucket = text.substr(0, slash);
  std::string_view raw_prefix = slash == std::string_view::npos ? "" : text.substr(slash + 1);
  Result<std::string> bucket = Decode(raw_bucket, "bucket");
  if (!bucket.ok()) return bucket.status();
  if (bucket->empty()) return Invalid("missing bucket; write " + std::string(usage));
  Result<std::string> prefix = DecodePrefix(raw_prefix);
  if (!prefix.ok()) return prefix.status();
  return BucketAndPrefix{std::move(bucket).value(), std::move(prefix).value()};
}

bool IsIpv4Like(std::string_view name) {
  int dots = 0;
  for (char c : name) {
    if (c == '.') {
      ++dots;
    } else if (c < '0' || c > '9') {
      return false;
    }
  }
  return dots == 3;
}

// S3's bucket naming rules (general purpose buckets). With credentials in the URI the
// bucket is not echoed: after a secret with a raw '@' it could be the secret's tail.
Status ValidateS3Bucket(const std::string& bucket, bool has_credentials) {
  bool echoable = !has_credentials && bucket.find_first_of(":@") == std::string::npos &&
                  AllOf(bucket, [](char c) { return c >= 0x21 && c <= 0x7E; });
  std::string shown = echoable ? "bucket name '" + bucket + "'" : "the bucket name";
  auto allowed = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-'; };
  if (bucket.size() < 3 || bucket.size() > 63) {
    return Invalid(shown + " must be 3 to 63 characters long");
  }
  if (!AllOf(bucket, allowed)) {
    return Invalid(shown + " may hold only lower-case letters, digits, '.' and '-'");
  }
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(bucket.front()) || !alnum(bucket.back())) {
    return Invalid(shown + " must begin and end with a letter or digit");
  }
  if (bucket.find("..") != std::string::npos) return Invalid(shown + " has two adjacent periods");
  if (IsIpv4Like(bucket)) return Invalid(shown + " must not look like an IP address");
  return Status::Ok();
}

struct Credentials {
  std::string access_key;
  std::string secret_key;
};

Result<Credentials> ParseCredentials(std::string_view userinfo) {
  size_t colon = userinfo.find(':');
  if (colon == std::string_view::npos) {
    return Invalid("credentials must be KEY:SECRET@ (a '@' elsewhere must be written %40)");
  }
  Result<std::string> key = Decode(userinfo.substr(0, colon), "access key");
  if (!key.ok()) return key.status();
  Result<std::string> secret = Decode(userinfo.substr(colon + 1), "secret key");
  if (!secret.ok()) return secret.status();
  if (key->empty()) return Invalid("empty access key before ':'");
  if (secret->empty()) return Invalid("access key without a secret key (write KEY:SECRET@)");
  return Credentials{std::move(key).value(), std::move(secret).value()};
}

// Splits off "KEY:SECRET@" when present. `rest` is left with what follows the '@'.
Result<std::optional<Credentials>> TakeCredentials(std::string_view* rest) {
  size_t at = rest->find('@');
  if (at == std::string_view::npos) return std::optional<Credentials>();
  Result<Credentials> credentials = ParseCredentials(rest->substr(0, at));
  if (!credentials.ok()) return credentials.status();
  rest->remove_prefix(at + 1);
  if (rest->find('@') != std::string_view::npos) {
    return Invalid("more than one '@'; write '@' in the secret or the prefix as %40");
  }
  return std::optional<Credentials>(std::move(credentials).value());
}

Status ValidatePort(std::string_view port) {
  if (port.empty() || port.size() > 5 || !AllOf(port, [](char c) { return c >= '0' && c <= '9'; })) {
    return Invalid("bad port: must be a number from 1 to 65535");
  }
  int value = std::stoi(std::string(port));
  if (value < 1 || value > 65535) return Invalid("bad port: must be a number from 1 to 65535");
  return Status::Ok();
}

// "host", "host:port", "[v6]" or "[v6]:port".
Status ValidateHostPort(std::string_view authority) {
  std::string_view host = authority;
  std::optional<std::string_view> port;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return Invalid("unclosed '[' in the host");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return Invalid("unexpected text after the IPv6 host");
      port = after.substr(1);
    }
    if (host.empty() || !AllOf(host, [](char c) {
          return std::isxdigit(static_cast<unsigned char>(c)) != 0 || c == ':' || c == '.';
        })) {
      return Invalid("bad IPv6 host");
    }
  } else {
    size_t colon = authority.find(':');
    if (colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
    }
    if (host.empty()) return Invalid("missing host");
    if (!AllOf(host, [](char c) { return IsAsciiAlnum(c) || c == '.' || c == '-'; })) {
      return Invalid("the host may hold only letters, digits, '.' and '-'");
    }
  }
  if (port) return ValidatePort(*port);
  return Status::Ok();
}

Status ValidateEndpoint(const std::string& endpoint) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (util::StartsWith(endpoint, scheme)) {
      std::string_view authority = std::string_view(endpoint).substr(scheme.size());
      if (!authority.empty() && authority.back() == '/') authority.remove_suffix(1);
      if (Status status = ValidateHostPort(authority); !status.ok()) {
        return Invalid("'endpoint' must be http(s)://host[:port]");
      }
      return Status::Ok();
    }
  }
  return Invalid("'endpoint' must be http(s)://host[:port]");
}

Result<StoreUri> ParseMemory(std::string_view head, const std::vector<QueryParam>& params) {
  if (head.find('@') != std::string_view::npos) {
    return Invalid("memory:// takes no credentials (write '@' in a name as %40)");
  }
  Result<BucketAndPrefix> parts = SplitBucketAndPrefix(head, "memory://bucket[/prefix]");
  if (!parts.ok()) return parts.status();
  if (parts->bucket.find('/') != std::string::npos) {
    return Invalid("a memory bucket name cannot contain '/'");
  }
  if (Status s = RefuseControlCharacters(parts->bucket, "the memory bucket name"); !s.ok()) return s;
  if (!params.empty()) return UnknownParam(params.front().name, "memory", "");
  StoreUri uri;
  uri.scheme = StoreScheme::kMemory;
  uri.bucket = std::move(parts->bucket);
  uri.prefix = std::move(parts->prefix);
  return uri;
}

Result<StoreUri> ParseFile(std::string_view head, const std::vector<QueryParam>& params) {
  Result<std::string> path = Decode(head, "path");
  if (!path.ok()) return path.status();
  if (path->empty()) return Invalid("file:// needs a directory: file:///abs/dir or file://./rel/dir");
  if (Status s = RefuseControlCharacters(*path, "the file:// path"); !s.ok()) return s;
  while (path->size() > 1 && path->back() == '/') path->pop_back();
  StoreUri uri;
  uri.scheme = StoreScheme::kFile;
  uri.path = std::move(path).value();
  for (const QueryParam& param : params) {
    if (param.name != "fsync") return UnknownParam(param.name, "file", "fsync");
    Result<bool> fsync = ParseBool(param);
    if (!fsync.ok()) return fsync.status();
    uri.options["fsync"] = *fsync ? "true" : "false";
  }
  return uri;
}

void ApplyCredentials(std::optional<Credentials> credentials, StoreUri* uri) {
  if (!credentials) return;
  uri->access_key = std::move(credentials->access_key);
  uri->secret_key = std::move(credentials->secret_key);
}

// Options of the S3 store itself, passed through to it and checked when it opens
// (S3StoreOptionsFromUri): the parser only needs to know the names.
bool IsS3StoreOption(const std::string& name) {
  return name == "probe" || name == "tlsVerify" || name == "concurrency" || name == "maxAttempts" ||
         name == "connectTimeoutMs" || name == "requestTimeoutMs";
}
constexpr const char* kS3StoreOptionNames =
    "probe, tlsVerify, concurrency, maxAttempts, connectTimeoutMs, requestTimeoutMs";

Result<StoreUri> ParseS3(std::string_view head, const std::vector<QueryParam>& params) {
  Result<std::optional<Credentials>> credentials = TakeCredentials(&head);
  if (!credentials.ok()) return credentials.status();
  Result<BucketAndPrefix> parts = SplitBucketAndPrefix(head, "s3://[KEY:SECRET@]bucket[/prefix]");
  if (!parts.ok()) return parts.status();
  if (Status status = ValidateS3Bucket(parts->bucket, credentials->has_value()); !status.ok()) {
    return status;
  }

  StoreUri uri;
  uri.scheme = StoreScheme::kS3;
  ApplyCredentials(std::move(credentials).value(), &uri);
  uri.bucket = std::move(parts->bucket);
  uri.prefix = std::move(parts->prefix);
  for (const QueryParam& param : params) {
    if (param.name == "region") {
      uri.region = param.value;
    } else if (param.name == "endpoint") {
      if (Status status = ValidateEndpoint(param.value); !status.ok()) return status;
      uri.endpoint = param.value;
    } else if (param.name == "forcePathStyle") {
      Result<bool> value = ParseBool(param);
      if (!value.ok()) return value.status();
      uri.force_path_style = *value;
    } else if (param.name == "sessionToken") {
      uri.session_token = param.value;
    } else if (IsS3StoreOption(param.name)) {
      uri.options[param.name] = param.value;
    } else {
      return UnknownParam(param.name, "s3",
                          std::string("region, endpoint, forcePathStyle, sessionToken, ") + kS3StoreOptionNames);
    }
  }
  return uri;
}

Result<StoreUri> ParseHttp(StoreScheme scheme, std::string_view scheme_name, std::string_view head,
                           const std::vector<QueryParam>& params) {
  Result<std::optional<Credentials>> credentials = TakeCredentials(&head);
  if (!credentials.ok()) return credentials.status();
  size_t slash = head.find('/');
  std::string_view authority = head.substr(0, slash);
  if (Status status = ValidateHostPort(authority); !status.ok()) return status;
  std::string_view path = slash == std::string_view::npos ? "" : head.substr(slash + 1);
  Result<BucketAndPrefix> parts =
      SplitBucketAndPrefix(path, std::string(scheme_name) + "://[KEY:SECRET@]host[:port]/bucket[/prefix]");
  if (!parts.ok()) return parts.status();
  if (Status status = ValidateS3Bucket(parts->bucket, credentials->has_value()); !status.ok()) {
    return status;
  }

  StoreUri uri;
  uri.scheme = scheme;
  ApplyCredentials(std::move(credentials).value(), &uri);
  uri.bucket = std::move(parts->bucket);
  uri.prefix = std::move(parts->prefix);
  uri.endpoint = std::string(scheme_name) + "://" + std::string(authority);
  uri.force_path_style = true;
  for (const QueryParam& param : params) {
    if (param.name == "region") {
      uri.region = param.value;
    } else if (param.name == "sessionToken") {
      uri.session_token = param.value;
    } else if (IsS3StoreOption(param.name)) {
      uri.options[param.name] = param.value;
    } else {
      return UnknownParam(param.name, scheme_name, std::string("region, sessionToken, ") + kS3StoreOptionNames);
    }
  }
  return uri;
}

// Like PercentEncode, but keeps ':' and '/' so an endpoint stays readable.
std::string EncodeQueryValue(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == ':' || c == '/') {
      out.push_back(c);
    } else {
      out += util::PercentEncode(std::string_view(&c, 1));
    }
  }
  return out;
}

std::string WithPrefix(std::string text, const std::string& prefix) {
  if (!prefix.empty()) text += "/" + util::PercentEncodePath(prefix);
  return text;
}

}  // namespace

namespace store {

Result<StoreUri> ParseStoreUriUnmasked(const std::string& text) {
  size_t separator = text.find("://");
  if (separator == std::string::npos) {
    return Invalid("expected scheme://... (memory://, file://, s3://, http:// or https://)");
  }
  const std::string scheme = util::ToLower(std::string_view(text).substr(0, separator));
  std::string_view rest = std::string_view(text).substr(separator + 3);
  std::string_view head = rest.substr(0, rest.find('?'));
  std::string_view query = head.size() == rest.size() ? std::string_view() : rest.substr(head.size() + 1);

  const bool known = scheme == "memory" || scheme == "file" || scheme == "s3" || scheme == "http" || scheme == "https";
  if (!known) {
    std::string shown = IsEchoableName(scheme) ? " '" + scheme + "'" : "";
    return Invalid("unknown scheme" + shown + " (expected memory://, file://, s3://, http:// or https://)");
  }
  Result<std::vector<QueryParam>> params = ParseQuery(query);
  if (!params.ok()) return params.status();
  if (scheme == "memory") return ParseMemory(head, *params);
  if (scheme == "file") return ParseFile(head, *params);
  if (scheme == "s3") return ParseS3(head, *params);
  if (scheme == "http") return ParseHttp(StoreScheme::kHttp, "http", head, *params);
  return ParseHttp(StoreScheme::kHttps, "https", head, *params);
}

}  // namespace store

Result<StoreUri> ParseStoreUri(const std::string& uri) {
  Result<StoreUri> parsed = store::ParseStoreUriUnmasked(uri);
  if (parsed.ok()) return parsed;
  // Belt and braces: the parser echoes no secret, but mask whatever looks like one anyway.
  SecretMasker masker;
  masker.AddUri(uri);
  return Status(parsed.code(), masker.Mask(parsed.status().message()));
}

std::string StoreUri::ToString() const {
  std::string credentials;
  if (!access_key.empty() || !secret_key.empty()) {
    credentials = util::PercentEncode(access_key) + ":" + std::string(store::kSecretMask) + "@";
  }
  std::vector<std::pair<std::string, std::string>> query;
  std::string text;
  switch (scheme) {
    case StoreScheme::kMemory:
      text = WithPrefix("memory://" + util::PercentEncode(bucket), prefix);
      break;
    case StoreScheme::kFile:
      text = "file://" + util::PercentEncodePath(path);
      break;
    case StoreScheme::kS3:
      text = WithPrefix("s3://" + credentials + util::PercentEncode(bucket), prefix);
      if (!endpoint.empty()) query.emplace_back("endpoint", EncodeQueryValue(endpoint));
      if (force_path_style) query.emplace_back("forcePathStyle", "true");
      break;
    case StoreScheme::kHttp:
    case StoreScheme::kHttps: {
      std::string_view host_port = endpoint;
      if (size_t separator = host_port.find("://"); separator != std::string_view::npos) {
        host_port.remove_prefix(separator + 3);
      }
      std::string scheme_name = scheme == StoreScheme::kHttp ? "http://" : "https://";
      text = WithPrefix(scheme_name + credentials + std::string(host_port) + "/" + util::PercentEncode(bucket), prefix);
      break;
    }
  }
  if (!region.empty()) query.emplace_back("region", EncodeQueryValue(region));
  if (!session_token.empty()) query.emplace_back("sessionToken", std::string(store::kSecretMask));
  for (const auto& [name, value] : options) query.emplace_back(name, EncodeQueryValue(value));
  for (size_t i = 0; i < query.size(); ++i) {
    text += (i == 0 ? "?" : "&") + query[i].first + "=" + query[i].second;
  }
  return text;
}

}  // namespace s3db

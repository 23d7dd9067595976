#include "s3/s3_addressing.h"

#include <algorithm>
#include <utility>

#include "util/text.h"

namespace s3db::s3 {
namespace {

bool IsIpLiteral(std::string_view host) {
  if (!host.empty() && host.front() == '[') return true;  // IPv6
  return !host.empty() &&
         std::all_of(host.begin(), host.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

}  // namespace

Result<Addressing> MakeAddressing(const std::string& endpoint, const std::string& bucket, bool force_path_style) {
  Addressing addressing;
  std::string_view rest;
  if (util::StartsWith(endpoint, "https://")) {
    addressing.https = true;
    rest = std::string_view(endpoint).substr(8);
  } else if (util::StartsWith(endpoint, "http://")) {
    addressing.https = false;
    rest = std::string_view(endpoint).substr(7);
  } else {
    return Status(ErrorCode::kInvalidArgument, "S3 endpoint must start with http:// or https://");
  }
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.empty() || rest.find_first_of("/?#@") != std::string_view::npos) {
    return Status(ErrorCode::kInvalidArgument, "S3 endpoint must be http(s)://host[:port]");
  }
  std::string host(rest);
  // The Host header carries the port only when it is not the scheme's default. (A bracketed
  // IPv6 host without a port ends with ']', so this never cuts into an address.)
  const std::string default_port = addressing.https ? ":443" : ":80";
  if (util::EndsWith(host, default_port)) host.resize(host.size() - default_port.size());
  std::string bare_host = host;
  if (bare_host.front() != '[') bare_host = bare_host.substr(0, bare_host.find(':'));
  if (bucket.empty()) return Status(ErrorCode::kInvalidArgument, "missing bucket");
  addressing.host = std::move(host);
  addressing.bucket = bucket;
  addressing.path_style =
      force_path_style || IsIpLiteral(bare_host) || bare_host == "localhost" || bucket.find('.') != std::string::npos;
  return addressing;
}

RequestTarget BuildTarget(const Addressing& addressing, std::string_view key, const QueryParams& query) {
  RequestTarget target;
  if (addressing.path_style) {
    target.host = addressing.host;
    target.path = "/" + addressing.bucket;
    if (!key.empty()) target.path += "/" + std::string(key);
  } else {
    target.host = addressing.bucket + "." + addressing.host;
    target.path = "/" + std::string(key);
  }
  target.url = (addressing.https ? "https://" : "http://") + target.host + CanonicalPath(target.path);
  std::string canonical_query = CanonicalQueryString(query);
  if (!canonical_query.empty()) target.url += "?" + canonical_query;
  return target;
}

}  // namespace s3db::s3

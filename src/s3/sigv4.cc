#include "s3/sigv4.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "util/crypto_hash.h"
#include "util/text.h"

namespace s3db::s3 {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

// RFC 9110 token characters: what a header field name may be made of.
bool IsTokenChar(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

bool IsHeaderName(std::string_view name) {
  return !name.empty() &&
         std::all_of(name.begin(), name.end(), [](char c) { return IsTokenChar(static_cast<unsigned char>(c)); });
}

// CR or LF would let a value smuggle in another header (and obsolete line folding is not
// HTTP any more), NUL ends C strings in the transport.
bool IsSafeHeaderValue(std::string_view value) {
  return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

bool IsPayloadHash(std::string_view hash) {
  if (hash == kUnsignedPayload) return true;
  return hash.size() == 64 &&
         std::all_of(hash.begin(), hash.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// SigV4 canonical header value: trimmed, each run of spaces and tabs made one space.
std::string CanonicalHeaderValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  bool pending_space = false;
  for (char c : value) {
    if (c == ' ' || c == '\t') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

bool IsSignerOwnedHeader(std::string_view lower_name) {
  return lower_name == "host" || lower_name == "x-amz-date" || lower_name == "x-amz-content-sha256" ||
         lower_name == "x-amz-security-token" || lower_name == "authorization";
}

Status Invalid(std::string message) { return Status(ErrorCode::kInvalidArgument, "sigv4: " + std::move(message)); }

std::string Hex(std::string_view bytes) { return util::HexEncode(bytes); }

}  // namespace

std::string CanonicalPath(std::string_view raw_path) { return util::PercentEncodePath(raw_path); }

std::string CanonicalQueryString(const QueryParams& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const auto& [name, value] : query) {
    encoded.emplace_back(util::PercentEncode(name), util::PercentEncode(value));
  }
  // Sorting the encoded forms gives the byte order AWS specifies (encoding changes order:
  // "%E1..." sorts before "P").
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out.push_back('&');
    out += name;
    out.push_back('=');
    out += value;
  }
  return out;
}

std::string FormatAmzDate(std::chrono::system_clock::time_point time) {
  using namespace std::chrono;
  const auto secs = floor<seconds>(time);
  const auto day = floor<days>(secs);
  const year_month_day ymd{day};
  const hh_mm_ss hms{secs - day};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d%02u%02uT%02d%02d%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

std::string PayloadHash(std::string_view body) { return Hex(util::Sha256(body)); }

Result<SignedRequest> SignV4(const SigningRequest& request, const SigningContext& context) {
  if (request.method.empty() || !IsHeaderName(request.method)) return Invalid("bad method");
  if (request.host.empty() || !IsSafeHeaderValue(request.host)) return Invalid("bad host");
  if (request.path.empty() || request.path.front() != '/') {
    return Invalid("path must start with '/'");
  }
  if (!IsPayloadHash(request.payload_hash)) {
    return Invalid("payload hash must be 64 lower-case hex digits or UNSIGNED-PAYLOAD");
  }
  const Credentials& creds = context.credentials;
  if (creds.access_key_id.empty() || creds.secret_access_key.empty()) {
    return Invalid("missing credentials");
  }
  if (!IsSafeHeaderValue(creds.session_token)) return Invalid("bad session token");
  if (context.region.empty() || context.service.empty()) {
    return Invalid("missing region or service");
  }

  SignedRequest out;
  out.amz_date = FormatAmzDate(context.time);
  const std::string date = out.amz_date.substr(0, 8);

  // Lower-cased name -> values in the order given; std::map sorts the names.
  std::map<std::string, std::vector<std::string>> canonical_headers;
  for (const auto& [name, value] : request.headers) {
    if (!IsHeaderName(name)) return Invalid("bad header name '" + name + "'");
    std::string lower = util::ToLower(name);
    if (IsSignerOwnedHeader(lower)) return Invalid("header '" + lower + "' is set by the signer");
    if (!IsSafeHeaderValue(value)) return Invalid("bad value for header '" + lower + "'");
    canonical_headers[std::move(lower)].push_back(CanonicalHeaderValue(value));
  }
  canonical_headers["host"] = {CanonicalHeaderValue(request.host)};
  canonical_headers["x-amz-date"] = {out.amz_date};
  out.headers_to_add.emplace_back("x-amz-date", out.amz_date);
  if (request.sign_content_sha256) {
    canonical_headers["x-amz-content-sha256"] = {request.payload_hash};
    out.headers_to_add.emplace_back("x-amz-content-sha256", request.payload_hash);
  }
  if (!creds.session_token.empty()) {
    canonical_headers["x-amz-security-token"] = {CanonicalHeaderValue(creds.session_token)};
    out.headers_to_add.emplace_back("x-amz-security-token", creds.session_token);
  }

  std::string header_block;
  for (const auto& [name, values] : canonical_headers) {
    header_block += name;
    header_block.push_back(':');
    for (size_t i = 0; i < values.size(); ++i) {
      if (i > 0) header_block.push_back(',');
      header_block += values[i];
    }
    header_block.push_back('\n');
    if (!out.signed_headers.empty()) out.signed_headers.push_back(';');
    out.signed_headers += name;
  }

  out.canonical_request = request.method + "\n" + CanonicalPath(request.path) + "\n" +
                          CanonicalQueryString(request.query) + "\n" + header_block + "\n" + out.signed_headers + "\n" +
                          request.payload_hash;

  const std::string scope = date + "/" + context.region + "/" + context.service + "/aws4_request";
  out.string_to_sign =
      std::string(kAlgorithm) + "\n" + out.amz_date + "\n" + scope + "\n" + Hex(util::Sha256(out.canonical_request));

  std::string key = util::HmacSha256("AWS4" + creds.secret_access_key, date);
  key = util::HmacSha256(key, context.region);
  key = util::HmacSha256(key, context.service);
  key = util::HmacSha256(key, "aws4_request");
  out.signature = Hex(util::HmacSha256(key, out.string_to_sign));

  out.authorization = std::string(kAlgorithm) + " Credential=" + creds.access_key_id + "/" + scope +
                      ", SignedHeaders=" + out.signed_headers + ", Signature=" + out.signature;
  out.headers_to_add.emplace_back("Authorization", out.authorization);
  return out;
}

}  // namespace s3db::s3

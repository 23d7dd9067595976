#include "s3/s3_xml.h"

#include <pugixml.hpp>

#include <charconv>
#include <chrono>
#include <set>

#include "util/crypto_hash.h"
#include "util/text.h"

namespace s3db::s3 {
namespace {

constexpr size_t kMaxDeleteKeys = 1000;

Status Malformed(std::string_view what, std::string_view detail) {
  return Status(ErrorCode::kIOError, "malformed S3 " + std::string(what) + " response: " + std::string(detail));
}

// parse_ws_pcdata keeps a key made only of spaces ("<Key>   </Key>"), which the default
// flags would drop as insignificant whitespace.
bool LoadXml(std::string_view xml, pugi::xml_document* doc, std::string* error) {
  const pugi::xml_parse_result parsed =
      doc->load_buffer(xml.data(), xml.size(), pugi::parse_default | pugi::parse_ws_pcdata, pugi::encoding_utf8);
  if (!parsed) {
    *error = std::string(parsed.description()) + " at offset " + std::to_string(parsed.offset);
    return false;
  }
  if (!doc->document_element()) {
    *error = "no root element";
    return false;
  }
  return true;
}

std::string_view Text(const pugi::xml_node& node, const char* child) { return node.child(child).text().get(); }

template <typename Int>
bool ParseInt(std::string_view text, Int* out) {
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, *out);
  return ec == std::errc() && ptr == end && !text.empty();
}

// encoding-type=url as S3 does it: form encoding, so '+' is a space and a literal '+'
// arrives as %2B.
bool FormUrlDecode(std::string_view encoded, std::string* out) {
  std::string plus_as_space(encoded);
  for (char& c : plus_as_space) {
    if (c == '+') c = ' ';
  }
  return util::PercentDecode(plus_as_space, out);
}

// XML 1.0 Char production minus what we escape: control characters other than tab, LF, CR
// and the non-characters U+FFFE/U+FFFF cannot appear in a document at all.
bool IsXmlCarryable(std::string_view key) {
  for (unsigned char c : key) {
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') return false;
  }
  return key.find("\xEF\xBF\xBE") == std::string_view::npos && key.find("\xEF\xBF\xBF") == std::string_view::npos &&
         util::IsValidUtf8(key);
}

// Escapes for element content. CR, LF and tab become character references so that no XML
// parser's end-of-line or whitespace handling can change the key.
std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      case '\r':
        out += "&#13;";
        break;
      case '\n':
        out += "&#10;";
        break;
      case '\t':
        out += "&#9;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

struct CodeMapping {
  std::string_view s3_code;
  ErrorCode error;
};

// S3 codes whose meaning does not follow from the HTTP status alone, or that arrive without
// one (per-key DeleteObjects errors).
constexpr CodeMapping kCodeMappings[] = {
    {"NoSuchKey", ErrorCode::kNotFound},
    {"NoSuchBucket", ErrorCode::kNotFound},
    {"PreconditionFailed", ErrorCode::kPreconditionFailed},
    {"ConditionalRequestConflict", ErrorCode::kConflict},
    {"SlowDown", ErrorCode::kSlowDown},
    {"AccessDenied", ErrorCode::kAccessDenied},
    {"InvalidAccessKeyId", ErrorCode::kAccessDenied},
    {"SignatureDoesNotMatch", ErrorCode::kAccessDenied},
    // 400s on AWS, yet about credentials: no retry or input change will help.
    {"ExpiredToken", ErrorCode::kAccessDenied},
    {"InvalidToken", ErrorCode::kAccessDenied},
    {"MetadataTooLarge", ErrorCode::kMetadataTooLarge},
    // A 400 on AWS ("your socket connection was not read from or written to within the
    // timeout"): transient, unlike the other 400s.
    {"RequestTimeout", ErrorCode::kTimeout},
    {"InternalError", ErrorCode::kIOError},
    // 501: the server lacks the feature (s3rver, old gateways). Retrying cannot help, and
    // the capability probe needs to tell it from a failure.
    {"NotImplemented", ErrorCode::kUnsupported},
    {"EntityTooLarge", ErrorCode::kInvalidArgument},
    {"InvalidArgument", ErrorCode::kInvalidArgument},
};

ErrorCode MapHttpStatus(int status) {
  switch (status) {
    case 401:
    case 403:
      return ErrorCode::kAccessDenied;
    case 404:
      return ErrorCode::kNotFound;
    case 408:
      return ErrorCode::kTimeout;
    case 409:
      return ErrorCode::kConflict;
    case 412:
      return ErrorCode::kPreconditionFailed;
    case 429:
    case 503:
      return ErrorCode::kSlowDown;
    case 501:
      return ErrorCode::kUnsupported;
    default:
      break;
  }
  if (status >= 500 && status <= 599) return ErrorCode::kIOError;
  // 3xx is a redirect to another region or endpoint: the configuration is wrong.
  if (status >= 300 && status <= 499) return ErrorCode::kInvalidArgument;
  // No status, or an error document inside a 2xx: something broke on the way; retry.
  return ErrorCode::kIOError;
}

}  // namespace

std::optional<int64_t> ParseIso8601Millis(std::string_view text) {
  using namespace std::chrono;
  // YYYY-MM-DDTHH:MM:SS
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' || text[16] != ':') {
    return std::nullopt;
  }
  int y = 0;
  unsigned mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (!ParseInt(text.substr(0, 4), &y) || !ParseInt(text.substr(5, 2), &mo) || !ParseInt(text.substr(8, 2), &d) ||
      !ParseInt(text.substr(11, 2), &h) || !ParseInt(text.substr(14, 2), &mi) || !ParseInt(text.substr(17, 2), &s)) {
    return std::nullopt;
  }
  const year_month_day ymd{year{y}, month{mo}, day{d}};
  if (!ymd.ok() || h > 23 || mi > 59 || s > 59) return std::nullopt;

  size_t pos = 19;
  int64_t millis = 0;
  if (text[pos] == '.') {
    ++pos;
    const size_t digits_start = pos;
    int64_t scale = 100;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      millis += (text[pos] - '0') * scale;  // digits past milliseconds are truncated
      scale /= 10;
      ++pos;
    }
    if (pos == digits_start) return std::nullopt;
  }
  int64_t offset_seconds = 0;
  const std::string_view zone = text.substr(pos);
  if (zone == "Z") {
    offset_seconds = 0;
  } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':') {
    unsigned oh = 0, om = 0;
    if (!ParseInt(zone.substr(1, 2), &oh) || !ParseInt(zone.substr(4, 2), &om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_seconds = (zone[0] == '+' ? 1 : -1) * static_cast<int64_t>(oh * 3600 + om * 60);
  } else {
    return std::nullopt;
  }
  const int64_t day_seconds = sys_days(ymd).time_since_epoch() / seconds(1);
  const int64_t seconds_utc = day_seconds + h * 3600 + mi * 60 + s - offset_seconds;
  return seconds_utc * 1000 + millis;
}

Result<ListPage> ParseListObjectsV2(std::string_view xml) {
  constexpr std::string_view kWhat = "ListObjectsV2";
  pugi::xml_document doc;
  std::string error;
  if (!LoadXml(xml, &doc, &error)) return Malformed(kWhat, error);
  const pugi::xml_node root = doc.document_element();
  if (std::string_view(root.name()) == "Error") return StatusFromS3Response(200, xml);
  if (std::string_view(root.name()) != "ListBucketResult") {
    return Malformed(kWhat, "root element <" + std::string(root.name()) + ">");
  }

  const bool url_encoded = util::TrimAsciiWhitespace(Text(root, "EncodingType")) == "url";
  const std::string_view truncated = util::TrimAsciiWhitespace(Text(root, "IsTruncated"));
  if (truncated != "true" && truncated != "false") {
    return Malformed(kWhat, "IsTruncated is '" + std::string(truncated) + "'");
  }

  ListPage page;
  page.truncated = truncated == "true";
  for (const pugi::xml_node contents : root.children("Contents")) {
    ObjectInfo info;
    if (!contents.child("Key")) return Malformed(kWhat, "<Contents> without <Key>");
    const std::string_view key = Text(contents, "Key");
    if (url_encoded) {
      if (!FormUrlDecode(key, &info.key)) {
        return Malformed(kWhat, "bad url-encoded key '" + std::string(key) + "'");
      }
    } else {
      info.key = std::string(key);
    }
    if (info.key.empty()) return Malformed(kWhat, "empty <Key>");
    info.etag = QuotedEtag(util::TrimAsciiWhitespace(Text(contents, "ETag")));
    if (!ParseInt(util::TrimAsciiWhitespace(Text(contents, "Size")), &info.size)) {
      return Malformed(kWhat, "bad <Size> for key '" + info.key + "'");
    }
    const std::optional<int64_t> modified =
        ParseIso8601Millis(util::TrimAsciiWhitespace(Text(contents, "LastModified")));
    if (!modified) return Malformed(kWhat, "bad <LastModified> for key '" + info.key + "'");
    info.last_modified_ms = *modified;
    page.objects.push_back(std::move(info));
  }
  if (page.truncated) {
    // The token is opaque and never url-encoded; send it back byte for byte.
    page.next_continuation_token = std::string(Text(root, "NextContinuationToken"));
    if (page.next_continuation_token.empty()) {
      return Malformed(kWhat, "IsTruncated without NextContinuationToken");
    }
  }
  return page;
}

std::optional<S3Error> ParseErrorBody(std::string_view body) {
  pugi::xml_document doc;
  std::string error;
  if (!LoadXml(body, &doc, &error)) return std::nullopt;
  const pugi::xml_node root = doc.document_element();
  if (std::string_view(root.name()) != "Error") return std::nullopt;
  S3Error parsed;
  parsed.code = std::string(util::TrimAsciiWhitespace(Text(root, "Code")));
  parsed.message = std::string(Text(root, "Message"));
  parsed.resource = std::string(Text(root, "Resource"));
  parsed.request_id = std::string(util::TrimAsciiWhitespace(Text(root, "RequestId")));
  return parsed;
}

ErrorCode MapS3Error(int http_status, std::string_view s3_code) {
  for (const CodeMapping& mapping : kCodeMappings) {
    if (mapping.s3_code == s3_code) return mapping.error;
  }
  return MapHttpStatus(http_status);
}

Status StatusFromS3Response(int http_status, std::string_view body) {
  const std::optional<S3Error> parsed = ParseErrorBody(body);
  const std::string status_text = "HTTP " + std::to_string(http_status);
  if (!parsed || parsed->code.empty()) {
    return Status(MapHttpStatus(http_status), "S3 " + status_text + " (no S3 error code)");
  }
  std::string message = "S3 " + parsed->code + " (" + status_text + ")";
  if (!parsed->message.empty()) message += ": " + parsed->message;
  if (!parsed->request_id.empty()) message += " [request id " + parsed->request_id + "]";
  return Status(MapS3Error(http_status, parsed->code), std::move(message));
}

Result<DeleteObjectsBody> BuildDeleteObjectsBody(const std::vector<std::string>& keys) {
  if (keys.empty() || keys.size() > kMaxDeleteKeys) {
    return Status(ErrorCode::kInvalidArgument,
                  "DeleteObjects takes 1 to 1000 keys, got " + std::to_string(keys.size()));
  }
  DeleteObjectsBody body;
  body.xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Delete><Quiet>true</Quiet>";
  for (const std::string& key : keys) {
    if (key.empty() || !IsXmlCarryable(key)) {
      return Status(ErrorCode::kInvalidArgument, "key cannot be sent in a DeleteObjects request: '" + key + "'");
    }
    body.xml += "<Object><Key>" + XmlEscape(key) + "</Key></Object>";
  }
  body.xml += "</Delete>";
  body.content_md5 = util::Base64Encode(util::Md5(body.xml));
  return body;
}

Result<DeleteManyResult> ParseDeleteObjectsResult(std::string_view xml,
                                                  const std::vector<std::string>& requested_keys) {
  constexpr std::string_view kWhat = "DeleteObjects";
  pugi::xml_document doc;
  std::string error;
  if (!LoadXml(xml, &doc, &error)) return Malformed(kWhat, error);
  const pugi::xml_node root = doc.document_element();
  if (std::string_view(root.name()) == "Error") return StatusFromS3Response(200, xml);
  if (std::string_view(root.name()) != "DeleteResult") {
    return Malformed(kWhat, "root element <" + std::string(root.name()) + ">");
  }

  DeleteManyResult result;
  std::set<std::string> failed;
  for (const pugi::xml_node entry : root.children("Error")) {
    if (!entry.child("Key")) return Malformed(kWhat, "<Error> without <Key>");
    std::string key(Text(entry, "Key"));
    const std::string code(util::TrimAsciiWhitespace(Text(entry, "Code")));
    std::string message = "S3 " + (code.empty() ? std::string("error") : code);
    const std::string_view detail = Text(entry, "Message");
    if (!detail.empty()) message += ": " + std::string(detail);
    failed.insert(key);
    result.errors.emplace_back(std::move(key), Status(MapS3Error(0, code), std::move(message)));
  }
  for (const std::string& key : requested_keys) {
    if (failed.count(key) == 0) result.deleted.push_back(key);
  }
  return result;
}

std::string QuotedEtag(std::string_view etag) {
  if (etag.empty() || etag.front() == '"') return std::string(etag);
  return "\"" + std::string(etag) + "\"";
}

}  // namespace s3db::s3

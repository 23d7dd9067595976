#include "s3/http_easy.h"

#include <algorithm>
#include <mutex>
#include <string_view>

#include "util/text.h"

namespace s3db::s3 {
namespace {

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<EasyTransfer*>(user);
  transfer->response.body.append(data, size * count);
  return size * count;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<EasyTransfer*>(user);
  std::string_view line(data, size * count);
  if (util::StartsWith(line, "HTTP/")) {
    // A new status line: an interim response (100 Continue) is over; start afresh.
    transfer->response.headers.clear();
    return line.size();
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return line.size();
  transfer->response.headers.emplace_back(util::ToLower(util::TrimAsciiWhitespace(line.substr(0, colon))),
                                          std::string(util::TrimAsciiWhitespace(line.substr(colon + 1))));
  return line.size();
}

ErrorCode MapCurlError(CURLcode code) {
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return ErrorCode::kTimeout;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_ISSUER_ERROR:
      return ErrorCode::kInvalidArgument;
    default:
      return ErrorCode::kNetwork;
  }
}

}  // namespace

CURLcode CurlGlobalInit() {
  static std::once_flag once;
  static CURLcode result = CURLE_OK;
  std::call_once(once, [] { result = curl_global_init(CURL_GLOBAL_DEFAULT); });
  return result;
}

// A URL never carries a secret here, but the path can be long.
std::string UrlOrigin(const std::string& url) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return "(bad URL)";
  size_t path = url.find('/', scheme_end + 3);
  return url.substr(0, path);
}

Status PrepareEasyTransfer(CURL* curl, const HttpRequest& request, const HttpOptions& options,
                           std::optional<std::chrono::milliseconds> time_left, EasyTransfer& transfer) {
  // Reset forgets the previous request's options but keeps the live connection.
  curl_easy_reset(curl);
  transfer.response = HttpResponse();
  transfer.header_list.reset();
  transfer.error_buffer[0] = '\0';

  auto append = [&](const std::string& line) {
    curl_slist* appended = curl_slist_append(transfer.header_list.get(), line.c_str());
    if (appended != nullptr) {
      (void)transfer.header_list.release();
      transfer.header_list.reset(appended);
    }
    return appended != nullptr;
  };
  bool has_content_type = false;
  for (const auto& [name, value] : request.headers) {
    if (util::ToLower(name) == "content-type") has_content_type = true;
    // "Name:" would remove a curl default header; "Name;" sends it with an empty value.
    if (!append(value.empty() ? name + ";" : name + ": " + value)) {
      return Status(ErrorCode::kInternal, "out of memory building HTTP headers");
    }
  }
  // No Expect: 100-continue round trip, no default form Content-Type, no Accept.
  bool ok = append("Expect:") && append("Accept:");
  if (!has_content_type) ok = ok && append("Content-Type:");
  if (!ok) return Status(ErrorCode::kInternal, "out of memory building HTTP headers");

  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt(curl, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  if (options.keep_alive) {
    // TCP keep-alive probes on idle connections, first after keep_alive_interval (whole
    // seconds: the kernel's unit), so a connection a NAT or load balancer dropped is found.
    const long probe_seconds = static_cast<long>((options.keep_alive_interval.count() + 999) / 1000);
    curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(curl, CURLOPT_TCP_KEEPIDLE, probe_seconds);
    curl_easy_setopt(curl, CURLOPT_TCP_KEEPINTVL, probe_seconds);
  } else {
    curl_easy_setopt(curl, CURLOPT_FORBID_REUSE, 1L);  // a new connection for every request
  }
  curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
  auto bounded = [&](std::chrono::milliseconds timeout) {
    if (time_left && *time_left < timeout) timeout = std::max(*time_left, std::chrono::milliseconds(1));
    return static_cast<long>(timeout.count());
  };
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, bounded(options.connect_timeout));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, bounded(options.request_timeout));
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, options.verify_tls ? 1L : 0L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, options.verify_tls ? 2L : 0L);
  if (!options.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options.ca_file.c_str());
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, transfer.error_buffer);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, transfer.header_list.get());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);

  if (request.method == "GET") {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method == "PUT" || request.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.c_str());
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  } else {
    if (!request.body.empty()) {
      return Status(ErrorCode::kInvalidArgument, "HTTP " + request.method + " cannot carry a body here");
    }
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  return Status::Ok();
}

Result<HttpResponse> FinishEasyTransfer(CURL* curl, CURLcode code, const HttpRequest& request, EasyTransfer& transfer) {
  if (code != CURLE_OK) {
    std::string detail = transfer.error_buffer[0] != '\0' ? transfer.error_buffer : curl_easy_strerror(code);
    return Status(MapCurlError(code), "HTTP " + request.method + " " + UrlOrigin(request.url) + " failed: " + detail);
  }
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  transfer.response.status = static_cast<int>(status);
  return std::move(transfer.response);
}

}  // namespace s3db::s3

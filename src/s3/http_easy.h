// One HTTP request on a curl easy handle: the options every transfer of ours sets, and the
// response collected from it. Shared by the two transports over it: HttpClient (blocking,
// curl_easy_perform on the caller's thread) and HttpEngine (curl multi, one loop thread).
//
// May call: libcurl, util/.
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <memory>
#include <optional>

#include "s3/http_client.h"

namespace s3db::s3 {

// curl_global_init, once per process.
CURLcode CurlGlobalInit();

struct CurlSlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

// What one transfer owns while it runs: the header list curl reads, the error text it writes
// and the response the callbacks collect. Must outlive the transfer and stay where it is
// (curl keeps pointers into it).
struct EasyTransfer {
  HttpResponse response;
  std::unique_ptr<curl_slist, CurlSlistDeleter> header_list;
  char error_buffer[CURL_ERROR_SIZE] = {0};
};

// Resets `curl` (keeping its live connection) and sets it up to send `request`: headers
// exactly as given, no Expect/Accept/form Content-Type, HTTP/1.1, no redirects, path as is,
// keep-alive probes or no reuse, TLS verification, timeouts from `options` cut to `time_left`.
// The request (URL, body) must outlive the transfer. kInvalidArgument for a body on a method
// that cannot carry one; kInternal when memory runs out.
Status PrepareEasyTransfer(CURL* curl, const HttpRequest& request, const HttpOptions& options,
                           std::optional<std::chrono::milliseconds> time_left, EasyTransfer& transfer);

// The transfer's outcome: the response (any HTTP status), or kTimeout / kNetwork /
// kInvalidArgument for a transport failure, the message naming the method and the origin.
Result<HttpResponse> FinishEasyTransfer(CURL* curl, CURLcode code, const HttpRequest& request, EasyTransfer& transfer);

// scheme://host[:port] of a URL, for messages.
std::string UrlOrigin(const std::string& url);

}  // namespace s3db::s3

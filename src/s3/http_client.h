// The HTTP transport under S3Store: libcurl easy handles, used only to move bytes (the
// request is signed by sigv4.h before it gets here; CURLOPT_AWS_SIGV4 is never used).
//
//  - A pool of `max_connections` easy handles. A handle keeps its connection open between
//    requests (curl_easy_reset keeps live connections), so consecutive requests reuse a
//    TCP/TLS connection (keep-alive). Send() blocks while every handle is busy, so the pool
//    size is also the bound on concurrent requests.
//  - Connect timeout and a whole-request timeout; both fail as kTimeout. The thread's request
//    deadline (util/parallel.h: the executor's timeout, a call's timeout) bounds both, and
//    the wait for a free handle.
//  - keep_alive false: every request on a new connection. max_idle_connections: how many
//    idle connections stay open after a burst.
//  - TLS peer and host verification are on unless HttpOptions::verify_tls is false (tests
//    against a self-signed server only; never the default).
//  - Headers are sent exactly as given, in order, and nothing else that matters: curl adds
//    Content-Length and (unsigned) Accept; it is told not to add Expect: 100-continue or a
//    form Content-Type. A header with an empty value is sent as "Name:" (curl's "Name;"
//    form). The path is sent as given (CURLOPT_PATH_AS_IS): "/a/../b" is an S3 key, not a
//    path to normalise.
//  - Redirects are not followed (an S3 redirect means a wrong region or endpoint).
//  - curl_global_init runs once per process; CURLOPT_NOSIGNAL is set on every handle, so
//    timeouts never raise signals in a multi-threaded program.
//
// Transport failures are values: kTimeout (connect or request timeout), kNetwork (refused,
// reset, DNS, TLS handshake, empty reply), kInvalidArgument (a malformed URL or a TLS
// certificate that does not verify: retrying cannot cure those). An HTTP error status is not
// a transport failure: the response comes back and the caller maps it.
//
// Thread-safety: Send() may be called from any number of threads at once.
//
// May call: exec/ (the retry policy), store/, util/, libcurl, pugixml, OpenSSL.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "s3db/errors.h"

namespace s3db::s3 {

struct HttpOptions {
  int max_connections = 8;  // pool size = max concurrent requests
  // Idle connections kept open between requests; 0: all of them (max_connections). A handle
  // returned beyond this is closed with its connection.
  int max_idle_connections = 0;
  // Reuse connections (keep-alive); false: one connection per request, closed after it.
  bool keep_alive = true;
  // TCP keep-alive probes of an idle kept connection: the first after this long, then at
  // this interval (rounded up to whole seconds).
  std::chrono::milliseconds keep_alive_interval{60000};
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds request_timeout{30000};  // the whole request, body included
  bool verify_tls = true;
  std::string ca_file;  // PEM bundle to verify with; empty: the system's
  // kInvalidArgument naming the first bad field.
  Status Validate() const;
};

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "GET";  // GET, HEAD, PUT, POST, DELETE
  std::string url;             // already encoded: scheme://host[:port]/path?query
  HttpHeaders headers;         // sent as given (including Host)
  std::string body;            // sent with Content-Length for PUT and POST
};

struct HttpResponse {
  int status = 0;
  HttpHeaders headers;  // names lower-cased, values trimmed, in arrival order
  std::string body;

  // The first header of that (lower-case) name, or nullptr.
  const std::string* Header(std::string_view lower_name) const;
};

class HttpClient {
 public:
  static Result<std::unique_ptr<HttpClient>> Create(const HttpOptions& options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  Result<HttpResponse> Send(const HttpRequest& request);

  const HttpOptions& options() const { return options_; }

 private:
  struct Handle;
  explicit HttpClient(const HttpOptions& options);
  // nullptr when `wait` passed without a free handle; no `wait`: waits as long as it takes.
  std::unique_ptr<Handle> Acquire(std::optional<std::chrono::milliseconds> wait);
  void Release(std::unique_ptr<Handle> handle);

  HttpOptions options_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<Handle>> idle_;  // guarded by mutex_
  int created_ = 0;                            // guarded by mutex_
};

}  // namespace s3db::s3

// The HTTP/1.1 server under `s3db serve`: accepts connections (TLS when a certificate is given),
// reads each request within its size limits and time limits, hands it to a worker thread, and
// writes the answer, whole or streamed in chunks. Built on Boost.Beast and Asio: a few I/O
// threads serve every connection asynchronously, and the workers, which call the database and
// block on its store requests, never hold a connection that is idle or slow (docs/SERVE.md,
// "Why Boost.Beast"). This is the only file that includes Beast.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "http_types.h"

namespace s3db::serve {

struct ListenOptions {
  std::string host = "127.0.0.1";  // an IPv4 or IPv6 address
  uint16_t port = 8080;            // 0: any free port (HttpListener::Start returns it)
  std::string tls_cert_file;       // PEM chain; with tls_key_file, serve HTTPS only
  std::string tls_key_file;
  size_t max_header_bytes = 16 * 1024;       // request line and headers: 431 beyond
  size_t max_body_bytes = 16 * 1024 * 1024;  // request body: 413 beyond
  // To receive one whole request, from the moment the connection is ready for one (so an idle
  // keep-alive connection and a client that sends slowly are both cut off after it).
  std::chrono::milliseconds read_timeout{30000};
  std::chrono::milliseconds write_timeout{30000};  // each write of an answer or of one chunk
  int io_threads = 2;
  int workers = 32;  // requests handled at once; the others wait in line
  // Shutdown: how long requests in flight may take to finish before their connections are cut.
  std::chrono::milliseconds shutdown_grace{30000};
};

class HttpListener {
 public:
  // `error_response` builds the answer to a request the listener refuses itself (malformed,
  // too large), as a problem document.
  HttpListener(ListenOptions options, RequestHandler handler,
               std::function<HttpResponse(int status, const std::string& detail)> error_response);
  ~HttpListener();  // Shutdown()
  HttpListener(const HttpListener&) = delete;
  HttpListener& operator=(const HttpListener&) = delete;

  // Binds, listens and starts the threads; returns the port bound. Throws
  // s3db::InvalidArgument for a bad address or TLS file, s3db::StorageError when the port
  // cannot be bound.
  uint16_t Start();
  // Stops accepting, closes idle connections, lets requests in flight finish (up to
  // shutdown_grace), then stops every thread. Idempotent.
  void Shutdown();
  size_t open_connections() const;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace s3db::serve

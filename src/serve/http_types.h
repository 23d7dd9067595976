// The HTTP exchange as the API layer sees it: a parsed request and a response, with no type of
// the HTTP library (http_listener.cc is the only file that knows Boost.Beast), so the routes
// compile fast and read plainly.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace s3db::serve {

struct HttpRequest {
  std::string method;                                      // "GET", "POST", ...
  std::string target;                                      // as sent: path and query
  std::string path;                                        // percent-encoded, without the query
  std::vector<std::pair<std::string, std::string>> query;  // decoded
  std::map<std::string, std::string> headers;              // names in lower case
  std::string body;
  std::string remote_address;
  bool tls = false;

  // The header's value, or "" when absent.
  std::string Header(const std::string& lower_case_name) const;
  // The first query parameter of that name, or nullopt-like: `found` false.
  const std::string* Query(std::string_view name) const;
};

// Receives a streamed response body piece by piece. Write returns false once the client is
// gone (or too slow: the write timed out); the producer then stops.
class ChunkSink {
 public:
  virtual ~ChunkSink() = default;
  virtual bool Write(std::string_view bytes) = 0;
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // Content-Type among them
  std::string body;
  // Set: the body is produced by calling this on the worker thread, sent chunked in bounded
  // memory (each piece is written before the next is made); `body` is ignored.
  std::function<void(ChunkSink&)> stream;
  bool close_connection = false;  // after a request the server could not read whole

  void SetHeader(std::string name, std::string value);
  const std::string* FindHeader(std::string_view name) const;  // case-insensitive
};

// What the listener hands each parsed request to; runs on a worker thread.
using RequestHandler = std::function<HttpResponse(HttpRequest&)>;

// "%41b" -> "Ab"; `plus_is_space` for query strings. False for a malformed escape.
bool PercentDecode(std::string_view text, bool plus_is_space, std::string& out);
// Splits "a=1&b=%20" into decoded pairs; false for a malformed escape.
bool ParseQueryString(std::string_view text, std::vector<std::pair<std::string, std::string>>& out);

}  // namespace s3db::serve

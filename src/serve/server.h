// `s3db serve`: the HTTP/JSON API over one open Database (docs/SERVE.md). The server is a layer
// above the library and uses nothing but its public API (include/s3db/): http_listener.h
// speaks HTTP, api.h answers each request with the library's calls.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "api.h"
#include "auth.h"
#include "http_listener.h"
#include "s3db/database.h"

namespace s3db::serve {

struct ServeOptions {
  ListenOptions listen;
  ApiOptions api;
  AuthConfig auth;
  // Serve without authentication on an address other than loopback. Without it that is
  // refused (InvalidArgument): an open database on the network must be asked for by name.
  bool insecure = false;
  std::shared_ptr<CostsPlugin> costs;  // the database's, for /metrics; may be null
  std::shared_ptr<CachePlugin> cache;  // likewise
};

// True for 127.0.0.0/8 and ::1.
bool IsLoopbackAddress(const std::string& host);

// "127.0.0.1:8080", "[::1]:8080", "localhost:8080" (as 127.0.0.1), "0.0.0.0:80". False for
// anything else.
bool ParseListenAddress(const std::string& text, std::string& host, uint16_t& port);

class Server {
 public:
  // Throws InvalidArgument when no authentication is configured, the address is not loopback
  // and `insecure` is false.
  Server(Database& database, ServeOptions options);
  ~Server();  // Shutdown()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Listens; returns the port (useful with port 0).
  uint16_t Start();
  // Graceful: stops accepting, lets requests in flight finish, then waits for every
  // resource's asynchronous partition writes. Returns the references that failed (each also
  // a "partitionIndexError" event). Idempotent (later calls return nothing).
  std::vector<PartitionFailure> Shutdown();

  Api& api() { return *api_; }
  const ServeOptions& options() const { return options_; }

 private:
  Database& database_;
  ServeOptions options_;
  std::unique_ptr<Api> api_;
  std::unique_ptr<HttpListener> listener_;
  bool shut_down_ = false;
};

// Blocks SIGTERM and SIGINT in the calling thread and in every thread it starts afterwards
// (call it before Server::Start), so WaitForTerminationSignal can take them.
void BlockTerminationSignals();
// Waits for SIGTERM or SIGINT; returns its number.
int WaitForTerminationSignal();

}  // namespace s3db::serve

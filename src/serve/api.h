// The routes of `s3db serve` (docs/SERVE.md): each request is authenticated, authorised for its
// resource, and answered by one call of the public API (include/s3db/), whose typed errors
// become problem documents (problem.h). HTTP conditions map onto the library's conditional
// writes: If-Match is UpdateOptions/DeleteOptions::if_match, If-None-Match: * is Insert.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "auth.h"
#include "http_types.h"
#include "metrics.h"
#include "s3db/cache.h"
#include "s3db/database.h"
#include "s3db/plugin.h"

namespace s3db::serve {

struct ApiOptions {
  // Origins allowed to call from a browser ("*": any); empty: no CORS headers at all.
  std::vector<std::string> cors_origins;
  size_t default_page_size = 100;
  size_t max_page_size = 1000;
};

class Api {
 public:
  // `costs` and `cache` (may be null) are the database's plugins whose counters /metrics shows.
  Api(Database& database, ApiOptions options, AuthConfig auth, std::shared_ptr<CostsPlugin> costs = nullptr,
      std::shared_ptr<CachePlugin> cache = nullptr);
  ~Api();

  // Answers one request; never throws.
  HttpResponse Handle(HttpRequest& request);
  Metrics& metrics() { return metrics_; }
  bool auth_enabled() const { return authenticator_.enabled(); }

  struct Route;  // internal

 private:
  HttpResponse Dispatch(HttpRequest& request, Route& route);

  Database& database_;
  ApiOptions options_;
  Authenticator authenticator_;
  std::shared_ptr<CostsPlugin> costs_;
  std::shared_ptr<CachePlugin> cache_;
  Metrics metrics_;
};

}  // namespace s3db::serve

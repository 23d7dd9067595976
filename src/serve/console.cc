#include "console.h"

#include "console_assets.h"
#include "problem.h"

namespace s3db::serve {

// Everything from the server itself and nothing inline: a record's value that slipped into
// the page as markup could still not run. connect-src 'self' is the JSON API.
const char* const kConsoleContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

namespace {

std::string ContentTypeOf(std::string_view name) {
  auto ends_with = [&](std::string_view suffix) {
    return name.size() >= suffix.size() && name.substr(name.size() - suffix.size()) == suffix;
  };
  if (ends_with(".html")) return "text/html; charset=utf-8";
  if (ends_with(".js")) return "text/javascript; charset=utf-8";
  if (ends_with(".css")) return "text/css; charset=utf-8";
  if (ends_with(".svg")) return "image/svg+xml";
  if (ends_with(".png")) return "image/png";
  return "application/octet-stream";
}

}  // namespace

HttpResponse ConsoleAnswer(const std::string& name, const HttpRequest& request) {
  const std::string wanted = name.empty() ? "index.html" : name;
  for (const ConsoleAsset& asset : ConsoleAssets()) {
    if (asset.name != wanted) continue;
    const std::string etag = "\"" + std::string(asset.sha256_hex) + "\"";
    HttpResponse response;
    // The 64 hex digits cannot occur in another ETag by chance, so a search of the list will do.
    const std::string if_none_match = request.Header("if-none-match");
    if (if_none_match == "*" || if_none_match.find(etag) != std::string::npos) {
      response.status = 304;
    } else {
      response.SetHeader("Content-Type", ContentTypeOf(asset.name));
      response.body = std::string(asset.bytes);
    }
    response.SetHeader("ETag", etag);
    // Revalidated on every load (a 304 when unchanged), so a new binary's console is never mixed
    // with the old one's files.
    response.SetHeader("Cache-Control", "no-cache");
    response.SetHeader("Content-Security-Policy", kConsoleContentSecurityPolicy);
    response.SetHeader("X-Content-Type-Options", "nosniff");
    response.SetHeader("Referrer-Policy", "no-referrer");
    response.SetHeader("X-Frame-Options", "DENY");
    return response;
  }
  return ServerProblem(404, "the console has no file '" + wanted + "'");
}

}  // namespace s3db::serve

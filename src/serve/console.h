// The web console of `s3db serve` (docs/SERVE.md, "Web console"): static files embedded in the
// binary, served at `/` and `/console/<file>` with their content type, an ETag (304 on
// If-None-Match), `Cache-Control: no-cache` and a strict Content-Security-Policy (scripts,
// styles and requests only from the server itself; no inline script). The page holds no data;
// it calls the JSON API, which asks for credentials as it does for any client.
#pragma once

#include <string>

#include "http_types.h"

namespace s3db::serve {

// The Content-Security-Policy every console file is sent with.
extern const char* const kConsoleContentSecurityPolicy;

// The answer to GET or HEAD of console file `name` ("" for the page itself, index.html): the
// file, a 304 when If-None-Match names its ETag, or a 404 problem naming the file.
HttpResponse ConsoleAnswer(const std::string& name, const HttpRequest& request);

}  // namespace s3db::serve

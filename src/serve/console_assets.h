// The web console's files (src/serve/console/), embedded in the binary at build time by
// cmake/EmbedConsole.cmake, which generates the definition of ConsoleAssets().
#pragma once

#include <string_view>
#include <vector>

namespace s3db::serve {

struct ConsoleAsset {
  std::string_view name;        // "index.html", "app.js", ...
  std::string_view bytes;       // the file as it was in the source tree
  std::string_view sha256_hex;  // of `bytes`: the file's ETag
};

const std::vector<ConsoleAsset>& ConsoleAssets();

}  // namespace s3db::serve

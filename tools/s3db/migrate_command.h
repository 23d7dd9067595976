// `s3db migrate from-s3dbjs`: copies an s3db.js 21.x bucket into s3db (docs/MIGRATE.md),
// with a progress line on a terminal, a JSON-lines error report and a JSON summary.
#pragma once

#include <optional>
#include <string>

#include "command_line.h"
#include "output.h"

namespace s3db_cli {

// `target_passphrase`: s3db's (--passphrase-file, $S3DB_PASSPHRASE), which also opens the
// s3db.js secrets unless --from-passphrase-file names another.
ExitCode MigrateFromS3dbJsCommand(const CommandLine& line, const std::optional<std::string>& target_passphrase,
                                  Diagnostics& diagnostics);

}  // namespace s3db_cli

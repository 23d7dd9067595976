// Who writes a FileStore temporary file, and how repair tells a file a killed writer left from
// one a live writer is still writing.
//
// A temporary is named ".tmp-<pid>-<host>-<random>": the writing process's pid, a tag of 16
// hex digits naming its host (a hash of the host name, the boot id and the pid namespace, so
// that another machine, a reboot or another container never passes for this one), and 16
// random characters. Repair judges each one on that evidence:
//  - written on this host by a pid that no longer exists: stale (no one will rename it);
//  - older than StaleTemporaryOptions::max_age (by mtime), whoever wrote it: stale (a writer
//    publishes within moments; one stalled that long is treated as dead);
//  - otherwise kept: its writer may be alive (this host and the pid exists, even if the pid
//    was reused), or is on another host we cannot ask.
// Names of the older form ".tmp-<random>" say nothing of their writer: only age makes them
// stale. Removing a temporary whose writer did live on only fails that write (its rename
// finds no file, an I/O error); no object is ever touched.
//
// May call: util/ and the public headers.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "s3db/errors.h"
#include "s3db/object_store.h"

namespace s3db::store {

inline constexpr std::string_view kTempPrefix = ".tmp-";

// ".tmp-<this process's pid>-<this host's tag>-<random>": a fresh name for a new temporary.
std::string NewTemporaryName();

// This host's tag, as NewTemporaryName writes it.
const std::string& ThisHostTag();

struct TemporaryWriter {
  pid_t pid = 0;
  std::string host;  // the tag
};

// The writer a temporary's name records; nullopt for the older names that record none (and
// for names that are not temporaries at all).
std::optional<TemporaryWriter> WriterOfTemporary(std::string_view name);

enum class TemporaryVerdict { kStale, kMaybeLive };

// The judgment above, for a temporary named `name` last modified `age` ago.
TemporaryVerdict JudgeTemporary(std::string_view name, std::chrono::seconds age, std::chrono::seconds max_age);

// Walks the directories under `root` that can hold keys starting with options.prefix,
// judging every temporary there and (unless dry_run) removing the stale ones.
Result<StaleTemporaryResult> RemoveStaleTemporariesUnder(const std::string& root, const StaleTemporaryOptions& options);

}  // namespace s3db::store

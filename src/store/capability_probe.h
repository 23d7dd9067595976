// Whether a backend honours conditional writes, asked once per bucket (the answer is kept in
// the catalog), and the fallback for one that does not.
#pragma once

#include <memory>
#include <string>

#include "s3db/object_store.h"

namespace s3db::store {

// PUTs `key` with If-None-Match: * twice: a backend that honours the condition refuses the
// second (kPreconditionFailed). Deletes the key after. An error other than the expected
// refusal is returned as it is (wrong credentials, unreachable server, ...).
Result<bool> ProbeConditionalWrites(ObjectStore& store, const std::string& key);

// For a backend that ignores conditional headers (s3rver): checks the condition with a HEAD
// first, then writes unconditionally. Not atomic — two writers can both pass the check —
// which is why Database warns when it falls back to this.
std::unique_ptr<ObjectStore> NewCheckThenWriteStore(std::unique_ptr<ObjectStore> inner);

}  // namespace s3db::store

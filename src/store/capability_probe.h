// Whether a backend honours conditional writes and gives body-MD5 ETags, and the fallbacks for
// one that does not: the one probe and the one set of fallbacks of s3db. The S3 store runs them at open (unless its
// `probe` option is off); a Database runs them once per bucket and keeps the answer in the catalog. Calls only the
// ObjectStore it is given and util.
//
// May call: util/ and the public headers.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "s3db/object_store.h"

namespace s3db::store {

// What one probe learns of a backend.
struct ProbedCapabilities {
  bool conditional_writes = false;
  bool etag_is_body_md5 = false;
};

// PUTs `key` with If-None-Match: * twice, then with an If-Match that cannot match, and
// deletes the key. A backend that honours conditions refuses the second and third writes
// (kPreconditionFailed); one that lets them through, or rejects the headers as unknown
// (kUnsupported, or kInvalidArgument for a 400), does not. The first PUT's ETag, compared
// with the MD5 of the body it sent, tells whether ETags are body MD5s at no extra request
// (only when that PUT is refused, the key being left from an earlier probe, does
// ProbeEtagIsBodyMd5 run after it). Any other error is returned as it is (wrong
// credentials, a missing bucket, an unreachable server, ...).
Result<ProbedCapabilities> ProbeCapabilities(ObjectStore& store, const std::string& key);

// ProbeCapabilities' answer on conditional writes alone.
Result<bool> ProbeConditionalWrites(ObjectStore& store, const std::string& key);

// Whether the ETag of a single-part PUT is the MD5 of its body, as on S3 with no encryption
// or SSE-S3; not under SSE-KMS or SSE-C, nor on S3 Express One Zone. Scan snapshots rely on
// it (index/scan_snapshot.h). PUTs `key` and deletes it; errors as they come.
Result<bool> ProbeEtagIsBodyMd5(ObjectStore& store, const std::string& key);

// Whether the server behind `store` honours If-Match on DELETE (AWS since 2024; Ceph RGW 16
// deletes anyway). PUTs `key`, calls `delete_if_match` on it with an ETag it cannot have, and
// HEADs it: still there after a kPreconditionFailed is true; gone, or the header refused as
// unknown (kUnsupported, kInvalidArgument), is false. Deletes the key. Other errors as they
// come. `delete_if_match` is the store's raw conditional DELETE, since the store's own
// DeleteIfMatch is what waits for this answer.
using DeleteIfMatchFn = std::function<Status(const std::string& key, const std::string& etag)>;
Result<bool> ProbeConditionalDeletes(ObjectStore& store, const std::string& key,
                                     const DeleteIfMatchFn& delete_if_match);

// For a backend whose ETags the probe found not to be body MD5s: the same store, with
// capabilities().etag_is_body_md5 false, so compaction refuses and scans never trust a
// snapshot (readers compare listed ETags with the snapshot's MD5s).
std::unique_ptr<ObjectStore> NewEtagsNotMd5Store(std::unique_ptr<ObjectStore> inner);

// For a backend that ignores conditional headers (s3rver): checks the condition with a HEAD
// first, then writes unconditionally. Not atomic (two writers can both pass the check), so
// the first one made in a process warns on stderr, naming the store (Describe(), masked).
std::unique_ptr<ObjectStore> NewCheckThenWriteStore(std::unique_ptr<ObjectStore> inner);

}  // namespace s3db::store

// Resource::Compact: writes the scan snapshot that lets scans take records from a few
// segment objects instead of a GET each (index/scan_snapshot.h).
#include "format/key_layout.h"
#include "index/scan_snapshot.h"
#include "resource/record_access.h"
#include "s3db/resource.h"

namespace s3db {

CompactResult Resource::Compact() {
  return Guarded("compact", "", [&] {
    core::RecordAccess ctx{context_, name_, references_.get()};
    ctx.State();  // NotFound for a resource that does not exist
    ObjectStore& store = context_->store();
    // What the capability probe found when the store opened (store/capability_probe.h). A
    // bucket whose encryption changed since is safe too: entries are checked one by one
    // when written, and one whose ETag is not its body's MD5 is left out.
    if (!store.capabilities().etag_is_body_md5) {
      throw Unsupported("resource '" + name_ + "': " + store.Describe() +
                            " gives ETags that are not the MD5 of the body (SSE-KMS, SSE-C or S3 Express), so a "
                            "listing cannot tell whether a record changed; no snapshot was written, and scans read "
                            "every record with a GET",
                        name_);
    }
    std::vector<core::RecordAccess::ListedRecord> listed = ctx.ListRecords(0, std::nullopt);
    std::vector<core::ListedRecordKey> keys;
    keys.reserve(listed.size());
    for (auto& r : listed) keys.push_back({format::EncodeIdForKey(r.id), std::move(r.etag)});
    listed.clear();
    Result<core::SnapshotWriteOutcome> written =
        core::WriteScanSnapshot(store, context_->layout(), name_, keys, context_->settings().concurrency);
    if (!written.ok()) ctx.Fail(written.status(), "", "compacting");
    CompactResult out;
    out.resource = name_;
    out.generation = written->generation;
    out.records = written->records;
    out.reused = written->reused;
    out.fetched = written->fetched;
    out.skipped = written->vanished + written->not_md5;
    out.segments = written->segments;
    out.bytes = written->bytes;
    out.deleted_objects = written->deleted;
    return out;
  });
}

}  // namespace s3db

// UniqueIndex: `unique` on a scalar field, enforced across the records of a resource.
//
// S3 has no transactions, but it has conditional writes, and that is enough: every unique
// value a record holds is claimed by one small object
//
//   <prefix>/resource=<name>/unique=<percent-encoded path>/<sha256 hex of the value>
//   body {"id": <holder id or null>, "state": "pending" | "held" | "free", "at": <ms>, "w": <tag>}
//
// A writer claims the value ("pending", created with If-None-Match or taken over with
// If-Match), writes its record, then confirms the claim ("held", If-Match). A claim held by
// a record that no longer has the value (deleted, changed, or a writer that crashed after
// claiming) is stale and is taken over; so is a pending claim older than the lease. Every
// change of a claim is conditional on the ETag the writer read, so two writers can never both
// believe they hold a value: the loser's confirmation fails, and it undoes its write.
//
// Costs per unique field: an insert adds two PUTs (claim, confirm); an update that changes
// the value adds those and one more to free the old value; a delete adds a GET and a PUT.
// Thread-safety: stateless apart from the store, which is thread-safe.
//
// May call: format/, util/, and the store through ObjectStore.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "s3db/object_store.h"
#include "s3db/record.h"

namespace s3db::core {

// A pending claim left by a writer that stopped for this long is taken over.
inline constexpr int64_t kUniqueClaimLeaseMs = 60000;

class UniqueIndex {
 public:
  // The value the record `id` holds at `path` now; nullopt when the record does not exist or
  // the path is absent. Throws what reading throws.
  using HolderValue = std::function<std::optional<Json>(const std::string& id, const std::string& path)>;

  UniqueIndex(ObjectStore& store, std::string resource_prefix, std::string resource, HolderValue holder_value,
              std::function<int64_t()> now_ms);

  struct Claim {
    std::string path;
    Json value;
    std::string key;
    std::string etag;
  };

  // Claims the value for record `id` (pending). Throws AlreadyExists naming the field and the
  // record that holds the value, Conflict when another writer is claiming it right now,
  // StorageError when the store fails.
  Claim Acquire(const std::string& path, const Json& value, const std::string& id);
  // Marks the claim held once the record is written. False when the claim was taken over
  // meanwhile (the caller must undo its write).
  bool Confirm(Claim& claim, const std::string& id);
  // Frees the value if `id` still holds it. Best effort, never throws: a claim left behind is
  // stale (its holder no longer has the value) and the next claimant takes it over.
  void Release(const std::string& path, const Json& value, const std::string& id);

  // The claim object's key for a value (a number's integral float and its integer agree).
  std::string KeyFor(const std::string& path, const Json& value) const;

 private:
  Result<ObjectInfo> Write(const std::string& key, const std::optional<std::string>& holder, const char* state,
                           const std::optional<std::string>& if_match);

  ObjectStore& store_;
  std::string prefix_;
  std::string resource_;
  HolderValue holder_value_;
  std::function<int64_t()> now_ms_;
};

}  // namespace s3db::core

#include "index/unique_index.h"

#include <chrono>
#include <cmath>
#include <thread>

#include "format/value_codec.h"
#include "s3db/errors.h"
#include "s3db/json_limits.h"
#include "util/crypto_hash.h"
#include "util/text.h"

namespace s3db::core {
namespace {

constexpr int kAttempts = 12;

// One text per value: 2 and 2.0 are the same number to a user.
std::string CanonicalText(const Json& value) {
  if (value.is_number_float()) {
    const double d = value.get<double>();
    if (std::floor(d) == d && std::fabs(d) < 9007199254740992.0) {
      return format::EncodeValue(Json(static_cast<int64_t>(d)));
    }
  }
  return format::EncodeValue(value);
}

std::string Shown(const Json& value) {
  std::string s = value.dump(-1, ' ', true, Json::error_handler_t::replace);
  return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}

}  // namespace

UniqueIndex::UniqueIndex(ObjectStore& store, std::string resource_prefix, std::string resource,
                         HolderValue holder_value, std::function<int64_t()> now_ms)
    : store_(store),
      prefix_(std::move(resource_prefix)),
      resource_(std::move(resource)),
      holder_value_(std::move(holder_value)),
      now_ms_(std::move(now_ms)) {}

std::string UniqueIndex::KeyFor(const std::string& path, const Json& value) const {
  return prefix_ + "unique=" + util::PercentEncode(path) + "/" + util::HexEncode(util::Sha256(CanonicalText(value)));
}

Result<ObjectInfo> UniqueIndex::Write(const std::string& key, const std::optional<std::string>& holder,
                                      const char* state, const std::optional<std::string>& if_match) {
  PutRequest put;
  put.key = key;
  // The random tag makes every write's body, and so its ETag, new: If-Match then tells
  // this claim from any earlier one with the same holder.
  put.body = Json{{"id", holder ? Json(*holder) : Json(nullptr)},
                  {"state", state},
                  {"at", now_ms_()},
                  {"w", util::RandomAlnum(12)}}
                 .dump();
  put.content_type = "application/json";
  if (if_match) {
    put.if_match = *if_match;
  } else {
    put.if_none_match_star = true;
  }
  return store_.Put(put);
}

UniqueIndex::Claim UniqueIndex::Acquire(const std::string& path, const Json& value, const std::string& id) {
  Claim claim{path, value, KeyFor(path, value), ""};
  const std::string subject =
      "resource '" + resource_ + "': the value " + Shown(value) + " of unique field '" + path + "'";
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    Result<ObjectInfo> created = Write(claim.key, id, "pending", std::nullopt);
    if (created.ok()) {
      claim.etag = created->etag;
      return claim;
    }
    if (created.code() != ErrorCode::kPreconditionFailed && created.code() != ErrorCode::kConflict) {
      ThrowError(created.code(), subject + " could not be claimed: " + created.status().message(), resource_, id);
    }
    Result<GetResult> got = store_.Get(claim.key);
    if (got.code() == ErrorCode::kNotFound) continue;  // removed meanwhile (a drop): create again
    if (!got.ok()) ThrowError(got.code(), subject + " could not be read: " + got.status().message(), resource_, id);
    const Json body = ParseJsonOrDiscarded(got->body);
    std::optional<std::string> holder;
    std::string state = "free";
    int64_t at = 0;
    if (body.is_object()) {
      if (body.contains("id") && body["id"].is_string()) holder = body["id"].get<std::string>();
      state = body.value("state", "free");
      at = body.value("at", int64_t{0});
    }
    bool take_over = !holder || *holder == id;  // free, or ours already
    if (!take_over) {
      const bool fresh_pending = state == "pending" && now_ms_() - at < kUniqueClaimLeaseMs;
      const std::optional<Json> held = holder_value_(*holder, path);
      if (held && *held == value) {
        throw AlreadyExists(subject + " is already taken by record '" + *holder + "'", resource_, id);
      }
      if (fresh_pending) {
        // The holder may be between its claim and its record write: give it a moment.
        if (attempt + 1 < kAttempts) {
          std::this_thread::sleep_for(std::chrono::milliseconds(5 << std::min(attempt, 6)));
          continue;
        }
        throw Conflict(subject + " is being claimed by a concurrent write of record '" + *holder + "'; retry",
                       resource_, id);
      }
      take_over = true;  // stale: its holder no longer has the value
    }
    Result<ObjectInfo> taken = Write(claim.key, id, "pending", got->info.etag);
    if (taken.ok()) {
      claim.etag = taken->etag;
      return claim;
    }
    if (taken.code() != ErrorCode::kPreconditionFailed && taken.code() != ErrorCode::kConflict &&
        taken.code() != ErrorCode::kNotFound) {
      ThrowError(taken.code(), subject + " could not be claimed: " + taken.status().message(), resource_, id);
    }
    // Someone else changed the claim between our read and our write: look again.
  }
  throw Conflict(subject + " kept changing under " + std::to_string(kAttempts) + " attempts to claim it", resource_,
                 id);
}

bool UniqueIndex::Confirm(Claim& claim, const std::string& id) {
  Result<ObjectInfo> held = Write(claim.key, id, "held", claim.etag);
  if (held.ok()) {
    claim.etag = held->etag;
    return true;
  }
  if (held.code() == ErrorCode::kPreconditionFailed || held.code() == ErrorCode::kNotFound ||
      held.code() == ErrorCode::kConflict) {
    return false;
  }
  ThrowError(held.code(),
             "resource '" + resource_ + "': confirming the unique value of '" + claim.path +
                 "' failed: " + held.status().message(),
             resource_, id);
}

void UniqueIndex::Release(const std::string& path, const Json& value, const std::string& id) {
  const std::string key = KeyFor(path, value);
  Result<GetResult> got = store_.Get(key);
  if (!got.ok()) return;
  const Json body = ParseJsonOrDiscarded(got->body);
  if (!body.is_object() || body.value("id", Json()) != Json(id)) return;  // not ours (any more)
  (void)Write(key, std::nullopt, "free", got->info.etag);                 // a lost race leaves it to its new holder
}

}  // namespace s3db::core

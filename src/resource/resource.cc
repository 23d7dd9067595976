#include "s3db/resource.h"

#include <map>
#include <mutex>
#include <set>

#include "resource/bulk_item_error.h"
#include "resource/resource_context.h"
#include "index/partition_index.h"
#include "schema/partition_spec.h"
#include "exec/parallel_lister.h"
#include "record/record_codec.h"
#include "resource/record_scan.h"
#include "index/unique_index.h"
#include "store/metadata_rules.h"
#include "format/key_layout.h"
#include "util/parallel.h"
#include "util/time_format.h"

namespace s3db {
namespace {

// How many Resource::Guarded calls are running on this thread: only the outermost reports
// an "error" event, so an operation built of others (Upsert) reports once.
thread_local int guard_depth = 0;

// Objects merge key by key, recursively; anything else (null included) replaces.
void DeepMerge(Json& target, const Json& patch) {
  for (const auto& [key, value] : patch.items()) {
    auto it = target.find(key);
    if (value.is_object() && it != target.end() && it->is_object()) {
      DeepMerge(*it, value);
    } else {
      target[key] = value;
    }
  }
}

// Whether the record's fields (and "id") equal every entry of a Query filter.
bool MatchesFilter(const Record& record, const Json& filter) {
  const Json full = record.ToJson();
  for (const auto& [path, expected] : filter.items()) {
    const Json* actual = core::FindPath(full, path);
    if (!actual || *actual != expected) return false;
  }
  return true;
}

std::vector<std::string> KeysOf(const std::map<std::string, std::string>& by_partition) {
  std::vector<std::string> keys;
  keys.reserve(by_partition.size());
  for (const auto& [partition, key] : by_partition) keys.push_back(key);
  return keys;
}

std::string ValidationSummary(const std::vector<FieldError>& errors) {
  std::string out;
  for (const auto& e : errors) out += (out.empty() ? "" : "; ") + e.message;
  return out;
}

// The unique-value claims of one write: freed when the write does not go through (an error
// or an exception), kept once confirmed.
class ClaimSet {
 public:
  ClaimSet(core::UniqueIndex& index, std::vector<core::UniqueIndex::Claim> claims, std::string id)
      : index_(index), claims_(std::move(claims)), id_(std::move(id)) {}
  ClaimSet(const ClaimSet&) = delete;
  ClaimSet& operator=(const ClaimSet&) = delete;
  ~ClaimSet() { Release(); }

  void Release() {
    for (const auto& c : claims_) index_.Release(c.path, c.value, id_);
    claims_.clear();
  }
  // Marks every claim held; the path of one another writer took over meanwhile, if any.
  std::optional<std::string> Confirm() {
    for (auto& c : claims_) {
      if (!index_.Confirm(c, id_)) return c.path;
    }
    return std::nullopt;
  }
  void Keep() { claims_.clear(); }

 private:
  core::UniqueIndex& index_;
  std::vector<core::UniqueIndex::Claim> claims_;
  std::string id_;
};

}  // namespace

namespace {

// Per-call context shared by the helpers below.
struct Ctx {
  ResourceContext* core;
  const std::string& name;
  core::ReferenceQueue* references;  // the resource's background reference writer

  std::shared_ptr<const core::ResourceState> State() const {
    auto state = core->State(name, /*refresh_on_miss=*/true);
    if (!state) throw NotFound("resource '" + name + "' does not exist", name);
    return state;
  }

  // InvalidArgument for an id no record can have.
  void CheckId(const std::string& id) const {
    Status ok = format::ValidateId(id);
    if (!ok.ok()) throw InvalidArgument("resource '" + name + "': " + ok.message(), name, id);
  }

  std::string Key(const std::string& id) const {
    CheckId(id);
    return core->layout().RecordKey(name, id);
  }

  [[noreturn]] void Fail(const Status& status, const std::string& id, const std::string& doing) const {
    std::string subject = id.empty() ? "resource '" + name + "'" : "record '" + id + "' of resource '" + name + "'";
    if (status.code() == ErrorCode::kNotFound) throw NotFound(subject + " not found", name, id);
    ThrowError(status.code(), doing + " " + subject + ": " + status.message(), name, id);
  }

  // Validates (normalising) `data` under `spec`; throws ValidationError with every field,
  // those found in the id (`errors`) included.
  void Validate(const core::VersionSpec& spec, Json& data, const std::string& id,
                std::vector<FieldError> errors = {}) const {
    std::vector<FieldError> more = core::ValidateRecord(spec.schema, data);
    errors.insert(errors.end(), more.begin(), more.end());
    if (!errors.empty()) {
      std::string subject = id.empty() ? "a new record" : "record '" + id + "'";
      throw ValidationError("resource '" + name + "': " + subject + " is invalid: " + ValidationSummary(errors),
                            std::move(errors), name, id);
    }
  }

  // Reading or writing record data of a resource with secret fields needs the key; say so
  // before any request rather than half way through a listing.
  void RequireKeysFor(const core::ResourceState& state) const {
    if (core::EntryHasSecrets(state)) core->RequireKeys(name);
  }

  // The version spec that wrote `version`, kept alive by `holder`.
  const core::VersionSpec& SpecOf(int version, std::shared_ptr<const core::ResourceState>* holder) const {
    *holder = core->StateWithVersion(name, version);
    return *(*holder)->versions.at(version);
  }

  // `state`, when given, is used if it knows the record's version (it usually does).
  Record Decode(const std::string& id, const GetResult& got, core::DecodeOptions options = {},
                std::shared_ptr<const core::ResourceState> state = nullptr) const {
    return Decode(id, got.info, got.body, options, std::move(state));
  }

  Record Decode(const std::string& id, const ObjectInfo& info, const std::string& body,
                core::DecodeOptions options = {}, std::shared_ptr<const core::ResourceState> state = nullptr) const {
    const int version = core::RecordVersion(info.metadata, name, id);
    const core::VersionSpec* known = state ? KnownSpec(*state, version) : nullptr;
    const core::VersionSpec& spec = known ? *known : SpecOf(version, &state);
    try {
      return DecodeAs(id, info, body, version, spec, options);
    } catch (const Corruption&) {
      // A key this process has not seen (another process rotated): re-read the catalog once,
      // and decode again only if it brought new keys.
      const uint64_t before = core->CryptoGeneration();
      core->LoadCatalog();
      if (core->CryptoGeneration() == before) throw;
      return DecodeAs(id, info, body, version, spec, options);
    }
  }

  // The record decoded where the store holds it (ObjectStore::Read), when everything it needs
  // is at hand: `state` knows its version and it decodes. nullopt otherwise, for the caller
  // to decode a copy with Decode, which may re-read the catalog and reports the error (Read's
  // visitor must not call the store).
  std::optional<Record> DecodeInPlace(const std::string& id, const ObjectInfo& info, const std::string& body,
                                      const core::ResourceState& state) const {
    try {
      const int version = core::RecordVersion(info.metadata, name, id);
      const core::VersionSpec* spec = KnownSpec(state, version);
      if (!spec) return std::nullopt;
      return DecodeAs(id, info, body, version, *spec, {});
    } catch (...) {
      return std::nullopt;  // decoded again from a copy, where the error is reported
    }
  }

  static const core::VersionSpec* KnownSpec(const core::ResourceState& state, int version) {
    auto it = state.versions.find(version);
    return it == state.versions.end() ? nullptr : it->second.get();
  }

  // The record `info` and `body` hold, decoded under `spec`, the version that wrote it.
  Record DecodeAs(const std::string& id, const ObjectInfo& info, const std::string& body, int version,
                  const core::VersionSpec& spec, core::DecodeOptions options) const {
    Record r;
    r.id = id;
    if (!options.truncated_paths) options.truncated_paths = &r.truncated;
    r.data = core::DecodeRecord(info.metadata, body, spec, name, id, &core->Keys(), options);
    r.etag = info.etag;
    r.last_modified_ms = info.last_modified_ms;
    r.schema_version = version;
    return r;
  }

  // With `cached`, through the CachePlugin when one caches records (public reads only: a
  // read that decides a write must see the store).
  std::optional<Record> TryGet(const std::string& id, bool cached = false) const {
    std::shared_ptr<const core::ResourceState> state = State();
    RequireKeysFor(*state);
    const std::string key = Key(id);
    ReadCache* cache = cached ? core->cache() : nullptr;
    if (!cache || !cache->caches_records()) {
      // Decoded where the store holds the object when it can (the memory store), instead of
      // copied out first: the copy was 8 of a get's 44 allocations.
      std::optional<Record> decoded;
      std::optional<GetResult> copy;  // only for a record that cannot be decoded in place
      Status read = core->store().Read(key, [&](const ObjectInfo& info, const std::string& body) {
        decoded = DecodeInPlace(id, info, body, *state);
        if (!decoded) copy = GetResult{info, body};
      });
      if (read.code() == ErrorCode::kNotFound) return std::nullopt;
      if (!read.ok()) Fail(read, id, "reading");
      if (decoded) return decoded;
      if (!copy) Fail(Status(ErrorCode::kInternal, "the store's Read succeeded without the object"), id, "reading");
      return Decode(id, *copy, {}, std::move(state));
    }
    Result<GetResult> got =
        cache->GetObject(ReadCache::RecordKey(name, id), [&] { return core->store().Get(key); });
    if (got.code() == ErrorCode::kNotFound) return std::nullopt;
    if (!got.ok()) Fail(got.status(), id, "reading");
    return Decode(id, *got, {}, std::move(state));
  }

  // Encodes and writes `data` (validated under spec) with the given condition. On success
  // `data` moves into the returned record (callers that retry keep it on failure).
  Result<Record> Write(const core::VersionSpec& spec, const std::string& id, Json& data, bool create_only,
                       const std::string& if_match) const {
    // body-overflow keeps the partition fields (spec.partition_paths) in metadata.
    core::EncodedRecord encoded = core::EncodeRecord(data, spec, core->settings().metadata_budget, name, id,
                                                     &core->Keys(), &spec.partition_paths);
    PutRequest put;
    put.key = Key(id);
    put.metadata = std::move(encoded.metadata);
    put.body = std::move(encoded.body);
    put.content_type = "application/json";
    put.if_none_match_star = create_only;
    if (!if_match.empty()) put.if_match = if_match;
    // truncate-data stored shorter values than it was given: return what was stored.
    std::optional<Json> stored;
    if (!encoded.truncated_paths.empty()) {
      stored = core::DecodeRecord(put.metadata, put.body, spec, name, id, &core->Keys());
    }
    Result<ObjectInfo> written = core->store().Put(put);
    if (!written.ok()) return written.status();
    if (encoded.exceeded() && spec.behavior == core::Behavior::kUserManaged) {
      core->ResourceObject(name).EmitEvent(Resource::kExceedsLimitEvent, [&] {
        return Json{{"resource", name}, {"id", id}, {"totalSize", encoded.full_bytes},
                    {"limit", encoded.budget}, {"excess", encoded.full_bytes - encoded.budget},
                    {"bodyFields", encoded.body_paths}};
      });
    }
    Record r;
    r.id = id;
    r.data = stored ? std::move(*stored) : std::move(data);
    r.etag = written->etag;
    r.last_modified_ms = written->last_modified_ms ? written->last_modified_ms : util::NowMs();
    r.schema_version = spec.version;
    r.truncated = std::move(encoded.truncated_paths);
    return r;
  }

  // ---- unique values ----------------------------------------------------------------------

  core::UniqueIndex Index() const {
    auto holder_value = [this](const std::string& holder, const std::string& path) -> std::optional<Json> {
      if (!format::ValidateId(holder).ok()) return std::nullopt;  // a damaged claim: stale
      Result<GetResult> got = core->store().Get(core->layout().RecordKey(name, holder));
      if (got.code() == ErrorCode::kNotFound) return std::nullopt;
      if (!got.ok()) Fail(got.status(), holder, "reading");
      core::DecodeOptions options;
      options.skip_secrets = true;  // unique fields are never secret
      Record r = Decode(holder, *got, options);
      const Json* v = core::FindPath(r.data, path);
      if (!v) return std::nullopt;
      return *v;
    };
    return core::UniqueIndex(core->store(), core->layout().ResourcePrefix(name), name, holder_value, util::NowMs);
  }

  // (path, value) of every unique field the data holds (absent and null hold nothing).
  static std::vector<std::pair<std::string, Json>> UniqueValues(const core::VersionSpec& spec, const Json& data) {
    std::vector<std::pair<std::string, Json>> out;
    for (const core::FieldRule* rule : spec.schema.UniqueFields()) {
      const Json* v = core::FindPath(data, rule->path);
      if (v && !v->is_null()) out.emplace_back(rule->path, *v);
    }
    return out;
  }

  // Claims every value in `values` for `id`; on failure frees the ones claimed and rethrows.
  std::vector<core::UniqueIndex::Claim> Claim(core::UniqueIndex& index,
                                              const std::vector<std::pair<std::string, Json>>& values,
                                              const std::string& id) const {
    std::vector<core::UniqueIndex::Claim> claims;
    try {
      for (const auto& [path, value] : values) claims.push_back(index.Acquire(path, value, id));
    } catch (...) {
      for (const auto& c : claims) index.Release(c.path, c.value, id);
      throw;
    }
    return claims;
  }

  // Ids of the resource in key order, from `offset`, at most `limit` of them.
  std::vector<std::string> ListIds(size_t offset, std::optional<size_t> limit) const {
    std::vector<std::string> ids;
    ListRequest request;
    request.prefix = core->layout().RecordPrefix(name);
    if (offset == 0 && !limit && core->settings().concurrency > 1) {
      // The whole listing: many ranges at once (core/parallel_lister.h), same result.
      Result<std::vector<std::string>> keys = exec::ListKeysInParallel(
          core->store(), request.prefix, core->settings().concurrency, exec::kEncodedIdAlphabet);
      if (!keys.ok()) Fail(keys.status(), "", "listing");
      for (const auto& key : *keys) {
        if (auto id = core->layout().IdFromRecordKey(name, key)) ids.push_back(std::move(*id));
      }
      return ids;
    }
    size_t skipped = 0;
    while (true) {
      Result<ListPage> page = core->store().List(request);
      if (!page.ok()) Fail(page.status(), "", "listing");
      for (const auto& object : page->objects) {
        auto id = core->layout().IdFromRecordKey(name, object.key);
        if (!id) continue;  // not a record key (nothing else should live here)
        if (skipped < offset) {
          ++skipped;
          continue;
        }
        if (limit && ids.size() >= *limit) return ids;
        ids.push_back(std::move(*id));
      }
      if (!page->truncated) return ids;
      request.continuation_token = page->next_continuation_token;
    }
  }

  // ---- partitions ---------------------------------------------------------------------------

  // Partition name -> reference key of `data` under spec's partitions.
  std::map<std::string, std::string> ReferenceKeys(const core::VersionSpec& spec, const Json& data,
                                                   const std::string& id) const {
    return core::ReferenceKeys(core->layout(), name, spec.partitions, data, id);
  }

  // Throws ValidationError, before any write, for a reference key S3 would refuse; returns
  // the keys (partition -> reference key).
  std::map<std::string, std::string> CheckReferenceKeys(const core::VersionSpec& spec, const Json& data,
                                                        const std::string& id, bool generated) const {
    std::vector<FieldError> errors;
    std::map<std::string, std::string> keys = ReferenceKeys(spec, data, id);
    for (const auto& [partition, key] : keys) {
      if (key.size() <= format::kMaxKeyBytes) continue;
      // Blame the field with the longest value text: that is what maxlength would cut.
      const core::PartitionSpec* p = core::FindPartition(spec.partitions, partition);
      const auto segments = core::RecordSegments(*p, data);
      size_t longest = 0;
      for (size_t i = 1; i < segments->size(); ++i) {
        if ((*segments)[i].second.size() > (*segments)[longest].second.size()) longest = i;
      }
      FieldError e;
      e.path = (*segments)[longest].first;
      e.rule = "partition";
      e.expected = "a value whose partition '" + partition + "' reference key fits in " +
                   std::to_string(format::kMaxKeyBytes) + " bytes (give the partition field a maxlength)";
      e.actual = "a key of " + std::to_string(key.size()) + " bytes";
      e.message = e.path + " (partition " + partition + "): the reference key would be " + std::to_string(key.size()) +
                  " bytes; S3 allows " + std::to_string(format::kMaxKeyBytes);
      errors.push_back(std::move(e));
    }
    if (!errors.empty()) {
      std::string subject = generated ? "a new record" : "record '" + id + "'";
      throw ValidationError("resource '" + name + "': " + subject + " is invalid: " + ValidationSummary(errors),
                            std::move(errors), name, generated ? "" : id);
    }
    return keys;
  }

  // The reference keys record `id` needs now, under the current definition, read fresh
  // (secrets stay sealed: no partition field is secret); nullopt when it does not exist.
  std::optional<std::set<std::string>> CurrentReferenceKeys(const std::string& id) const {
    Result<GetResult> got = core->store().Get(Key(id));
    if (got.code() == ErrorCode::kNotFound) return std::nullopt;
    if (!got.ok()) Fail(got.status(), id, "reading");
    core::DecodeOptions options;
    options.skip_secrets = true;
    const Record record = Decode(id, *got, options);
    auto state = State();
    std::set<std::string> keys;
    for (auto& [partition, key] : ReferenceKeys(state->current(), record.data, id)) keys.insert(std::move(key));
    return keys;
  }

  core::ReferenceIo Io(int concurrency) const {
    return core::ReferenceIo{core->store(), core->layout(), name, concurrency,
                             [this](const std::string& id) { return CurrentReferenceKeys(id); }};
  }

  // Applies a change to the references of a record just written, or queues it when the
  // resource writes them in the background. A synchronous failure throws: the record stands,
  // and repair rebuilds what is missing.
  void PublishReferences(const core::VersionSpec& spec, core::ReferenceChange change, const std::string& done) const {
    if (change.put.empty() && change.remove.empty()) return;
    if (spec.definition.async_partitions) {
      references->Push(std::move(change));
      return;
    }
    const core::ReferenceOutcome outcome = core::ApplyReferenceChange(Io(core->settings().concurrency), change);
    if (outcome.failures.empty()) return;
    const PartitionFailure& first = outcome.failures.front();
    // The record exists, so "not found" would mislead: report a storage failure.
    const ErrorCode code = first.code == ErrorCode::kNotFound ? ErrorCode::kIOError : first.code;
    ThrowError(code,
               "record '" + change.id + "' of resource '" + name + "' was " + done + ", but " +
                   std::to_string(outcome.failures.size()) + " of its partition references failed, the first (" +
                   first.operation + " " + first.key + "): " + first.message +
                   "; reads through the partition may miss it until `s3db repair " + name +
                   "` (Resource::RepairPartitions) rebuilds them",
               name, change.id);
  }

  // The partition `partition` of `spec`; InvalidArgument naming the ones there are.
  const core::PartitionSpec& PartitionOf(const core::VersionSpec& spec, const std::string& partition) const {
    if (const core::PartitionSpec* p = core::FindPartition(spec.partitions, partition)) return *p;
    std::string known;
    for (const auto& p : spec.partitions) known += (known.empty() ? "" : ", ") + p.name;
    throw InvalidArgument("resource '" + name + "' has no partition '" + partition + "' (" +
                              (known.empty() ? std::string("it has none") : "it has: " + known) + ")",
                          name);
  }

  struct PartitionTarget {
    const core::PartitionSpec* partition = nullptr;
    format::PartitionSegments segments;
  };

  // The partition a listing reads, from ListOptions/PageOptions; nullopt for the whole resource.
  std::optional<PartitionTarget> Target(const core::VersionSpec& spec, const std::string& partition,
                                        const Json& values) const {
    if (partition.empty()) {
      if (!values.is_null() && !(values.is_object() && values.empty())) {
        throw InvalidArgument("resource '" + name + "': partition values were given without a partition", name);
      }
      return std::nullopt;
    }
    PartitionTarget target;
    target.partition = &PartitionOf(spec, partition);
    target.segments = core::ValueSegments(name, *target.partition, values.is_null() ? Json::object() : values,
                                          /*require_all=*/false);
    return target;
  }

  // The record behind a listed reference, when its current data gives exactly that key (and
  // it passes `filter`); nullopt for a stale reference. Secrets stay sealed unless `full`.
  std::optional<Record> Verify(const core::PartitionSpec& partition, const std::string& key, const std::string& id,
                               bool full, const Json* filter) const {
    Result<GetResult> got = core->store().Get(core->layout().RecordKey(name, id));
    if (got.code() == ErrorCode::kNotFound) return std::nullopt;  // the record is gone
    if (!got.ok()) Fail(got.status(), id, "reading");
    core::DecodeOptions options;
    options.skip_secrets = !full;
    Record record = Decode(id, *got, options);
    const auto segments = core::RecordSegments(partition, record.data);
    if (!segments || core->layout().PartitionKey(name, partition.name, *segments, id) != key) return std::nullopt;
    if (filter && !MatchesFilter(record, *filter)) return std::nullopt;
    return record;
  }

  struct ScanResult {
    std::vector<std::string> ids;
    std::vector<Record> records;  // when kept
    size_t matched = 0;           // verified references seen (all of them with count_all)
  };

  // Lists the references under `target` in key order and keeps those Verify accepts: from
  // `offset`, at most `limit`. Reads each candidate record (one GET per reference), a batch
  // at a time in parallel, and stops at the limit unless `count_all`.
  ScanResult ScanPartition(const PartitionTarget& target, size_t offset, std::optional<size_t> limit,
                           bool keep_records, bool count_all, const Json* filter = nullptr) const {
    ScanResult out;
    auto taken = [&] { return keep_records ? out.records.size() : out.ids.size(); };
    auto full = [&] { return limit && taken() >= *limit; };
    if (full() && !count_all) return out;
    const core::PartitionSpec& partition = *target.partition;
    ListRequest request;
    request.prefix = core->layout().PartitionValuesPrefix(name, partition.name, target.segments);
    const size_t batch = static_cast<size_t>(std::max(1, core->settings().concurrency)) * 4;
    while (true) {
      Result<ListPage> page = core->store().List(request);
      if (!page.ok()) Fail(page.status(), "", "listing partition '" + partition.name + "' of");
      std::vector<std::pair<std::string, std::string>> candidates;  // key, id
      for (const auto& object : page->objects) {
        auto parts = core->layout().ParsePartitionKey(name, object.key);
        if (parts) candidates.emplace_back(object.key, std::move(parts->id));
      }
      for (size_t start = 0; start < candidates.size(); start += batch) {
        const size_t n = std::min(candidates.size() - start, batch);
        std::vector<std::optional<Record>> verified(n);
        std::vector<std::exception_ptr> failures(n);
        util::ParallelFor(n, core->settings().concurrency, [&](size_t i) {
          try {
            const auto& [key, id] = candidates[start + i];
            verified[i] = Verify(partition, key, id, keep_records, filter);
          } catch (...) {
            failures[i] = std::current_exception();
          }
        });
        for (auto& f : failures) {
          if (f) std::rethrow_exception(f);
        }
        for (auto& record : verified) {
          if (!record) continue;
          if (out.matched++ < offset || full()) continue;
          if (keep_records) {
            out.records.push_back(std::move(*record));
          } else {
            out.ids.push_back(std::move(record->id));
          }
        }
        if (full() && !count_all) return out;
      }
      if (!page->truncated) return out;
      request.continuation_token = page->next_continuation_token;
    }
  }

  // The ids the references under `target` name, in key order, from `offset`, at most
  // `limit`: the index as it stands, no record read (ListOptions::verify false).
  std::vector<std::string> ListReferencedIds(const PartitionTarget& target, size_t offset,
                                             std::optional<size_t> limit) const {
    std::vector<std::string> ids;
    ListRequest request;
    request.prefix = core->layout().PartitionValuesPrefix(name, target.partition->name, target.segments);
    size_t skipped = 0;
    while (!limit || ids.size() < *limit) {
      Result<ListPage> page = core->store().List(request);
      if (!page.ok()) Fail(page.status(), "", "listing partition '" + target.partition->name + "' of");
      for (const auto& object : page->objects) {
        auto parts = core->layout().ParsePartitionKey(name, object.key);
        if (!parts || skipped++ < offset) continue;
        if (limit && ids.size() >= *limit) break;
        ids.push_back(std::move(parts->id));
      }
      if (!page->truncated) break;
      request.continuation_token = page->next_continuation_token;
    }
    return ids;
  }

  // Reads many ids in parallel; vanished ones are skipped (they were deleted meanwhile).
  std::vector<Record> ReadAll(const std::vector<std::string>& ids, bool cached = false) const {
    std::vector<std::optional<Record>> slots(ids.size());
    std::vector<std::exception_ptr> failures(ids.size());
    util::ParallelFor(ids.size(), core->settings().concurrency, [&](size_t i) {
      try {
        slots[i] = TryGet(ids[i], cached);
      } catch (...) {
        failures[i] = std::current_exception();
      }
    });
    for (auto& f : failures) {
      if (f) std::rethrow_exception(f);
    }
    std::vector<Record> out;
    out.reserve(ids.size());
    for (auto& s : slots) {
      if (s) out.push_back(std::move(*s));
    }
    return out;
  }
};

}  // namespace

Resource::Resource(ResourceContext* context, std::string name)
    : core_(context),
      name_(std::move(name)),
      hook_relay_([this](const std::string& line) { events_.Report(line); }),
      hooks_(name_) {
  hook_relay_.On(events::kHookError, [this](const Json& payload) {
    EmitEvent(events::kHookError, [&] { return payload; });
  });
  auto apply = [this](const core::ReferenceChange& change) {
    Ctx ctx{core_, name_, nullptr};
    return core::ApplyReferenceChange(ctx.Io(core_->settings().concurrency), change);
  };
  auto report = [this](const PartitionFailure& f) {
    EmitEvent(kPartitionErrorEvent, [&] {
      return Json{{"resource", name_},         {"id", f.id},
                  {"partition", f.partition},  {"key", f.key},
                  {"operation", f.operation},  {"code", ErrorCodeName(f.code)},
                  {"message", f.message}};
    });
  };
  references_ = std::make_unique<core::ReferenceQueue>(apply, report, core_->settings().concurrency);
}

Resource::~Resource() = default;

bool Resource::Observed(const char* event) const {
  return events_.HasListeners(event) || core_->resource_events().HasListeners(event);
}

void Resource::EmitEventNow(const char* event, const std::function<Json()>& payload) {
  EventEmitter& plugins = core_->resource_events();
  const bool mine = events_.HasListeners(event);
  const bool theirs = plugins.HasListeners(event);
  if (!mine && !theirs) {
    if (std::string_view(event) == events::kHookError) {
      // Nobody listens for hook failures: one line, as HookRegistry would write it.
      const Json p = payload();
      events_.Report("s3db: " + p.value("hook", std::string("a")) + " hook #" +
                     std::to_string(p.value("index", size_t{0})) + " of resource '" + name_ + "' failed for id '" +
                     p.value("id", std::string()) + "': " + p.value("message", std::string()));
    }
    return;
  }
  Json built;
  try {
    built = payload();
  } catch (...) {
    return;  // an event is news: failing to build one never fails the operation
  }
  if (!built.contains("resource")) built["resource"] = name_;
  if (mine) events_.Emit(event, built);
  if (theirs) plugins.Emit(event, built);
}

template <typename F>
auto Resource::Guarded(const char* operation, const std::string& id, F&& op) -> decltype(op()) {
  struct Depth {
    Depth() { ++guard_depth; }
    ~Depth() { --guard_depth; }
  } depth;
  try {
    return op();
  } catch (const Error& e) {
    if (guard_depth == 1) {
      // Messages never carry secret values (the validator and the codec leave them out).
      EmitEvent(events::kError, [&] {
        return Json{{"resource", name_},
                    {"id", e.id().empty() ? id : e.id()},
                    {"operation", operation},
                    {"code", ErrorCodeName(e.code())},
                    {"message", e.what()}};
      });
    }
    throw;
  }
}

void Resource::InvalidateCached(const std::string& id) {
  ReadCache* cache = core_->cache();
  if (!cache) return;
  if (!id.empty()) cache->Invalidate(ReadCache::RecordKey(name_, id));
  cache->InvalidatePrefix(ReadCache::QueryPrefix(name_));
}

void Resource::InvalidateQueries() {
  if (ReadCache* cache = core_->cache()) cache->InvalidatePrefix(ReadCache::QueryPrefix(name_));
}

Json Resource::RecordPayload(const Record& record) {
  std::vector<std::string> secrets;
  if (auto state = core_->State(name_, false)) {
    auto it = state->versions.find(record.schema_version);
    const core::VersionSpec& spec = it != state->versions.end() ? *it->second : state->current();
    secrets = spec.schema.SecretPaths();
  }
  return RedactSecrets(record.ToJson(), secrets);
}

ResourceDefinition Resource::definition() const { return Ctx{core_, name_, references_.get()}.State()->current().definition; }
int Resource::version() const { return Ctx{core_, name_, references_.get()}.State()->current_version; }

Record Resource::Insert(const Json& input) { return Insert(Json(input)); }

Record Resource::Insert(Json&& input) {
  std::string given_id;
  if (input.is_object() && input.contains("id") && input["id"].is_string()) given_id = input["id"].get<std::string>();
  return Guarded("insert", given_id, [&] {
    if (!input.is_object()) throw InvalidArgument("resource '" + name_ + "': a record must be a JSON object", name_);
    Json data = std::move(input);
    hooks_.RunPreInsert(data);  // may change the data, or abort before anything is written
    Record record = [&] {
      try {
        return DoInsert(std::move(data));
      } catch (const Conflict& e) {
        InvalidateCached(e.id());  // an insert undone after its write
        throw;
      }
    }();
    InvalidateCached(record.id);
    hooks_.RunAfterInsert(record, hook_relay_);
    EmitEvent(events::kInsert, [&] { return Json{{"resource", name_}, {"id", record.id}, {"record", RecordPayload(record)}}; });
    return record;
  });
}

Record Resource::DoInsert(Json data) {
  Ctx ctx{core_, name_, references_.get()};
  if (!data.is_object()) throw InvalidArgument("resource '" + name_ + "': a record must be a JSON object", name_);
  auto state = ctx.State();
  const core::VersionSpec& spec = state->current();
  ctx.RequireKeysFor(*state);
  std::string id;
  bool generated = true;
  std::vector<FieldError> id_errors;
  if (auto it = data.find("id"); it != data.end()) {
    if (spec.schema.id) {
      // The schema declares the id: it is checked with the fields, and a number it allows
      // becomes its text (the id lives in the object key).
      id = core::ValidateIdValue(spec.schema, *it, &id_errors).value_or("");
    } else if (!it->is_string()) {
      throw InvalidArgument("resource '" + name_ + "': the id must be a string, got " + it->dump(), name_);
    } else {
      id = it->get<std::string>();
    }
    generated = false;
    data.erase("id");
  } else {
    id = format::NewId();
  }
  if (id_errors.empty()) ctx.CheckId(id);  // before any work
  if (spec.definition.timestamps) {
    std::string now = util::FormatIso8601Ms(util::NowMs());
    data["createdAt"] = now;
    data["updatedAt"] = std::move(now);
  }
  ctx.Validate(spec, data, generated ? "" : id, std::move(id_errors));
  // A redrawn id has the same length, so the check holds for it; its keys are made anew.
  std::map<std::string, std::string> reference_keys = ctx.CheckReferenceKeys(spec, data, id, generated);
  const std::string checked_id = id;
  const auto uniques = Ctx::UniqueValues(spec, data);
  core::UniqueIndex index = ctx.Index();
  for (int attempt = 0;; ++attempt) {
    ClaimSet claims(index, ctx.Claim(index, uniques, id), id);
    Result<Record> written = ctx.Write(spec, id, data, /*create_only=*/true, "");
    if (!written.ok()) {
      claims.Release();
      if (written.code() == ErrorCode::kPreconditionFailed) {
        // A generated id that collides is astronomically unlikely; draw again rather than fail.
        if (generated && attempt < 3) {
          id = format::NewId();
          continue;
        }
        throw AlreadyExists("record '" + id + "' of resource '" + name_ + "' already exists", name_, id);
      }
      ctx.Fail(written.status(), id, "inserting");
    }
    if (std::optional<std::string> lost = claims.Confirm()) {
      // This insert stalled past the claim lease and another writer took the value: undo.
      (void)core_->store().Delete(ctx.Key(id));
      throw Conflict("record '" + id + "' of resource '" + name_ + "': unique field '" + *lost +
                         "' was claimed by another writer while this insert stalled; nothing was inserted",
                     name_, id);
    }
    claims.Keep();
    // References after the record: a crash in between leaves a record that repair indexes,
    // never a reference to nothing.
    // The partition fields are never truncated, so the checked keys are the written ones.
    if (id != checked_id) reference_keys = ctx.ReferenceKeys(spec, written->data, id);
    ctx.PublishReferences(spec, core::ReferenceChange{id, KeysOf(reference_keys), {}, false}, "inserted");
    return std::move(written).value();
  }
}

Record Resource::Get(const std::string& id) {
  return Guarded("get", id, [&] {
    auto r = TryGet(id);
    if (!r) throw NotFound("record '" + id + "' of resource '" + name_ + "' not found", name_, id);
    return std::move(*r);
  });
}

std::optional<Record> Resource::TryGet(const std::string& id) {
  return Guarded("get", id, [&] {
    Ctx ctx{core_, name_, references_.get()};
    std::optional<Record> r = ctx.TryGet(id, /*cached=*/true);  // NotFound for a missing resource
    if (r) EmitEvent(events::kGet, [&] { return Json{{"resource", name_}, {"id", id}, {"record", RecordPayload(*r)}}; });
    return r;
  });
}

bool Resource::Exists(const std::string& id) {
  return Guarded("exists", id, [&] {
    Ctx ctx{core_, name_, references_.get()};
    ctx.State();
    Result<ObjectInfo> head = core_->store().Head(ctx.Key(id));
    if (head.code() == ErrorCode::kNotFound) return false;
    if (!head.ok()) ctx.Fail(head.status(), id, "checking");
    return true;
  });
}

Record Resource::Update(const std::string& id, const Json& patch, const UpdateOptions& options) {
  return Guarded("update", id, [&] {
    if (!patch.is_object()) {
      throw InvalidArgument("resource '" + name_ + "': an update must be a JSON object", name_, id);
    }
    Json changes = patch;
    hooks_.RunPreUpdate(id, changes);  // once, before the read-modify-write loop
    Record record;
    try {
      record = DoUpdate(id, changes, options);
    } catch (const Conflict&) {
      InvalidateCached(id);  // an update undone after its write
      throw;
    }
    InvalidateCached(id);
    hooks_.RunAfterUpdate(record, hook_relay_);
    EmitEvent(events::kUpdate, [&] {
      Json redacted_patch = changes;
      if (auto state = core_->State(name_, false)) {
        redacted_patch = RedactSecrets(std::move(redacted_patch), state->current().schema.SecretPaths());
      }
      return Json{{"resource", name_}, {"id", id}, {"record", RecordPayload(record)}, {"patch", redacted_patch}};
    });
    return record;
  });
}

Record Resource::DoUpdate(const std::string& id, const Json& patch, const UpdateOptions& options) {
  Ctx ctx{core_, name_, references_.get()};
  if (!patch.is_object()) throw InvalidArgument("resource '" + name_ + "': an update must be a JSON object", name_, id);
  if (auto it = patch.find("id"); it != patch.end() && *it != id) {
    throw InvalidArgument("resource '" + name_ + "': an update cannot change the id of record '" + id + "'", name_, id);
  }
  const int attempts = core_->settings().max_update_attempts;
  for (int attempt = 0; attempt < attempts; ++attempt) {
    std::optional<Record> current = ctx.TryGet(id);
    if (!current) throw NotFound("record '" + id + "' of resource '" + name_ + "' not found", name_, id);
    if (options.if_match && !store::EtagsMatch(*options.if_match, current->etag)) {
      throw PreconditionFailed("record '" + id + "' of resource '" + name_ + "' has changed (ETag " +
                                   current->etag + ", expected " + *options.if_match + ")",
                               name_, id);
    }
    auto state = ctx.State();
    const core::VersionSpec& spec = state->current();  // an update writes the current version
    Json data = current->data;
    Json changes = patch;
    changes.erase("id");
    DeepMerge(data, changes);
    if (spec.definition.timestamps) {
      if (!data.contains("createdAt")) data["createdAt"] = util::FormatIso8601Ms(current->last_modified_ms);
      data["updatedAt"] = util::FormatIso8601Ms(util::NowMs());
    }
    ctx.Validate(spec, data, id);
    ctx.CheckReferenceKeys(spec, data, id, false);
    // Unique values: claim the new ones before the write, free the old ones after it.
    std::vector<std::pair<std::string, Json>> gained, lost;
    const auto before = Ctx::UniqueValues(spec, current->data);
    const auto after = Ctx::UniqueValues(spec, data);
    for (const auto& [path, value] : after) {
      const Json* old = core::FindPath(current->data, path);
      if (!old || *old != value) gained.emplace_back(path, value);
    }
    for (const auto& [path, value] : before) {
      const Json* now = core::FindPath(data, path);
      if (!now || *now != value) lost.emplace_back(path, value);
    }
    core::UniqueIndex index = ctx.Index();
    ClaimSet claims(index, ctx.Claim(index, gained, id), id);
    Result<Record> written = ctx.Write(spec, id, data, false, current->etag);
    if (written.ok()) {
      if (std::optional<std::string> taken = claims.Confirm()) {
        // Stalled past the claim lease and the value went to another writer: put the record
        // back as it was (its own version, its own ETag guard) and report the conflict.
        std::shared_ptr<const core::ResourceState> old_state;
        const core::VersionSpec& old_spec = ctx.SpecOf(current->schema_version, &old_state);
        Result<Record> restored = ctx.Write(old_spec, id, current->data, false, written->etag);
        throw Conflict("record '" + id + "' of resource '" + name_ + "': unique field '" + *taken +
                           "' was claimed by another writer while this update stalled; " +
                           (restored.ok() ? "the update was undone"
                                          : "undoing it failed: " + restored.status().message()),
                       name_, id);
      }
      claims.Keep();
      for (const auto& [path, value] : lost) index.Release(path, value, id);
      // Only the references whose key changed: the new ones, then the old ones go (never a
      // listing of the partition).
      const auto before_keys = ctx.ReferenceKeys(spec, current->data, id);
      const auto after_keys = ctx.ReferenceKeys(spec, written->data, id);
      core::ReferenceChange change{id, {}, {}, true};
      for (const auto& [partition, key] : after_keys) {
        auto old = before_keys.find(partition);
        if (old == before_keys.end() || old->second != key) change.put.push_back(key);
      }
      for (const auto& [partition, key] : before_keys) {
        auto now = after_keys.find(partition);
        if (now == after_keys.end() || now->second != key) change.remove.push_back(key);
      }
      ctx.PublishReferences(spec, std::move(change), "updated");
      return std::move(written).value();
    }
    claims.Release();
    if (written.code() != ErrorCode::kPreconditionFailed && written.code() != ErrorCode::kConflict &&
        written.code() != ErrorCode::kNotFound) {
      ctx.Fail(written.status(), id, "updating");
    }
    if (options.if_match) {
      throw PreconditionFailed("record '" + id + "' of resource '" + name_ + "' changed while it was updated",
                               name_, id);
    }
    util::SleepWithFullJitter(attempt, 2, 7);  // another writer won: re-read and re-apply (2 .. 256 ms)
  }
  throw Conflict("record '" + id + "' of resource '" + name_ + "' kept changing: " + std::to_string(attempts) +
                     " update attempts lost to concurrent writers",
                 name_, id);
}

Record Resource::Upsert(const std::string& id, const Json& data) {
  return Guarded("upsert", id, [&] {
    Ctx ctx{core_, name_, references_.get()};
    if (!data.is_object()) throw InvalidArgument("resource '" + name_ + "': a record must be a JSON object", name_, id);
    ctx.Key(id);
    const int attempts = core_->settings().max_update_attempts;
    for (int attempt = 0; attempt < attempts; ++attempt) {
      if (!Exists(id)) {
        Json with_id = data;
        with_id["id"] = id;
        try {
          return Insert(with_id);
        } catch (const AlreadyExists&) {
          if (!Exists(id)) throw;  // a unique value is taken, not the id
          continue;                // created meanwhile: update it instead
        }
      }
      try {
        return Update(id, data);
      } catch (const NotFound&) {
        continue;  // deleted meanwhile: insert it instead
      }
    }
    throw Conflict("record '" + id + "' of resource '" + name_ + "' kept appearing and disappearing during upsert",
                   name_, id);
  });
}

void Resource::Delete(const std::string& id) {
  Guarded("delete", id, [&] {
    hooks_.RunPreDelete(id);
    DoDelete(id);
    InvalidateCached(id);
    hooks_.RunAfterDelete(id, hook_relay_);
    EmitEvent(events::kDelete, [&] { return Json{{"resource", name_}, {"id", id}}; });
  });
}

void Resource::DoDelete(const std::string& id) {
  Ctx ctx{core_, name_, references_.get()};
  auto state = ctx.State();
  const core::VersionSpec& spec = state->current();
  if (spec.schema.UniqueFields().empty() && spec.partitions.empty()) {
    if (!Exists(id)) throw NotFound("record '" + id + "' of resource '" + name_ + "' not found", name_, id);
    Status deleted = core_->store().Delete(ctx.Key(id));
    if (!deleted.ok()) ctx.Fail(deleted, id, "deleting");
    return;
  }
  // A GET instead of the HEAD: the record's unique values are freed once it is gone, and its
  // partition references removed before.
  Result<GetResult> got = core_->store().Get(ctx.Key(id));
  if (got.code() == ErrorCode::kNotFound) {
    throw NotFound("record '" + id + "' of resource '" + name_ + "' not found", name_, id);
  }
  if (!got.ok()) ctx.Fail(got.status(), id, "reading");
  core::DecodeOptions options;
  options.skip_secrets = true;  // no passphrase needed to delete
  const Record record = ctx.Decode(id, *got, options);
  const std::vector<std::string> references = KeysOf(ctx.ReferenceKeys(spec, record.data, id));
  if (!references.empty() && !spec.definition.async_partitions) {
    // Before the record, so no reference ever points at nothing; nothing can bring these
    // keys back meanwhile (an insert of this id fails while the record exists).
    const core::ReferenceOutcome outcome =
        core::ApplyReferenceChange(ctx.Io(core_->settings().concurrency), {id, {}, references, false});
    if (!outcome.failures.empty()) {
      const PartitionFailure& first = outcome.failures.front();
      const ErrorCode code = first.code == ErrorCode::kNotFound ? ErrorCode::kIOError : first.code;
      ThrowError(code,
                 "record '" + id + "' of resource '" + name_ + "' was not deleted: removing its partition reference " +
                     first.key + " failed: " + first.message + " (delete it again, or run repair)",
                 name_, id);
    }
  }
  Status deleted = core_->store().Delete(ctx.Key(id));
  if (!deleted.ok()) ctx.Fail(deleted, id, "deleting");
  if (!references.empty() && spec.definition.async_partitions) {
    // In the background the references go after the record; the restore step keeps those a
    // new record of the same id needs.
    references_->Push({id, {}, references, true});
  }
  core::UniqueIndex index = ctx.Index();
  for (const auto& [path, value] : Ctx::UniqueValues(spec, record.data)) index.Release(path, value, id);
}

ReEncryptResult Resource::ReEncrypt() {
  Ctx ctx{core_, name_, references_.get()};
  auto state = ctx.State();
  ReEncryptResult out;
  out.resource = name_;
  if (!core::EntryHasSecrets(*state)) return out;  // no version ever had a secret field
  core_->RequireKeys(name_);
  const std::vector<std::string> ids = ctx.ListIds(0, std::nullopt);
  std::vector<char> outcome(ids.size(), 0);  // 1 rewritten
  std::vector<std::optional<BulkItemError>> errors(ids.size());
  const int attempts = core_->settings().max_update_attempts;
  util::ParallelFor(ids.size(), core_->settings().concurrency, [&](size_t i) {
    const std::string& id = ids[i];
    try {
      for (int attempt = 0;; ++attempt) {
        Result<GetResult> got = core_->store().Get(ctx.Key(id));
        if (got.code() == ErrorCode::kNotFound) return;  // deleted meanwhile
        if (!got.ok()) ctx.Fail(got.status(), id, "reading");
        std::set<uint64_t> key_ids;
        core::DecodeOptions options;
        options.sealed_key_ids = &key_ids;
        Record record = ctx.Decode(id, *got, options);
        const uint64_t current = core_->Keys().current_id();
        bool stale = false;
        for (uint64_t k : key_ids) stale |= k != current;
        if (!stale) return;
        // Rewritten under the version that wrote it: the data does not change, only the key.
        std::shared_ptr<const core::ResourceState> holder;
        const core::VersionSpec& spec = ctx.SpecOf(record.schema_version, &holder);
        Result<Record> written = ctx.Write(spec, id, record.data, false, record.etag);
        if (written.ok()) {
          outcome[i] = 1;
          InvalidateCached(id);
          return;
        }
        if (written.code() == ErrorCode::kNotFound) return;
        if (written.code() != ErrorCode::kPreconditionFailed && written.code() != ErrorCode::kConflict) {
          ctx.Fail(written.status(), id, "re-encrypting");
        }
        if (attempt + 1 >= attempts) {
          throw Conflict("record '" + id + "' of resource '" + name_ + "' kept changing while it was re-encrypted",
                         name_, id);
        }
        util::SleepWithFullJitter(attempt, 2, 7);
      }
    } catch (const std::exception& e) {
      errors[i] = core::ItemError(i, id, e);
    }
  });
  out.records = ids.size();
  for (size_t i = 0; i < ids.size(); ++i) {
    if (outcome[i] == 1) ++out.rewritten;
    if (errors[i]) out.errors.push_back(std::move(*errors[i]));
  }
  return out;
}

Json Resource::ExportSchema() const {
  auto state = Ctx{core_, name_, references_.get()}.State();
  const core::VersionSpec& spec = state->current();
  Json out = spec.definition.Export();
  out["version"] = spec.version;
  Json fields = Json::object();
  for (const auto& f : spec.fields) fields[f.path] = f.key;
  out["fields"] = std::move(fields);
  return out;
}

InsertManyResult Resource::InsertMany(const std::vector<Json>& items) {
  std::vector<std::optional<Record>> slots(items.size());
  std::vector<std::optional<BulkItemError>> errors(items.size());
  util::ParallelFor(items.size(), core_->settings().concurrency, [&](size_t i) {
    try {
      slots[i] = Insert(items[i]);
    } catch (const std::exception& e) {
      errors[i] = core::ItemError(i, core::GivenId(items[i]), e);
    }
  });
  InsertManyResult out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (slots[i]) out.inserted.push_back(std::move(*slots[i]));
    if (errors[i]) out.errors.push_back(std::move(*errors[i]));
  }
  return out;
}

GetManyResult Resource::GetMany(const std::vector<std::string>& ids) {
  Ctx ctx{core_, name_, references_.get()};
  ctx.State();
  std::vector<std::optional<Record>> slots(ids.size());
  std::vector<std::optional<BulkItemError>> errors(ids.size());
  std::vector<char> missing(ids.size(), 0);
  util::ParallelFor(ids.size(), core_->settings().concurrency, [&](size_t i) {
    try {
      slots[i] = ctx.TryGet(ids[i], /*cached=*/true);
      missing[i] = !slots[i].has_value();
      if (slots[i]) {
        EmitEvent(events::kGet, [&] { return Json{{"resource", name_}, {"id", ids[i]}, {"record", RecordPayload(*slots[i])}}; });
      }
    } catch (const Error& e) {
      errors[i] = core::ItemError(i, ids[i], e);
    }
  });
  GetManyResult out;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (slots[i]) out.records.push_back(std::move(*slots[i]));
    if (missing[i]) out.missing.push_back(ids[i]);
    if (errors[i]) out.errors.push_back(std::move(*errors[i]));
  }
  return out;
}

DeleteRecordsResult Resource::DeleteMany(const std::vector<std::string>& ids) {
  std::vector<char> outcome(ids.size(), 0);  // 1 deleted, 2 missing
  std::vector<std::optional<BulkItemError>> errors(ids.size());
  util::ParallelFor(ids.size(), core_->settings().concurrency, [&](size_t i) {
    try {
      Delete(ids[i]);
      outcome[i] = 1;
    } catch (const NotFound&) {
      outcome[i] = 2;
    } catch (const Error& e) {
      errors[i] = core::ItemError(i, ids[i], e);
    }
  });
  DeleteRecordsResult out;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (outcome[i] == 1) out.deleted.push_back(ids[i]);
    if (outcome[i] == 2) out.missing.push_back(ids[i]);
    if (errors[i]) out.errors.push_back(std::move(*errors[i]));
  }
  return out;
}

std::vector<Record> Resource::GetAll() {
  return Guarded("getAll", "", [&] {
    Ctx ctx{core_, name_, references_.get()};
    ctx.State();
    return ctx.ReadAll(ListIds(), /*cached=*/true);
  });
}

size_t Resource::DeleteAll() {
  // Whatever happens, this process's cached reads of the resource are dropped.
  struct Drop {
    Resource* self;
    ~Drop() {
      if (ReadCache* cache = self->core_->cache()) cache->InvalidatePrefix(ReadCache::ResourcePrefix(self->name_));
    }
  } drop{this};
  // Works from the listing alone, so it also clears what a dropped resource left behind.
  // Background reference writes finish first, so none lands after the last page.
  references_->WaitIdle();
  Ctx ctx{core_, name_, references_.get()};
  ListRequest request;
  request.prefix = core_->layout().ResourcePrefix(name_);
  size_t records = 0;
  // Keys a DeleteObjects call refused: the rest are still deleted, then the call fails
  // naming them (run it again to retry them).
  std::vector<std::pair<std::string, Status>> failed;
  while (true) {
    // A fresh listing after the last key seen, not a continuation: those keys are gone.
    Result<ListPage> page = core_->store().List(request);
    if (!page.ok()) ctx.Fail(page.status(), "", "listing");
    if (page->objects.empty()) break;
    std::vector<std::string> keys;
    for (const auto& o : page->objects) keys.push_back(o.key);
    request.start_after = keys.back();
    Result<DeleteManyResult> deleted = core_->store().DeleteMany(keys);
    if (!deleted.ok()) ctx.Fail(deleted.status(), "", "deleting the records of");
    for (const auto& key : deleted->deleted) {
      if (core_->layout().IdFromRecordKey(name_, key)) ++records;
    }
    failed.insert(failed.end(), deleted->errors.begin(), deleted->errors.end());
  }
  if (failed.empty()) return records;
  const auto& [key, status] = failed.front();
  ThrowError(status.code(),
             "deleting every record of resource '" + name_ + "': " + std::to_string(failed.size()) +
                 " objects could not be deleted, the first " + key + ": " + status.message() + "; " +
                 std::to_string(records) + " records were (run it again for the rest)",
             name_);
}

std::vector<std::string> Resource::ListIds(const ListOptions& options) {
  return Guarded("listIds", "", [&] {
    ReadCache* cache = core_->cache();
    if (!cache || !cache->caches_queries()) return DoListIds(options);
    const Json params{{"offset", options.offset},
                      {"limit", options.limit ? Json(*options.limit) : Json()},
                      {"partition", options.partition},
                      {"values", options.partition_values},
                      {"verify", options.verify}};
    const Json ids = cache->GetJson(ReadCache::QueryKey(name_, "ids", params), [&] { return Json(DoListIds(options)); });
    return ids.get<std::vector<std::string>>();
  });
}

std::vector<std::string> Resource::DoListIds(const ListOptions& options) {
  Ctx ctx{core_, name_, references_.get()};
  auto state = ctx.State();
  if (auto target = ctx.Target(state->current(), options.partition, options.partition_values)) {
    if (!options.verify) return ctx.ListReferencedIds(*target, options.offset, options.limit);
    return ctx.ScanPartition(*target, options.offset, options.limit, /*keep_records=*/false, /*count_all=*/false).ids;
  }
  return ctx.ListIds(options.offset, options.limit);
}

size_t Resource::Count(const ListOptions& options) { return ListIds(options).size(); }

std::vector<Record> Resource::List(const ListOptions& options) {
  return Guarded("list", "", [&] {
    Ctx ctx{core_, name_, references_.get()};
    auto state = ctx.State();
    if (auto target = ctx.Target(state->current(), options.partition, options.partition_values)) {
      ctx.RequireKeysFor(*state);
      return ctx.ScanPartition(*target, options.offset, options.limit, /*keep_records=*/true, /*count_all=*/false)
          .records;
    }
    return ctx.ReadAll(ListIds(options), /*cached=*/true);
  });
}

PageResult Resource::Page(const PageOptions& options) {
  Ctx ctx{core_, name_, references_.get()};
  if (options.size < 1 || options.size > 1000) {
    throw InvalidArgument("resource '" + name_ + "': page size must be 1..1000, got " + std::to_string(options.size),
                          name_);
  }
  auto state = ctx.State();
  PageResult out;
  out.page = options.offset / options.size;
  out.page_size = options.size;
  if (auto target = ctx.Target(state->current(), options.partition, options.partition_values)) {
    ctx.RequireKeysFor(*state);
    // Counting a partition verifies every reference in it, so it costs a GET per reference.
    Ctx::ScanResult scan = ctx.ScanPartition(*target, options.offset, options.size, true, !options.skip_count);
    if (!options.skip_count) {
      out.total_items = scan.matched;
      out.total_pages = (scan.matched + options.size - 1) / options.size;
    }
    out.items = std::move(scan.records);
    return out;
  }
  std::vector<std::string> ids;
  if (options.skip_count) {
    ids = ctx.ListIds(options.offset, options.size);
  } else {
    std::vector<std::string> all = ctx.ListIds(0, std::nullopt);  // one listing gives both
    out.total_items = all.size();
    out.total_pages = (all.size() + options.size - 1) / options.size;
    for (size_t i = options.offset; i < all.size() && ids.size() < options.size; ++i) ids.push_back(all[i]);
  }
  out.items = ctx.ReadAll(ids, /*cached=*/true);
  return out;
}

std::vector<Record> Resource::Query(const Json& filter, const ListOptions& options) {
  Ctx ctx{core_, name_, references_.get()};
  if (!filter.is_object()) throw InvalidArgument("resource '" + name_ + "': a query filter must be a JSON object", name_);
  auto state = ctx.State();
  const core::VersionSpec& spec = state->current();
  std::optional<Ctx::PartitionTarget> target = ctx.Target(spec, options.partition, options.partition_values);
  if (!target) {
    // A partition whose every field the filter pins narrows the read to its references. Only
    // strings and booleans: their key text is one-to-one with the JSON value, where 1 and 1.0
    // are equal as JSON but not as text.
    size_t best = 0;
    for (const auto& p : spec.partitions) {
      Json values = Json::object();
      for (const auto& f : p.fields) {
        const auto it = filter.find(f.path);
        if (it == filter.end() || !(it->is_string() || it->is_boolean())) break;
        values[f.path] = *it;
      }
      if (values.size() != p.fields.size() || p.fields.size() <= best) continue;
      best = p.fields.size();
      target = Ctx::PartitionTarget{&p, core::ValueSegments(name_, p, values, /*require_all=*/true)};
    }
  }
  if (target) {
    ctx.RequireKeysFor(*state);
    return ctx.ScanPartition(*target, options.offset, options.limit, true, false, &filter).records;
  }
  std::vector<std::string> ids = ctx.ListIds(0, std::nullopt);
  std::vector<Record> out;
  size_t skipped = 0;
  const size_t batch = static_cast<size_t>(core_->settings().concurrency) * 4;
  for (size_t start = 0; start < ids.size(); start += batch) {
    std::vector<std::string> chunk(ids.begin() + static_cast<std::ptrdiff_t>(start),
                                   ids.begin() + static_cast<std::ptrdiff_t>(std::min(ids.size(), start + batch)));
    for (auto& record : ctx.ReadAll(chunk, /*cached=*/true)) {
      if (!MatchesFilter(record, filter)) continue;
      if (skipped < options.offset) {
        ++skipped;
        continue;
      }
      out.push_back(std::move(record));
      if (options.limit && out.size() >= *options.limit) return out;
    }
  }
  return out;
}

std::vector<Record> Resource::ListByPartition(const std::string& partition, const Json& values,
                                              const ListOptions& options) {
  if (partition.empty()) throw InvalidArgument("resource '" + name_ + "': ListByPartition needs a partition", name_);
  ListOptions through = options;
  through.partition = partition;
  through.partition_values = values;
  return List(through);
}

Record Resource::GetFromPartition(const std::string& id, const std::string& partition, const Json& values) {
  Ctx ctx{core_, name_, references_.get()};
  auto state = ctx.State();
  const core::PartitionSpec& p = ctx.PartitionOf(state->current(), partition);
  const format::PartitionSegments segments = core::ValueSegments(name_, p, values, /*require_all=*/true);
  const std::string key = core_->layout().PartitionKey(name_, p.name, segments, id);
  // The record's data decides, not the reference: a record whose reference a crash left
  // unwritten is still found, and a stale reference never returns a record that moved.
  std::optional<Record> record = ctx.TryGet(id);
  const auto now = record ? core::RecordSegments(p, record->data) : std::nullopt;
  if (!now || core_->layout().PartitionKey(name_, p.name, *now, id) != key) {
    throw NotFound("record '" + id + "' of resource '" + name_ + "' " +
                       (record ? "is not in partition '" + partition + "' with " + values.dump() : "not found"),
                   name_, id);
  }
  return std::move(*record);
}

std::optional<std::string> Resource::GetPartitionKey(const std::string& partition, const std::string& id,
                                                     const Json& data) const {
  Ctx ctx{core_, name_, references_.get()};
  ctx.CheckId(id);
  auto state = ctx.State();
  const core::PartitionSpec& p = ctx.PartitionOf(state->current(), partition);
  const auto segments = core::RecordSegments(p, data);
  if (!segments) return std::nullopt;
  return core_->layout().PartitionKey(name_, p.name, *segments, id);
}

PartitionFlushResult Resource::FlushPartitions() { return references_->Flush(); }

PartitionRepairResult Resource::RepairPartitions(const PartitionRepairOptions& options) {
  // References change: cached listings through partitions are dropped, whatever happens.
  struct Drop {
    Resource* self;
    ~Drop() { self->InvalidateQueries(); }
  } drop{this};
  Ctx ctx{core_, name_, references_.get()};
  auto state = ctx.State();
  const core::VersionSpec& spec = state->current();
  references_->WaitIdle();  // this process's own background writes are not "missing"
  PartitionRepairResult out;
  out.resource = name_;
  out.dry_run = options.dry_run;
  const int concurrency = core_->settings().concurrency;

  // 1. Every record, and the references its data needs.
  const std::vector<std::string> ids = ctx.ListIds(0, std::nullopt);
  std::vector<std::optional<std::map<std::string, std::string>>> needs(ids.size());
  std::vector<std::exception_ptr> errors(ids.size());
  util::ParallelFor(ids.size(), concurrency, [&](size_t i) {
    try {
      Result<GetResult> got = core_->store().Get(ctx.Key(ids[i]));
      if (got.code() == ErrorCode::kNotFound) return;  // deleted meanwhile
      if (!got.ok()) ctx.Fail(got.status(), ids[i], "reading");
      core::DecodeOptions decode;
      decode.skip_secrets = true;  // no partition field is secret: no passphrase needed
      needs[i] = ctx.ReferenceKeys(spec, ctx.Decode(ids[i], *got, decode).data, ids[i]);
    } catch (...) {
      errors[i] = std::current_exception();
    }
  });
  for (auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
  std::map<std::string, std::string> expected;  // key -> id
  std::set<std::string> records;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (!needs[i]) continue;
    records.insert(ids[i]);
    for (const auto& [partition, key] : *needs[i]) {
      if (key.size() > format::kMaxKeyBytes) {
        // Written before the partition existed; no reference can hold it.
        out.failures.push_back({ids[i], partition, key, "put", ErrorCode::kInvalidArgument,
                                "the reference key would be " + std::to_string(key.size()) +
                                    " bytes; give the partition field a maxlength"});
        continue;
      }
      expected.emplace(key, ids[i]);
    }
  }
  out.records = records.size();

  // 2. Every reference object, of every partition name ever used.
  std::set<std::string> present;
  std::vector<PartitionRepairExample> orphans;
  ListRequest request;
  request.prefix = core_->layout().PartitionsRoot(name_);
  while (true) {
    Result<ListPage> page = core_->store().List(request);
    if (!page.ok()) ctx.Fail(page.status(), "", "listing the partition references of");
    for (const auto& object : page->objects) {
      ++out.references;
      if (expected.count(object.key)) {
        present.insert(object.key);
        continue;
      }
      PartitionRepairExample orphan;
      orphan.key = object.key;
      const auto parts = core_->layout().ParsePartitionKey(name_, object.key);
      if (!parts) {
        orphan.reason = "not a partition reference key";
      } else {
        orphan.id = parts->id;
        orphan.partition = parts->partition;
        if (!core::FindPartition(spec.partitions, parts->partition)) {
          orphan.reason = "partition '" + parts->partition + "' is not defined";
        } else if (!records.count(parts->id)) {
          orphan.reason = "record does not exist";
        } else {
          orphan.reason = "record no longer belongs here";
        }
      }
      orphans.push_back(std::move(orphan));
    }
    if (!page->truncated) break;
    request.continuation_token = page->next_continuation_token;
  }
  std::vector<PartitionRepairExample> missing;
  for (const auto& [key, id] : expected) {
    if (present.count(key)) continue;
    auto parts = core_->layout().ParsePartitionKey(name_, key);
    missing.push_back({key, id, parts ? parts->partition : "", "record needs it"});
  }
  out.orphans = orphans.size();
  out.missing = missing.size();
  for (size_t i = 0; i < orphans.size() && i < options.max_examples; ++i) out.orphan_examples.push_back(orphans[i]);
  for (size_t i = 0; i < missing.size() && i < options.max_examples; ++i) out.missing_examples.push_back(missing[i]);
  if (options.dry_run) return out;

  // 3. Rebuild the missing, then remove the orphans; a removal re-reads its record and writes
  // back what a concurrent write made it need.
  std::map<std::string, core::ReferenceChange> by_id;
  for (const auto& m : missing) {
    auto& change = by_id.try_emplace(m.id, core::ReferenceChange{m.id, {}, {}, true}).first->second;
    change.put.push_back(m.key);
  }
  for (const auto& o : orphans) {
    auto& change = by_id.try_emplace(o.id, core::ReferenceChange{o.id, {}, {}, !o.id.empty()}).first->second;
    change.remove.push_back(o.key);
  }
  std::vector<core::ReferenceChange> changes;
  for (auto& [id, change] : by_id) changes.push_back(std::move(change));
  std::vector<core::ReferenceOutcome> outcomes(changes.size());
  const core::ReferenceIo io = ctx.Io(1);  // the parallelism is across records
  util::ParallelFor(changes.size(), concurrency, [&](size_t i) { outcomes[i] = core::ApplyReferenceChange(io, changes[i]); });
  for (auto& outcome : outcomes) {
    out.rebuilt += outcome.written;
    out.removed += outcome.removed;
    out.restored += outcome.restored;
    for (auto& f : outcome.failures) out.failures.push_back(std::move(f));
  }
  return out;
}

// ---- streaming ----------------------------------------------------------------------------------

RecordScan Resource::Scan(const ScanOptions& options) {
  return Guarded("scan", "", [&] {
    Ctx ctx{core_, name_, references_.get()};
    auto state = ctx.State();  // kept alive by the source: `target` points into it
    const std::optional<Ctx::PartitionTarget> target =
        ctx.Target(state->current(), options.partition, options.partition_values);
    ctx.RequireKeysFor(*state);
    // Keys are listed a page at a time in key order, not by the parallel key-range lister
    // (ListIds), which holds every key in memory. That costs no speed: a LIST of 1000 keys is
    // made while the GETs of the page before run, so it never bounds a scan.
    ListRequest request;
    request.prefix = target ? core_->layout().PartitionValuesPrefix(name_, target->partition->name, target->segments)
                            : core_->layout().RecordPrefix(name_);
    core::ScanSource source;
    source.page_size = static_cast<size_t>(request.max_keys);
    source.next_page = [core = core_, name = name_, target, state, request,
                        more = true]() mutable -> std::optional<std::vector<core::ScanCandidate>> {
      if (!more) return std::nullopt;
      Ctx ctx{core, name, nullptr};
      Result<ListPage> page = core->store().List(request);
      if (!page.ok()) {
        ctx.Fail(page.status(), "", target ? "listing partition '" + target->partition->name + "' of" : "listing");
      }
      std::vector<core::ScanCandidate> candidates;
      for (const auto& object : page->objects) {
        if (target) {
          if (auto parts = core->layout().ParsePartitionKey(name, object.key)) {
            candidates.push_back({std::move(parts->id), object.key});
          }
        } else if (auto id = core->layout().IdFromRecordKey(name, object.key)) {
          candidates.push_back({std::move(*id), object.key});
        }
      }
      more = page->truncated;
      request.continuation_token = page->next_continuation_token;
      return candidates;
    };
    // The store, not the cache: a scan over everything must not evict a cache's working set.
    // Through a partition, reading the record is the check that it still belongs there.
    source.read = [core = core_, name = name_, target, state](const core::ScanCandidate& c) -> std::optional<Record> {
      Ctx ctx{core, name, nullptr};
      if (target) return ctx.Verify(*target->partition, c.key, c.id, /*full=*/true, nullptr);
      return ctx.TryGet(c.id, /*cached=*/false);
    };
    const int concurrency = std::max(1, core_->settings().concurrency);
    const size_t prefetch = options.prefetch ? options.prefetch : 4 * static_cast<size_t>(concurrency);
    return RecordScan(std::make_unique<RecordScan::Impl>(std::move(source), prefetch, concurrency, options.on_error));
  });
}

}  // namespace s3db

#include "resource/record_access.h"

#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "exec/parallel_lister.h"
#include "format/key_layout.h"
#include "resource/bulk_item_error.h"
#include "schema/rule_messages.h"
#include "util/parallel.h"
#include "util/time_format.h"

namespace s3db::core {
namespace {

// The failures of reading ids[i] in parallel: each reported to `on_error` when given, in order
// (the records read are kept), else the first is thrown.
template <typename IdAt>
void ReportOrThrow(const std::vector<std::exception_ptr>& failures, const IdAt& id_at,
                   const std::function<void(const BulkItemError&)>* on_error, size_t first_index) {
  for (size_t i = 0; i < failures.size(); ++i) {
    if (!failures[i]) continue;
    if (on_error == nullptr || !*on_error) std::rethrow_exception(failures[i]);
    try {
      std::rethrow_exception(failures[i]);
    } catch (const std::exception& e) {
      (*on_error)(ItemError(first_index + i, id_at(i), e));
    }
  }
}

}  // namespace

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

std::shared_ptr<const ResourceState> RecordAccess::State() const {
  auto state = context->State(name, /*refresh_on_miss=*/true);
  if (!state) throw NotFound("resource '" + name + "' does not exist", name);
  return state;
}

void RecordAccess::CheckId(const std::string& id) const {
  Status ok = format::ValidateId(id);
  if (!ok.ok()) throw InvalidArgument("resource '" + name + "': " + ok.message(), name, id);
}

std::string RecordAccess::Key(const std::string& id) const {
  CheckId(id);
  return context->layout().RecordKey(name, id);
}

[[noreturn]] void RecordAccess::Fail(const Status& status, const std::string& id, const std::string& doing) const {
  std::string subject = id.empty() ? "resource '" + name + "'" : "record '" + id + "' of resource '" + name + "'";
  if (status.code() == ErrorCode::kNotFound) throw NotFound(subject + " does not exist", name, id);
  ThrowError(status.code(), doing + " " + subject + ": " + status.message(), name, id);
}

void RecordAccess::Validate(const VersionSpec& spec, Json& data, const std::string& id,
                            std::vector<FieldError> errors) const {
  std::vector<FieldError> more = ValidateRecord(spec.schema, data);
  errors.insert(errors.end(), more.begin(), more.end());
  if (!errors.empty()) {
    std::string subject = id.empty() ? "a new record" : "record '" + id + "'";
    // The message first: the vector is moved into the exception's by-value parameter, which
    // may be built before the message is.
    const std::string message = "resource '" + name + "': " + subject + " is invalid: " + ValidationSummary(errors);
    throw ValidationError(message, std::move(errors), name, id);
  }
}

std::map<std::string, std::string> RecordAccess::PrepareInsert(const VersionSpec& spec, Json& data, std::string* id,
                                                               bool* generated, bool keep_timestamps) const {
  *generated = true;
  std::vector<FieldError> id_errors;
  if (auto it = data.find("id"); it != data.end()) {
    if (spec.schema.id) {
      // The schema declares the id: it is checked with the fields, and a number it allows
      // becomes its text (the id lives in the object key).
      *id = ValidateIdValue(spec.schema, *it, &id_errors).value_or("");
    } else if (!it->is_string()) {
      // The value shortened: an id given as a 100 MB array must not come back whole in the message.
      throw InvalidArgument(
          "resource '" + name + "': the id must be a string, got " + rules::KindOf(*it) + ", " + rules::Shorten(*it),
          name);
    } else {
      *id = it->get<std::string>();
    }
    *generated = false;
    data.erase("id");
  } else {
    *id = format::NewId();
  }
  if (id_errors.empty()) CheckId(*id);  // before any work
  if (spec.definition.timestamps) {
    const std::string now = util::FormatIso8601Ms(util::NowMs());
    for (const char* field : {"createdAt", "updatedAt"}) {
      auto given = data.find(field);
      // A kept one must be what we would have written: canonical ISO 8601 with milliseconds.
      if (keep_timestamps && given != data.end()) {
        if (!given->is_string() || !util::IsCanonicalIso8601Ms(given->get<std::string>())) {
          throw ValidationError("resource '" + name + "': " + field + " must be ISO 8601 text (" + now + ")",
                                {FieldError{field, "timestamp", "ISO 8601 text such as " + now, rules::KindOf(*given),
                                            std::string(field) + " is not an ISO 8601 time"}},
                                name, *id);
        }
        continue;
      }
      data[field] = now;
    }
  }
  Validate(spec, data, *generated ? "" : *id, std::move(id_errors));
  // A redrawn id has the same length, so the check holds for it; its keys are made anew.
  return CheckReferenceKeys(spec, data, *id, *generated);
}

void RecordAccess::RequireKeysFor(const ResourceState& state) const {
  if (EntryHasSecrets(state)) context->RequireKeys(name);
}

const VersionSpec& RecordAccess::SpecOf(int version, std::shared_ptr<const ResourceState>* holder) const {
  *holder = context->StateWithVersion(name, version);
  return *(*holder)->versions.at(version);
}

Record RecordAccess::Decode(const std::string& id, const GetResult& got, DecodeOptions options,
                            std::shared_ptr<const ResourceState> state) const {
  return Decode(id, got.info, got.body, options, std::move(state));
}

Record RecordAccess::Decode(const std::string& id, const ObjectInfo& info, const std::string& body,
                            DecodeOptions options, std::shared_ptr<const ResourceState> state) const {
  const int version = RecordVersion(info.metadata, name, id);
  const VersionSpec* known = state ? KnownSpec(*state, version) : nullptr;
  const VersionSpec& spec = known ? *known : SpecOf(version, &state);
  try {
    return DecodeAs(id, info, body, version, spec, options);
  } catch (const Corruption&) {
    // A key this process has not seen (another process rotated): re-read the catalog once,
    // and decode again only if it brought new keys.
    const uint64_t before = context->CryptoGeneration();
    context->LoadCatalog();
    if (context->CryptoGeneration() == before) throw;
    return DecodeAs(id, info, body, version, spec, options);
  }
}

std::optional<Record> RecordAccess::DecodeInPlace(const std::string& id, const ObjectInfo& info,
                                                  const std::string& body, const ResourceState& state) const {
  try {
    const int version = RecordVersion(info.metadata, name, id);
    const VersionSpec* spec = KnownSpec(state, version);
    if (!spec) return std::nullopt;
    return DecodeAs(id, info, body, version, *spec, {});
  } catch (...) {
    return std::nullopt;  // decoded again from a copy, where the error is reported
  }
}

const VersionSpec* RecordAccess::KnownSpec(const ResourceState& state, int version) {
  auto it = state.versions.find(version);
  return it == state.versions.end() ? nullptr : it->second.get();
}

Record RecordAccess::DecodeAs(const std::string& id, const ObjectInfo& info, const std::string& body, int version,
                              const VersionSpec& spec, DecodeOptions options) const {
  Record r;
  r.id = id;
  if (!options.truncated_paths) options.truncated_paths = &r.truncated;
  r.data = DecodeRecord(info.metadata, body, spec, name, id, &context->Keys(), options);
  r.etag = info.etag;
  r.last_modified_ms = info.last_modified_ms;
  r.schema_version = version;
  return r;
}

std::optional<Record> RecordAccess::TryGet(const std::string& id, bool cached) const {
  std::shared_ptr<const ResourceState> state = State();
  RequireKeysFor(*state);
  const std::string key = Key(id);
  ReadCache* cache = cached ? context->cache() : nullptr;
  if (!cache || !cache->caches_records()) {
    // Decoded where the store holds the object when it can (the memory store), instead of
    // copied out first: the copy was 8 of a get's 44 allocations.
    std::optional<Record> decoded;
    std::optional<GetResult> copy;  // only for a record that cannot be decoded in place
    Status read = context->store().Read(key, [&](const ObjectInfo& info, const std::string& body) {
      decoded = DecodeInPlace(id, info, body, *state);
      if (!decoded) copy = GetResult{info, body};
    });
    if (read.code() == ErrorCode::kNotFound) return std::nullopt;
    if (!read.ok()) Fail(read, id, "reading");
    if (decoded) return decoded;
    if (!copy) Fail(Status(ErrorCode::kInternal, "the store's Read succeeded without the object"), id, "reading");
    return Decode(id, *copy, {}, std::move(state));
  }
  Result<GetResult> got = cache->GetObject(ReadCache::RecordKey(name, id), [&] { return context->store().Get(key); });
  if (got.code() == ErrorCode::kNotFound) return std::nullopt;
  if (!got.ok()) Fail(got.status(), id, "reading");
  return Decode(id, *got, {}, std::move(state));
}

RecordAccess::PreparedWrite RecordAccess::PrepareWrite(const VersionSpec& spec, const std::string& id, const Json& data,
                                                       bool create_only, const std::string& if_match) const {
  // body-overflow keeps the partition fields (spec.partition_paths) in metadata.
  EncodedRecord encoded =
      EncodeRecord(data, spec, context->settings().metadata_budget, name, id, &context->Keys(), &spec.partition_paths);
  PreparedWrite out;
  out.put.key = Key(id);
  out.put.metadata = std::move(encoded.metadata);
  out.put.body = std::move(encoded.body);
  out.put.content_type = "application/json";
  out.put.if_none_match_star = create_only;
  if (!if_match.empty()) out.put.if_match = if_match;
  // truncate-data stored shorter values than it was given: return what was stored.
  if (!encoded.truncated_paths.empty()) {
    out.stored = DecodeRecord(out.put.metadata, out.put.body, spec, name, id, &context->Keys());
  }
  out.truncated_paths = std::move(encoded.truncated_paths);
  if (encoded.exceeded() && spec.behavior == Behavior::kUserManaged) {
    out.exceeded = Json{{"totalSize", encoded.full_bytes},
                        {"limit", encoded.budget},
                        {"excess", encoded.full_bytes - encoded.budget},
                        {"bodyFields", encoded.body_paths}};
  }
  return out;
}

Record RecordAccess::FinishWrite(const VersionSpec& spec, const std::string& id, Json& data, PreparedWrite& prepared,
                                 const ObjectInfo& written, const char* operation) const {
  if (prepared.exceeded) {
    context->ResourceObject(name).EmitEvent(Resource::kExceedsLimitEvent, [&] {
      Json event{{"resource", name}, {"id", id}, {"operation", operation}, {"behavior", "user-managed"}};
      event.update(*prepared.exceeded);
      return event;
    });
  }
  Record r;
  r.id = id;
  r.data = prepared.stored ? std::move(*prepared.stored) : std::move(data);
  r.etag = written.etag;
  r.last_modified_ms = written.last_modified_ms ? written.last_modified_ms : util::NowMs();
  r.schema_version = spec.version;
  r.truncated = std::move(prepared.truncated_paths);
  return r;
}

Result<Record> RecordAccess::Write(const VersionSpec& spec, const std::string& id, Json& data, bool create_only,
                                   const std::string& if_match, const char* operation) const {
  PreparedWrite prepared = PrepareWrite(spec, id, data, create_only, if_match);
  Result<ObjectInfo> written = context->store().Put(prepared.put);
  if (!written.ok()) return written.status();
  return FinishWrite(spec, id, data, prepared, *written, operation);
}

UniqueIndex RecordAccess::Index() const {
  auto holder_value = [this](const std::string& holder, const std::string& path) -> std::optional<Json> {
    if (!format::ValidateId(holder).ok()) return std::nullopt;  // a damaged claim: stale
    Result<GetResult> got = context->store().Get(context->layout().RecordKey(name, holder));
    if (got.code() == ErrorCode::kNotFound) return std::nullopt;
    if (!got.ok()) Fail(got.status(), holder, "reading");
    DecodeOptions options;
    options.skip_secrets = true;  // unique fields are never secret
    Record r = Decode(holder, *got, options);
    const Json* v = FindPath(r.data, path);
    if (!v) return std::nullopt;
    return *v;
  };
  return UniqueIndex(context->store(), context->layout().ResourcePrefix(name), name, holder_value, util::NowMs);
}

std::vector<std::pair<std::string, Json>> RecordAccess::UniqueValues(const VersionSpec& spec, const Json& data) {
  std::vector<std::pair<std::string, Json>> out;
  for (const FieldRule* rule : spec.schema.UniqueFields()) {
    const Json* v = FindPath(data, rule->path);
    if (v && !v->is_null()) out.emplace_back(rule->path, *v);
  }
  return out;
}

std::vector<UniqueIndex::Claim> RecordAccess::Claim(UniqueIndex& index,
                                                    const std::vector<std::pair<std::string, Json>>& values,
                                                    const std::string& id) const {
  std::vector<UniqueIndex::Claim> claims;
  try {
    for (const auto& [path, value] : values) claims.push_back(index.Acquire(path, value, id));
  } catch (...) {
    for (const auto& c : claims) index.Release(c.path, c.value, id);
    throw;
  }
  return claims;
}

std::vector<std::string> RecordAccess::ListIds(size_t offset, std::optional<size_t> limit,
                                               const std::string& start_after) const {
  std::vector<ListedRecord> listed = ListRecords(offset, limit, /*etags=*/false, start_after);
  std::vector<std::string> ids;
  ids.reserve(listed.size());
  for (auto& r : listed) ids.push_back(std::move(r.id));
  return ids;
}

std::vector<RecordAccess::ListedRecord> RecordAccess::ListRecords(size_t offset, std::optional<size_t> limit,
                                                                  bool etags, const std::string& start_after) const {
  std::vector<ListedRecord> out;
  ListRequest request;
  request.prefix = context->layout().RecordPrefix(name);
  if (!start_after.empty()) request.start_after = Key(start_after);
  if (offset == 0 && !limit && start_after.empty() && context->settings().concurrency > 1) {
    // The whole listing: many ranges at once (exec/parallel_lister.h), same result.
    Result<std::vector<exec::ListedObject>> keys = exec::ListObjectsInParallel(
        context->store(), request.prefix, context->settings().concurrency, exec::kEncodedIdAlphabet, nullptr, etags);
    if (!keys.ok()) Fail(keys.status(), "", "listing");
    out.reserve(keys->size());
    for (auto& object : *keys) {
      if (auto id = context->layout().IdFromRecordKey(name, object.key)) {
        out.push_back({std::move(*id), std::move(object.etag)});
      }
    }
    return out;
  }
  size_t skipped = 0;
  while (true) {
    Result<ListPage> page = context->store().List(request);
    if (!page.ok()) Fail(page.status(), "", "listing");
    for (auto& object : page->objects) {
      auto id = context->layout().IdFromRecordKey(name, object.key);
      if (!id) continue;  // not a record key (nothing else should live here)
      if (skipped < offset) {
        ++skipped;
        continue;
      }
      if (limit && out.size() >= *limit) return out;
      out.push_back({std::move(*id), etags ? std::move(object.etag) : std::string()});
    }
    if (!page->truncated) return out;
    request.continuation_token = page->next_continuation_token;
  }
}

RecordAccess::ScanListing RecordAccess::ListForScan(size_t offset, std::optional<size_t> limit,
                                                    const std::string& start_after) const {
  ScanListing out;
  if (offset != 0 || limit || !start_after.empty()) {
    out.records = ListRecords(offset, limit, /*etags=*/true, start_after);
    out.snapshot = SnapshotFor(out.records.size());
    return out;
  }
  ListRequest request;
  request.prefix = context->layout().RecordPrefix(name);
  Result<ListPage> first = context->store().List(request);
  if (!first.ok()) Fail(first.status(), "", "listing");
  if (!first->truncated) {  // one page: the whole resource
    for (auto& object : first->objects) {
      if (auto id = context->layout().IdFromRecordKey(name, object.key)) {
        out.records.push_back({std::move(*id), std::move(object.etag)});
      }
    }
    out.snapshot = SnapshotFor(out.records.size());
    return out;
  }
  out.snapshot = SnapshotFor(kSnapshotMinRecords);
  if (!out.snapshot) {
    out.records = ListRecords(0, std::nullopt);
    return out;
  }
  Result<std::vector<ListedRecordKey>> keys = ListRecordKeysWithFences(
      context->store(), request.prefix, out.snapshot->manifest().fences, context->settings().concurrency);
  if (!keys.ok()) Fail(keys.status(), "", "listing");
  out.records.reserve(keys->size());
  for (auto& key : *keys) {
    if (auto id = context->layout().IdFromRecordKey(name, request.prefix + key.encoded_id)) {
      out.records.push_back({std::move(*id), std::move(key.etag)});
    }
  }
  return out;
}

std::shared_ptr<ScanSnapshot> RecordAccess::SnapshotFor(size_t listed, size_t max_resident) const {
  if (listed < kSnapshotMinRecords) return nullptr;
  // Listed ETags that are not body MD5s can never be matched against a snapshot's: never
  // trust one there (nor spend the manifest's LIST and GET on it).
  if (!context->store().capabilities().etag_is_body_md5) return nullptr;
  return ScanSnapshot::Open(context->store(), context->layout(), name, max_resident);
}

std::optional<RecordAccess::ObjectRead> RecordAccess::FromSnapshot(const ListedRecord& listed, ScanSnapshot& snapshot,
                                                                   const ResourceState& state) const {
  if (listed.etag.empty()) return std::nullopt;
  ObjectRead read;
  const bool held = snapshot.Visit(format::EncodeIdForKey(listed.id), listed.etag, [&](const SnapshotEntry& e) {
    read.record = DecodeInPlace(listed.id, e.info, e.body, state);
    if (!read.record) read.copy = GetResult{e.info, e.body};
  });
  if (!held) return std::nullopt;
  return read;
}

std::optional<Record> RecordAccess::ReadListed(const ListedRecord& listed, ScanSnapshot* snapshot, bool cached,
                                               const std::shared_ptr<const ResourceState>& state) const {
  if (snapshot) {
    if (std::optional<ObjectRead> read = FromSnapshot(listed, *snapshot, *state)) {
      if (read->record) return std::move(read->record);
      // Decoded from a copy, as TryGet does: it may re-read the catalog, and reports the error.
      return Decode(listed.id, *read->copy, {}, state);
    }
  }
  return TryGet(listed.id, cached);
}

std::map<std::string, std::string> RecordAccess::ReferenceKeys(const VersionSpec& spec, const Json& data,
                                                               const std::string& id) const {
  return core::ReferenceKeys(context->layout(), name, spec.partitions, data, id);
}

std::map<std::string, std::string> RecordAccess::CheckReferenceKeys(const VersionSpec& spec, const Json& data,
                                                                    const std::string& id, bool generated) const {
  std::vector<FieldError> errors;
  std::map<std::string, std::string> keys = ReferenceKeys(spec, data, id);
  for (const auto& [partition, key] : keys) {
    if (key.size() <= format::kMaxKeyBytes) continue;
    // Blame the field with the longest value text: that is what maxlength would cut.
    const PartitionSpec* p = FindPartition(spec.partitions, partition);
    const auto segments = RecordSegments(*p, data);
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
    const std::string message = "resource '" + name + "': " + subject + " is invalid: " + ValidationSummary(errors);
    throw ValidationError(message, std::move(errors), name, generated ? "" : id);
  }
  return keys;
}

std::optional<std::set<std::string>> RecordAccess::CurrentReferenceKeys(const std::string& id) const {
  Result<GetResult> got = context->store().Get(Key(id));
  if (got.code() == ErrorCode::kNotFound) return std::nullopt;
  if (!got.ok()) Fail(got.status(), id, "reading");
  DecodeOptions options;
  options.skip_secrets = true;
  const Record record = Decode(id, *got, options);
  auto state = State();
  std::set<std::string> keys;
  for (auto& [partition, key] : ReferenceKeys(state->current(), record.data, id)) keys.insert(std::move(key));
  return keys;
}

ReferenceIo RecordAccess::Io(int concurrency) const {
  return ReferenceIo{context->store(), context->layout(), name, concurrency,
                     [this](const std::string& id) { return CurrentReferenceKeys(id); }};
}

void RecordAccess::PublishReferences(const VersionSpec& spec, ReferenceChange change, const std::string& done) const {
  if (change.put.empty() && change.remove.empty()) return;
  if (spec.definition.async_partitions) {
    references->Push(std::move(change));
    return;
  }
  ThrowIfReferencesFailed(change.id, ApplyReferenceChange(Io(context->settings().concurrency), change), done);
}

std::vector<std::exception_ptr> RecordAccess::PublishNewReferences(const VersionSpec& spec,
                                                                   std::vector<ReferenceChange> changes,
                                                                   const std::string& done) const {
  std::vector<std::exception_ptr> out(changes.size());
  if (spec.definition.async_partitions) {
    for (ReferenceChange& change : changes) {
      if (!change.put.empty()) references->Push(std::move(change));
    }
    return out;
  }
  const std::vector<ReferenceOutcome> outcomes = WriteNewReferences(Io(context->settings().concurrency), changes);
  for (size_t i = 0; i < changes.size(); ++i) {
    try {
      ThrowIfReferencesFailed(changes[i].id, outcomes[i], done);
    } catch (...) {
      out[i] = std::current_exception();
    }
  }
  return out;
}

void RecordAccess::ThrowIfReferencesFailed(const std::string& id, const ReferenceOutcome& outcome,
                                           const std::string& done) const {
  if (outcome.failures.empty()) return;
  const PartitionFailure& first = outcome.failures.front();
  // The record exists, so "not found" would mislead: report a storage failure.
  const ErrorCode code = first.code == ErrorCode::kNotFound ? ErrorCode::kIOError : first.code;
  ThrowError(code,
             "record '" + id + "' of resource '" + name + "' was " + done + ", but " +
                 std::to_string(outcome.failures.size()) + " of its partition references failed, the first (" +
                 first.operation + " " + first.key + "): " + first.message +
                 "; reads through the partition may miss it until `s3db repair " + name +
                 "` (Resource::RepairPartitions) rebuilds them",
             name, id);
}

const PartitionSpec& RecordAccess::PartitionOf(const VersionSpec& spec, const std::string& partition) const {
  if (const PartitionSpec* p = FindPartition(spec.partitions, partition)) return *p;
  std::string known;
  for (const auto& p : spec.partitions) known += (known.empty() ? "" : ", ") + p.name;
  throw InvalidArgument("resource '" + name + "' has no partition '" + partition + "' (" +
                            (known.empty() ? std::string("it has none") : "it has: " + known) + ")",
                        name);
}

std::optional<RecordAccess::PartitionTarget> RecordAccess::Target(const VersionSpec& spec, const std::string& partition,
                                                                  const Json& values) const {
  if (partition.empty()) {
    if (!values.is_null() && !(values.is_object() && values.empty())) {
      throw InvalidArgument("resource '" + name + "': partition values were given without a partition", name);
    }
    return std::nullopt;
  }
  PartitionTarget target;
  target.partition = &PartitionOf(spec, partition);
  target.segments = ValueSegments(name, *target.partition, values.is_null() ? Json::object() : values,
                                  /*require_all=*/false);
  return target;
}

std::optional<Record> RecordAccess::Verify(const PartitionSpec& partition, const std::string& key,
                                           const std::string& id, bool full, const Json* filter) const {
  Result<GetResult> got = context->store().Get(context->layout().RecordKey(name, id));
  if (got.code() == ErrorCode::kNotFound) return std::nullopt;  // the record is gone
  if (!got.ok()) Fail(got.status(), id, "reading");
  DecodeOptions options;
  options.skip_secrets = !full;
  Record record = Decode(id, *got, options);
  const auto segments = RecordSegments(partition, record.data);
  if (!segments || context->layout().PartitionKey(name, partition.name, *segments, id) != key) return std::nullopt;
  if (filter && !MatchesFilter(record, *filter)) return std::nullopt;
  return record;
}

RecordAccess::ScanResult RecordAccess::ScanPartition(const PartitionTarget& target, size_t offset,
                                                     std::optional<size_t> limit, bool keep_records, bool count_all,
                                                     const Json* filter,
                                                     const std::function<void(const BulkItemError&)>* on_error) const {
  ScanResult out;
  auto taken = [&] { return keep_records ? out.records.size() : out.ids.size(); };
  auto full = [&] { return limit && taken() >= *limit; };
  if (full() && !count_all) return out;
  const PartitionSpec& partition = *target.partition;
  ListRequest request;
  request.prefix = context->layout().PartitionValuesPrefix(name, partition.name, target.segments);
  const size_t batch = static_cast<size_t>(std::max(1, context->settings().concurrency)) * 4;
  while (true) {
    Result<ListPage> page = context->store().List(request);
    if (!page.ok()) Fail(page.status(), "", "listing partition '" + partition.name + "' of");
    std::vector<std::pair<std::string, std::string>> candidates;  // key, id
    for (const auto& object : page->objects) {
      auto parts = context->layout().ParsePartitionKey(name, object.key);
      if (parts) candidates.emplace_back(object.key, std::move(parts->id));
    }
    for (size_t start = 0; start < candidates.size(); start += batch) {
      const size_t n = std::min(candidates.size() - start, batch);
      std::vector<std::optional<Record>> verified(n);
      std::vector<std::exception_ptr> failures(n);
      util::ParallelFor(n, context->settings().concurrency, [&](size_t i) {
        try {
          const auto& [key, id] = candidates[start + i];
          verified[i] = Verify(partition, key, id, keep_records, filter);
        } catch (...) {
          failures[i] = std::current_exception();
        }
      });
      ReportOrThrow(
          failures, [&](size_t i) -> const std::string& { return candidates[start + i].second; }, on_error, start);
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

std::vector<std::string> RecordAccess::ListReferencedIds(const PartitionTarget& target, size_t offset,
                                                         std::optional<size_t> limit) const {
  std::vector<std::string> ids;
  ListRequest request;
  request.prefix = context->layout().PartitionValuesPrefix(name, target.partition->name, target.segments);
  size_t skipped = 0;
  while (!limit || ids.size() < *limit) {
    Result<ListPage> page = context->store().List(request);
    if (!page.ok()) Fail(page.status(), "", "listing partition '" + target.partition->name + "' of");
    for (const auto& object : page->objects) {
      auto parts = context->layout().ParsePartitionKey(name, object.key);
      if (!parts || skipped++ < offset) continue;
      if (limit && ids.size() >= *limit) break;
      ids.push_back(std::move(parts->id));
    }
    if (!page->truncated) break;
    request.continuation_token = page->next_continuation_token;
  }
  return ids;
}

std::vector<Record> RecordAccess::ReadAll(const std::vector<std::string>& ids, bool cached,
                                          const std::function<void(const BulkItemError&)>* on_error,
                                          size_t first_index) const {
  std::vector<ListedRecord> listed;
  listed.reserve(ids.size());
  for (const std::string& id : ids) listed.push_back({id, ""});
  return ReadAll(listed, nullptr, cached, on_error, first_index);
}

void RecordAccess::ReadInto(const std::vector<ListedRecord>& listed, ScanSnapshot* snapshot, bool cached,
                            std::vector<std::optional<Record>>& records,
                            std::vector<std::exception_ptr>& failures) const {
  const size_t n = listed.size();
  records.assign(n, std::nullopt);
  failures.assign(n, nullptr);
  const int concurrency = context->settings().concurrency;
  if (ReadCache* cache = cached ? context->cache() : nullptr; cache && cache->caches_records()) {
    // Through the cache, one record at a time (a hit needs no request at all).
    std::shared_ptr<const ResourceState> state = snapshot ? State() : nullptr;
    if (state) RequireKeysFor(*state);
    util::ParallelFor(n, concurrency, [&](size_t i) {
      try {
        records[i] = snapshot ? ReadListed(listed[i], snapshot, cached, state) : TryGet(listed[i].id, cached);
      } catch (...) {
        failures[i] = std::current_exception();
      }
    });
    return;
  }
  std::shared_ptr<const ResourceState> state = State();
  RequireKeysFor(*state);
  // The snapshot's records first (CPU only: no more threads than cores), then one GetEach for
  // the rest, so the store sends them all at once from its event loop where it has one.
  std::vector<char> held(n, 0);
  std::vector<std::optional<GetResult>> copies(n);  // only for records not decodable in place
  if (snapshot) {
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    util::ParallelFor(n, std::min(concurrency, cores), [&](size_t i) {
      if (std::optional<ObjectRead> read = FromSnapshot(listed[i], *snapshot, *state)) {
        held[i] = 1;
        records[i] = std::move(read->record);
        copies[i] = std::move(read->copy);
      }
    });
  }
  std::vector<size_t> missed;
  std::vector<std::string> keys;
  for (size_t i = 0; i < n; ++i) {
    if (held[i]) continue;
    missed.push_back(i);
    keys.push_back(Key(listed[i].id));
  }
  GetEachOptions options;
  options.concurrency = concurrency;
  context->store().GetEach(keys, options,
                           [&](size_t j, const Status& status, const ObjectInfo& info, const std::string& body) {
                             const size_t i = missed[j];
                             ObjectRead read = FromVisit(listed[i].id, status, info, body, *state);
                             records[i] = std::move(read.record);
                             copies[i] = std::move(read.copy);
                             failures[i] = read.failure;
                           });
  // Off the store's lock: decoding them may re-read the catalog, and reports the error.
  for (size_t i = 0; i < n; ++i) {
    if (!copies[i]) continue;
    try {
      records[i] = Decode(listed[i].id, *copies[i], {}, state);
    } catch (...) {
      failures[i] = std::current_exception();
    }
  }
}

RecordAccess::ObjectRead RecordAccess::FromVisit(const std::string& id, const Status& status, const ObjectInfo& info,
                                                 const std::string& body, const ResourceState& state) const noexcept {
  ObjectRead read;
  if (status.code() == ErrorCode::kNotFound) return read;  // deleted since it was listed
  try {
    if (!status.ok()) Fail(status, id, "reading");
    // Decoded where the store holds the object when it can, as TryGet does.
    read.record = DecodeInPlace(id, info, body, state);
    if (!read.record) read.copy = GetResult{info, body};
  } catch (...) {
    read.failure = std::current_exception();
  }
  return read;
}

void RecordAccess::ReadEachListed(const ListedSource& next, const std::function<ScanSnapshot*()>& snapshot_now,
                                  const std::shared_ptr<const ResourceState>& state, const ListedDone& done) const {
  struct Deferred {
    size_t sequence;
    std::string id;
    GetResult copy;
  };
  std::mutex mu;
  std::unordered_map<size_t, std::pair<size_t, std::string>> sent;  // GetEach index -> sequence, id
  size_t next_index = 0;
  // Objects DecodeInPlace could not take are decoded off the store's lock, on a thread of their
  // own started at the first one (rare: a version this process has not loaded yet). Not on the
  // pulling thread: `next` may block until the consumer took the very record waiting here.
  std::vector<Deferred> deferred;  // guarded by mu
  bool finished = false;           // guarded by mu
  std::condition_variable deferred_cv;
  std::thread decoder;
  auto decode_deferred = [&] {
    std::unique_lock lock(mu);
    while (true) {
      deferred_cv.wait(lock, [&] { return !deferred.empty() || finished; });
      if (deferred.empty()) return;
      std::vector<Deferred> taken;
      taken.swap(deferred);
      lock.unlock();
      for (Deferred& d : taken) {
        try {
          done(d.sequence, d.id, Decode(d.id, d.copy, {}, state), nullptr);
        } catch (...) {
          done(d.sequence, d.id, std::nullopt, std::current_exception());
        }
      }
      lock.lock();
    }
  };
  GetEachOptions options;
  options.concurrency = context->settings().concurrency;
  context->store().GetEachFrom(
      [&]() -> std::optional<std::string> {
        while (std::optional<std::pair<size_t, ListedRecord>> item = next()) {
          auto& [sequence, listed] = *item;
          ScanSnapshot* snapshot = snapshot_now();
          std::optional<ObjectRead> read;
          if (snapshot) read = FromSnapshot(listed, *snapshot, *state);
          if (read) {
            try {
              if (!read->record) read->record = Decode(listed.id, *read->copy, {}, state);
              done(sequence, listed.id, std::move(read->record), nullptr);
            } catch (...) {
              done(sequence, listed.id, std::nullopt, std::current_exception());
            }
            continue;
          }
          std::lock_guard lock(mu);
          sent.emplace(next_index++, std::make_pair(sequence, listed.id));
          return Key(listed.id);
        }
        return std::nullopt;
      },
      options,
      [&](size_t index, const Status& status, const ObjectInfo& info, const std::string& body) {
        std::pair<size_t, std::string> target;
        {
          std::lock_guard lock(mu);
          auto it = sent.find(index);
          target = std::move(it->second);
          sent.erase(it);
        }
        ObjectRead read = FromVisit(target.second, status, info, body, *state);
        if (read.copy) {
          std::lock_guard lock(mu);
          deferred.push_back({target.first, target.second, std::move(*read.copy)});
          if (!decoder.joinable()) decoder = std::thread(decode_deferred);
          deferred_cv.notify_one();
          return;
        }
        done(target.first, target.second, std::move(read.record), read.failure);
      });
  {
    std::lock_guard lock(mu);
    finished = true;
  }
  deferred_cv.notify_one();
  if (decoder.joinable()) decoder.join();
}

std::vector<Record> RecordAccess::ReadAll(const std::vector<ListedRecord>& listed, ScanSnapshot* snapshot, bool cached,
                                          const std::function<void(const BulkItemError&)>* on_error,
                                          size_t first_index) const {
  std::vector<std::optional<Record>> slots;
  std::vector<std::exception_ptr> failures;
  ReadInto(listed, snapshot, cached, slots, failures);
  ReportOrThrow(
      failures, [&](size_t i) -> const std::string& { return listed[i].id; }, on_error, first_index);
  std::vector<Record> out;
  out.reserve(listed.size());
  for (auto& s : slots) {
    if (s) out.push_back(std::move(*s));
  }
  return out;
}

}  // namespace s3db::core

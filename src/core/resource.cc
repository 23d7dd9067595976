#include "s3db/resource.h"

#include <chrono>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "core/database_core.h"
#include "core/record_codec.h"
#include "core/unique_index.h"
#include "format/key_layout.h"
#include "util/parallel.h"
#include "util/time_format.h"

namespace s3db {
namespace {

void BackoffSleep(int attempt) {
  thread_local std::mt19937 rng(std::random_device{}());
  int ceiling = 2 << std::min(attempt, 7);
  std::uniform_int_distribution<int> pick(0, ceiling);
  std::this_thread::sleep_for(std::chrono::milliseconds(pick(rng)));
}

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

const Json* FindPath(const Json& data, const std::string& path) {
  const Json* node = &data;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    std::string part = path.substr(start, dot - start);
    if (!node->is_object()) return nullptr;
    auto it = node->find(part);
    if (it == node->end()) return nullptr;
    node = &*it;
    if (dot == std::string::npos) return node;
    start = dot + 1;
  }
}

// ETags compare without their quotes: callers may pass either form.
bool EtagEquals(std::string_view a, std::string_view b) {
  auto strip = [](std::string_view s) {
    if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
    return s;
  };
  return strip(a) == strip(b);
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

Resource::Resource(DatabaseCore* core, std::string name) : core_(core), name_(std::move(name)) {}

namespace {

// Per-call context shared by the helpers below.
struct Ctx {
  DatabaseCore* core;
  const std::string& name;

  std::shared_ptr<const core::ResourceState> State() const {
    auto state = core->State(name, /*refresh_on_miss=*/true);
    if (!state) throw NotFound("resource '" + name + "' does not exist", name);
    return state;
  }

  std::string Key(const std::string& id) const {
    Status ok = format::ValidateId(id);
    if (!ok.ok()) throw InvalidArgument("resource '" + name + "': " + ok.message(), name, id);
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

  Record Decode(const std::string& id, const GetResult& got, const core::DecodeOptions& options = {}) const {
    int version = core::RecordVersion(got.info.metadata, name, id);
    std::shared_ptr<const core::ResourceState> state;
    const core::VersionSpec& spec = SpecOf(version, &state);
    Record r;
    r.id = id;
    try {
      r.data = core::DecodeRecord(got.info.metadata, got.body, spec, name, id, &core->Keys(), options);
    } catch (const Corruption&) {
      // A key this process has not seen (another process rotated): re-read the catalog once,
      // and decode again only if it brought new keys.
      const uint64_t before = core->CryptoGeneration();
      core->LoadCatalog();
      if (core->CryptoGeneration() == before) throw;
      r.data = core::DecodeRecord(got.info.metadata, got.body, spec, name, id, &core->Keys(), options);
    }
    r.etag = got.info.etag;
    r.last_modified_ms = got.info.last_modified_ms;
    r.schema_version = version;
    return r;
  }

  std::optional<Record> TryGet(const std::string& id) const {
    RequireKeysFor(*State());
    Result<GetResult> got = core->store().Get(Key(id));
    if (got.code() == ErrorCode::kNotFound) return std::nullopt;
    if (!got.ok()) Fail(got.status(), id, "reading");
    return Decode(id, *got);
  }

  // Encodes and writes `data` (validated under spec) with the given condition.
  Result<Record> Write(const core::VersionSpec& spec, const std::string& id, Json data, bool create_only,
                       const std::string& if_match) const {
    core::EncodedRecord encoded =
        core::EncodeRecord(data, spec, core->options().metadata_budget, name, id, &core->Keys());
    PutRequest put;
    put.key = Key(id);
    put.metadata = std::move(encoded.metadata);
    put.body = std::move(encoded.body);
    put.content_type = "application/json";
    put.if_none_match_star = create_only;
    if (!if_match.empty()) put.if_match = if_match;
    Result<ObjectInfo> written = core->store().Put(put);
    if (!written.ok()) return written.status();
    Record r;
    r.id = id;
    r.data = std::move(data);
    r.etag = written->etag;
    r.last_modified_ms = written->last_modified_ms ? written->last_modified_ms : util::NowMs();
    r.schema_version = spec.version;
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
      const Json* v = FindPath(r.data, path);
      if (!v) return std::nullopt;
      return *v;
    };
    return core::UniqueIndex(core->store(), core->layout().ResourcePrefix(name), name, holder_value, util::NowMs);
  }

  // (path, value) of every unique field the data holds (absent and null hold nothing).
  static std::vector<std::pair<std::string, Json>> UniqueValues(const core::VersionSpec& spec, const Json& data) {
    std::vector<std::pair<std::string, Json>> out;
    for (const core::FieldRule* rule : spec.schema.UniqueFields()) {
      const Json* v = FindPath(data, rule->path);
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

  // Reads many ids in parallel; vanished ones are skipped (they were deleted meanwhile).
  std::vector<Record> ReadAll(const std::vector<std::string>& ids) const {
    std::vector<std::optional<Record>> slots(ids.size());
    std::vector<std::exception_ptr> failures(ids.size());
    util::ParallelFor(ids.size(), core->options().concurrency, [&](size_t i) {
      try {
        slots[i] = TryGet(ids[i]);
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

ResourceDefinition Resource::definition() const { return Ctx{core_, name_}.State()->current().definition; }
int Resource::version() const { return Ctx{core_, name_}.State()->current_version; }

Record Resource::Insert(const Json& input) {
  Ctx ctx{core_, name_};
  if (!input.is_object()) throw InvalidArgument("resource '" + name_ + "': a record must be a JSON object", name_);
  auto state = ctx.State();
  const core::VersionSpec& spec = state->current();
  ctx.RequireKeysFor(*state);
  Json data = input;
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
  if (id_errors.empty()) ctx.Key(id);  // validates the id before any work
  if (spec.definition.timestamps) {
    std::string now = util::FormatIso8601Ms(util::NowMs());
    data["createdAt"] = now;
    data["updatedAt"] = now;
  }
  ctx.Validate(spec, data, generated ? "" : id, std::move(id_errors));
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
    return std::move(written).value();
  }
}

Record Resource::Get(const std::string& id) {
  auto r = TryGet(id);
  if (!r) throw NotFound("record '" + id + "' of resource '" + name_ + "' not found", name_, id);
  return std::move(*r);
}

std::optional<Record> Resource::TryGet(const std::string& id) {
  Ctx ctx{core_, name_};
  ctx.State();
  return ctx.TryGet(id);
}

bool Resource::Exists(const std::string& id) {
  Ctx ctx{core_, name_};
  ctx.State();
  Result<ObjectInfo> head = core_->store().Head(ctx.Key(id));
  if (head.code() == ErrorCode::kNotFound) return false;
  if (!head.ok()) ctx.Fail(head.status(), id, "checking");
  return true;
}

Record Resource::Update(const std::string& id, const Json& patch, const UpdateOptions& options) {
  Ctx ctx{core_, name_};
  if (!patch.is_object()) throw InvalidArgument("resource '" + name_ + "': an update must be a JSON object", name_, id);
  if (auto it = patch.find("id"); it != patch.end() && *it != id) {
    throw InvalidArgument("resource '" + name_ + "': an update cannot change the id of record '" + id + "'", name_, id);
  }
  const int attempts = core_->options().max_update_attempts;
  for (int attempt = 0; attempt < attempts; ++attempt) {
    std::optional<Record> current = ctx.TryGet(id);
    if (!current) throw NotFound("record '" + id + "' of resource '" + name_ + "' not found", name_, id);
    if (options.if_match && !EtagEquals(*options.if_match, current->etag)) {
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
    // Unique values: claim the new ones before the write, free the old ones after it.
    std::vector<std::pair<std::string, Json>> gained, lost;
    const auto before = Ctx::UniqueValues(spec, current->data);
    const auto after = Ctx::UniqueValues(spec, data);
    for (const auto& [path, value] : after) {
      const Json* old = FindPath(current->data, path);
      if (!old || *old != value) gained.emplace_back(path, value);
    }
    for (const auto& [path, value] : before) {
      const Json* now = FindPath(data, path);
      if (!now || *now != value) lost.emplace_back(path, value);
    }
    core::UniqueIndex index = ctx.Index();
    ClaimSet claims(index, ctx.Claim(index, gained, id), id);
    Result<Record> written = ctx.Write(spec, id, std::move(data), false, current->etag);
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
    BackoffSleep(attempt);  // another writer won: re-read and re-apply
  }
  throw Conflict("record '" + id + "' of resource '" + name_ + "' kept changing: " + std::to_string(attempts) +
                     " update attempts lost to concurrent writers",
                 name_, id);
}

Record Resource::Upsert(const std::string& id, const Json& data) {
  Ctx ctx{core_, name_};
  if (!data.is_object()) throw InvalidArgument("resource '" + name_ + "': a record must be a JSON object", name_, id);
  ctx.Key(id);
  const int attempts = core_->options().max_update_attempts;
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
}

void Resource::Delete(const std::string& id) {
  Ctx ctx{core_, name_};
  auto state = ctx.State();
  if (state->current().schema.UniqueFields().empty()) {
    if (!Exists(id)) throw NotFound("record '" + id + "' of resource '" + name_ + "' not found", name_, id);
    Status deleted = core_->store().Delete(ctx.Key(id));
    if (!deleted.ok()) ctx.Fail(deleted, id, "deleting");
    return;
  }
  // A GET instead of the HEAD: the record's unique values are freed once it is gone.
  Result<GetResult> got = core_->store().Get(ctx.Key(id));
  if (got.code() == ErrorCode::kNotFound) {
    throw NotFound("record '" + id + "' of resource '" + name_ + "' not found", name_, id);
  }
  if (!got.ok()) ctx.Fail(got.status(), id, "reading");
  core::DecodeOptions options;
  options.skip_secrets = true;  // no passphrase needed to delete
  const Record record = ctx.Decode(id, *got, options);
  Status deleted = core_->store().Delete(ctx.Key(id));
  if (!deleted.ok()) ctx.Fail(deleted, id, "deleting");
  core::UniqueIndex index = ctx.Index();
  for (const auto& [path, value] : Ctx::UniqueValues(state->current(), record.data)) index.Release(path, value, id);
}

ReEncryptResult Resource::ReEncrypt() {
  Ctx ctx{core_, name_};
  auto state = ctx.State();
  ReEncryptResult out;
  out.resource = name_;
  if (!core::EntryHasSecrets(*state)) return out;  // no version ever had a secret field
  core_->RequireKeys(name_);
  const std::vector<std::string> ids = ctx.ListIds(0, std::nullopt);
  std::vector<char> outcome(ids.size(), 0);  // 1 rewritten
  std::vector<std::optional<BulkItemError>> errors(ids.size());
  const int attempts = core_->options().max_update_attempts;
  util::ParallelFor(ids.size(), core_->options().concurrency, [&](size_t i) {
    const std::string& id = ids[i];
    try {
      for (int attempt = 0;; ++attempt) {
        Result<GetResult> got = core_->store().Get(ctx.Key(id));
        if (got.code() == ErrorCode::kNotFound) return;  // deleted meanwhile
        if (!got.ok()) ctx.Fail(got.status(), id, "reading");
        std::set<uint64_t> key_ids;
        core::DecodeOptions options;
        options.sealed_key_ids = &key_ids;
        const Record record = ctx.Decode(id, *got, options);
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
        BackoffSleep(attempt);
      }
    } catch (const Error& e) {
      errors[i] = BulkItemError{i, id, e.code(), e.what()};
    } catch (const std::exception& e) {
      errors[i] = BulkItemError{i, id, ErrorCode::kInternal, e.what()};
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
  auto state = Ctx{core_, name_}.State();
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
  util::ParallelFor(items.size(), core_->options().concurrency, [&](size_t i) {
    try {
      slots[i] = Insert(items[i]);
    } catch (const Error& e) {
      std::string id = items[i].is_object() && items[i].contains("id") && items[i]["id"].is_string()
                           ? items[i]["id"].get<std::string>()
                           : "";
      errors[i] = BulkItemError{i, id, e.code(), e.what()};
    } catch (const std::exception& e) {
      errors[i] = BulkItemError{i, "", ErrorCode::kInternal, e.what()};
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
  Ctx ctx{core_, name_};
  ctx.State();
  std::vector<std::optional<Record>> slots(ids.size());
  std::vector<std::optional<BulkItemError>> errors(ids.size());
  std::vector<char> missing(ids.size(), 0);
  util::ParallelFor(ids.size(), core_->options().concurrency, [&](size_t i) {
    try {
      slots[i] = ctx.TryGet(ids[i]);
      missing[i] = !slots[i].has_value();
    } catch (const Error& e) {
      errors[i] = BulkItemError{i, ids[i], e.code(), e.what()};
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
  util::ParallelFor(ids.size(), core_->options().concurrency, [&](size_t i) {
    try {
      Delete(ids[i]);
      outcome[i] = 1;
    } catch (const NotFound&) {
      outcome[i] = 2;
    } catch (const Error& e) {
      errors[i] = BulkItemError{i, ids[i], e.code(), e.what()};
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
  Ctx ctx{core_, name_};
  ctx.State();
  return ctx.ReadAll(ctx.ListIds(0, std::nullopt));
}

size_t Resource::DeleteAll() {
  // Works from the listing alone, so it also clears what a dropped resource left behind.
  Ctx ctx{core_, name_};
  ListRequest request;
  request.prefix = core_->layout().ResourcePrefix(name_);
  size_t records = 0;
  while (true) {
    // Always list from the start: the keys of the previous page are gone.
    Result<ListPage> page = core_->store().List(request);
    if (!page.ok()) ctx.Fail(page.status(), "", "listing");
    if (page->objects.empty()) return records;
    std::vector<std::string> keys;
    for (const auto& o : page->objects) {
      keys.push_back(o.key);
      if (core_->layout().IdFromRecordKey(name_, o.key)) ++records;
    }
    Result<DeleteManyResult> deleted = core_->store().DeleteMany(keys);
    if (!deleted.ok()) ctx.Fail(deleted.status(), "", "deleting the records of");
    if (!deleted->errors.empty()) {
      const auto& [key, status] = deleted->errors.front();
      ctx.Fail(status, "", "deleting " + key + " (and " + std::to_string(deleted->errors.size() - 1) + " more) of");
    }
  }
}

std::vector<std::string> Resource::ListIds(const ListOptions& options) {
  Ctx ctx{core_, name_};
  ctx.State();
  return ctx.ListIds(options.offset, options.limit);
}

size_t Resource::Count() { return ListIds().size(); }

std::vector<Record> Resource::List(const ListOptions& options) {
  Ctx ctx{core_, name_};
  ctx.State();
  return ctx.ReadAll(ctx.ListIds(options.offset, options.limit));
}

PageResult Resource::Page(const PageOptions& options) {
  Ctx ctx{core_, name_};
  if (options.size < 1 || options.size > 1000) {
    throw InvalidArgument("resource '" + name_ + "': page size must be 1..1000, got " + std::to_string(options.size),
                          name_);
  }
  ctx.State();
  PageResult out;
  out.page = options.offset / options.size;
  out.page_size = options.size;
  std::vector<std::string> ids;
  if (options.skip_count) {
    ids = ctx.ListIds(options.offset, options.size);
  } else {
    std::vector<std::string> all = ctx.ListIds(0, std::nullopt);  // one listing gives both
    out.total_items = all.size();
    out.total_pages = (all.size() + options.size - 1) / options.size;
    for (size_t i = options.offset; i < all.size() && ids.size() < options.size; ++i) ids.push_back(all[i]);
  }
  out.items = ctx.ReadAll(ids);
  return out;
}

std::vector<Record> Resource::Query(const Json& filter, const ListOptions& options) {
  Ctx ctx{core_, name_};
  if (!filter.is_object()) throw InvalidArgument("resource '" + name_ + "': a query filter must be a JSON object", name_);
  ctx.State();
  std::vector<std::string> ids = ctx.ListIds(0, std::nullopt);
  std::vector<Record> out;
  size_t skipped = 0;
  const size_t batch = static_cast<size_t>(core_->options().concurrency) * 4;
  for (size_t start = 0; start < ids.size(); start += batch) {
    std::vector<std::string> chunk(ids.begin() + static_cast<std::ptrdiff_t>(start),
                                   ids.begin() + static_cast<std::ptrdiff_t>(std::min(ids.size(), start + batch)));
    for (auto& record : ctx.ReadAll(chunk)) {
      Json full = record.ToJson();
      bool match = true;
      for (const auto& [path, expected] : filter.items()) {
        const Json* actual = FindPath(full, path);
        if (!actual || *actual != expected) {
          match = false;
          break;
        }
      }
      if (!match) continue;
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

}  // namespace s3db

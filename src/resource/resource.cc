// Resource: one record at a time (insert, get, exists, update, upsert, delete), its events
// and its definition.
#include "s3db/resource.h"

#include <map>
#include <set>

#include "format/key_layout.h"
#include "resource/bulk_item_error.h"
#include "resource/record_access.h"
#include "s3db/json_limits.h"
#include "store/metadata_rules.h"
#include "util/parallel.h"
#include "util/time_format.h"

namespace s3db {

Resource::Resource(ResourceContext* context, std::string name)
    : context_(context),
      name_(std::move(name)),
      hook_relay_([this](const std::string& line) { events_.Report(line); }),
      hooks_(name_) {
  hook_relay_.On(events::kHookError,
                 [this](const Json& payload) { EmitEvent(events::kHookError, [&] { return payload; }); });
  auto apply = [this](const core::ReferenceChange& change) {
    core::RecordAccess ctx{context_, name_, nullptr};
    return core::ApplyReferenceChange(ctx.Io(context_->settings().concurrency), change);
  };
  auto report = [this](const PartitionFailure& f) {
    EmitEvent(kPartitionErrorEvent, [&] {
      return Json{{"resource", name_},        {"id", f.id},
                  {"partition", f.partition}, {"key", f.key},
                  {"operation", f.operation}, {"code", ErrorCodeName(f.code)},
                  {"message", f.message}};
    });
  };
  references_ = std::make_unique<core::ReferenceQueue>(apply, report, context_->settings().concurrency);
}

Resource::~Resource() = default;

bool Resource::Observed(const char* event) const {
  return events_.HasListeners(event) || context_->resource_events().HasListeners(event);
}

void Resource::EmitEventNow(const char* event, const std::function<Json()>& payload) {
  EventEmitter& plugins = context_->resource_events();
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

void Resource::InvalidateCached(const std::string& id) {
  ReadCache* cache = context_->cache();
  if (!cache) return;
  if (!id.empty()) cache->Invalidate(ReadCache::RecordKey(name_, id));
  cache->InvalidatePrefix(ReadCache::QueryPrefix(name_));
}

void Resource::InvalidateQueries() {
  if (ReadCache* cache = context_->cache()) cache->InvalidatePrefix(ReadCache::QueryPrefix(name_));
}

Json Resource::RecordPayload(const Record& record) {
  std::vector<std::string> secrets;
  if (auto state = context_->State(name_, false)) {
    auto it = state->versions.find(record.schema_version);
    const core::VersionSpec& spec = it != state->versions.end() ? *it->second : state->current();
    secrets = spec.schema.SecretPaths();
  }
  return RedactSecrets(record.ToJson(), secrets);
}

ResourceDefinition Resource::definition() const {
  return core::RecordAccess{context_, name_, references_.get()}.State()->current().definition;
}
int Resource::version() const {
  return core::RecordAccess{context_, name_, references_.get()}.State()->current_version;
}

Record Resource::Insert(const Json& input) {
  const std::string given_id = core::GivenId(input);
  core::RefuseTooDeep(name_, given_id, input);  // before the copy
  return InsertChecked(Json(input), given_id);
}

Record Resource::Insert(Json&& input) {
  const std::string given_id = core::GivenId(input);
  core::RefuseTooDeep(name_, given_id, input);
  return InsertChecked(std::move(input), given_id);
}

Record Resource::InsertKeepingTimestamps(const Json& input) {
  const std::string given_id = core::GivenId(input);
  core::RefuseTooDeep(name_, given_id, input);
  return InsertChecked(Json(input), given_id, /*keep_timestamps=*/true);
}

Record Resource::InsertChecked(Json&& input, const std::string& given_id, bool keep_timestamps) {
  return Guarded("insert", given_id, [&] {
    if (!input.is_object()) throw InvalidArgument("resource '" + name_ + "': a record must be a JSON object", name_);
    Json data = std::move(input);
    hooks_.RunPreInsert(data);  // may change the data, or abort before anything is written
    Record record = [&] {
      try {
        return DoInsert(std::move(data), keep_timestamps);
      } catch (const Conflict& e) {
        InvalidateCached(e.id());  // an insert undone after its write
        throw;
      }
    }();
    InvalidateCached(record.id);
    hooks_.RunAfterInsert(record, hook_relay_);
    EmitEvent(events::kInsert, [&] {
      return Json{{"resource", name_}, {"id", record.id}, {"record", RecordPayload(record)}};
    });
    return record;
  });
}

Record Resource::DoInsert(Json data, bool keep_timestamps) {
  core::RecordAccess ctx{context_, name_, references_.get()};
  if (!data.is_object()) throw InvalidArgument("resource '" + name_ + "': a record must be a JSON object", name_);
  auto state = ctx.State();
  const core::VersionSpec& spec = state->current();
  ctx.RequireKeysFor(*state);
  std::string id;
  bool generated = true;
  std::map<std::string, std::string> reference_keys = ctx.PrepareInsert(spec, data, &id, &generated, keep_timestamps);
  const std::string checked_id = id;
  const auto uniques = core::RecordAccess::UniqueValues(spec, data);
  core::UniqueIndex index = ctx.Index();
  for (int attempt = 0;; ++attempt) {
    core::ClaimSet claims(index, ctx.Claim(index, uniques, id), id);
    Result<Record> written = ctx.Write(spec, id, data, /*create_only=*/true, "", "insert");
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
      (void)context_->store().Delete(ctx.Key(id));
      throw Conflict("record '" + id + "' of resource '" + name_ + "': unique field '" + *lost +
                         "' was claimed by another writer while this insert stalled; nothing was inserted",
                     name_, id);
    }
    claims.Keep();
    // References after the record: a crash in between leaves a record that repair indexes,
    // never a reference to nothing.
    // The partition fields are never truncated, so the checked keys are the written ones.
    if (id != checked_id) reference_keys = ctx.ReferenceKeys(spec, written->data, id);
    ctx.PublishReferences(spec, core::ReferenceChange{id, core::KeysOf(reference_keys), {}, false}, "inserted");
    return std::move(written).value();
  }
}

ValidatedRecord Resource::Validate(const Json& input) const {
  core::RefuseTooDeep(name_, core::GivenId(input), input);
  core::RecordAccess ctx{context_, name_, references_.get()};
  if (!input.is_object()) throw InvalidArgument("resource '" + name_ + "': a record must be a JSON object", name_);
  auto state = ctx.State();
  const core::VersionSpec& spec = state->current();
  ctx.RequireKeysFor(*state);
  ValidatedRecord out;
  out.data = input;
  bool generated = true;
  ctx.PrepareInsert(spec, out.data, &out.id, &generated);
  // The budget as Insert spends it: enforce-limits throws MetadataTooLarge here.
  (void)core::EncodeRecord(out.data, spec, context_->settings().metadata_budget, name_, out.id, &context_->Keys(),
                           &spec.partition_paths);
  if (generated) out.id.clear();
  out.unique_values = core::RecordAccess::UniqueValues(spec, out.data);
  return out;
}

Record Resource::Get(const std::string& id) {
  return Guarded("get", id, [&] {
    auto r = TryGet(id);
    if (!r) throw NotFound("record '" + id + "' of resource '" + name_ + "' does not exist", name_, id);
    return std::move(*r);
  });
}

std::optional<Record> Resource::TryGet(const std::string& id) {
  return Guarded("get", id, [&] {
    core::RecordAccess ctx{context_, name_, references_.get()};
    std::optional<Record> r = ctx.TryGet(id, /*cached=*/true);  // NotFound for a missing resource
    if (r)
      EmitEvent(events::kGet, [&] { return Json{{"resource", name_}, {"id", id}, {"record", RecordPayload(*r)}}; });
    return r;
  });
}

bool Resource::Exists(const std::string& id) {
  return Guarded("exists", id, [&] {
    core::RecordAccess ctx{context_, name_, references_.get()};
    ctx.State();
    Result<ObjectInfo> head = context_->store().Head(ctx.Key(id));
    if (head.code() == ErrorCode::kNotFound) return false;
    if (head.code() == ErrorCode::kCorruption) return true;  // there, though unreadable (Get says why)
    if (!head.ok()) ctx.Fail(head.status(), id, "checking");
    return true;
  });
}

Record Resource::Update(const std::string& id, const Json& patch, const UpdateOptions& options) {
  core::RefuseTooDeep(name_, id, patch);
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
      if (auto state = context_->State(name_, false)) {
        redacted_patch = RedactSecrets(std::move(redacted_patch), state->current().schema.SecretPaths());
      }
      return Json{{"resource", name_}, {"id", id}, {"record", RecordPayload(record)}, {"patch", redacted_patch}};
    });
    return record;
  });
}

Record Resource::DoUpdate(const std::string& id, const Json& patch, const UpdateOptions& options) {
  core::RecordAccess ctx{context_, name_, references_.get()};
  if (!patch.is_object()) throw InvalidArgument("resource '" + name_ + "': an update must be a JSON object", name_, id);
  if (auto it = patch.find("id"); it != patch.end() && *it != id) {
    throw InvalidArgument("resource '" + name_ + "': an update cannot change the id of record '" + id + "'", name_, id);
  }
  const int attempts = context_->settings().max_update_attempts;
  for (int attempt = 0; attempt < attempts; ++attempt) {
    std::optional<Record> current = ctx.TryGet(id);
    if (!current) throw NotFound("record '" + id + "' of resource '" + name_ + "' does not exist", name_, id);
    if (options.if_match && !store::EtagsMatch(*options.if_match, current->etag)) {
      throw PreconditionFailed("record '" + id + "' of resource '" + name_ + "' has changed (ETag " + current->etag +
                                   ", expected " + *options.if_match + ")",
                               name_, id);
    }
    auto state = ctx.State();
    const core::VersionSpec& spec = state->current();  // an update writes the current version
    Json data = current->data;
    Json changes = patch;
    changes.erase("id");
    if (options.replace) {
      const Json* created = core::FindPath(current->data, "createdAt");
      data = std::move(changes);
      if (spec.definition.timestamps && created && !data.contains("createdAt")) data["createdAt"] = *created;
    } else {
      core::DeepMerge(data, changes);
    }
    if (spec.definition.timestamps) {
      if (!data.contains("createdAt")) data["createdAt"] = util::FormatIso8601Ms(current->last_modified_ms);
      data["updatedAt"] = util::FormatIso8601Ms(util::NowMs());
    }
    ctx.Validate(spec, data, id);
    std::map<std::string, std::string> checked_keys = ctx.CheckReferenceKeys(spec, data, id, false);
    // Unique values: claim the new ones before the write, free the old ones after it.
    std::vector<std::pair<std::string, Json>> gained, lost;
    const auto before = core::RecordAccess::UniqueValues(spec, current->data);
    const auto after = core::RecordAccess::UniqueValues(spec, data);
    for (const auto& [path, value] : after) {
      const Json* old = core::FindPath(current->data, path);
      if (!old || *old != value) gained.emplace_back(path, value);
    }
    for (const auto& [path, value] : before) {
      const Json* now = core::FindPath(data, path);
      if (!now || *now != value) lost.emplace_back(path, value);
    }
    core::UniqueIndex index = ctx.Index();
    core::ClaimSet claims(index, ctx.Claim(index, gained, id), id);
    Result<Record> written = ctx.Write(spec, id, data, false, current->etag, "update");
    if (written.ok()) {
      if (std::optional<std::string> taken = claims.Confirm()) {
        // Stalled past the claim lease and the value went to another writer: put the record
        // back as it was (its own version, its own ETag guard) and report the conflict.
        std::shared_ptr<const core::ResourceState> old_state;
        const core::VersionSpec& old_spec = ctx.SpecOf(current->schema_version, &old_state);
        Result<Record> restored = ctx.Write(old_spec, id, current->data, false, written->etag, "update");
        throw Conflict(
            "record '" + id + "' of resource '" + name_ + "': unique field '" + *taken +
                "' was claimed by another writer while this update stalled; " +
                (restored.ok() ? "the update was undone" : "undoing it failed: " + restored.status().message()),
            name_, id);
      }
      claims.Keep();
      for (const auto& [path, value] : lost) index.Release(path, value, id);
      // Only the references whose key changed: the new ones, then the old ones go (never a
      // listing of the partition).
      const auto before_keys = ctx.ReferenceKeys(spec, current->data, id);
      // Written as given unless truncate-data cut a value: then from what was stored.
      const auto after_keys =
          written->truncated.empty() ? std::move(checked_keys) : ctx.ReferenceKeys(spec, written->data, id);
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
      throw PreconditionFailed("record '" + id + "' of resource '" + name_ + "' changed while it was updated", name_,
                               id);
    }
    util::SleepWithFullJitter(attempt, 2, 7);  // another writer won: re-read and re-apply (2 .. 256 ms)
  }
  throw Conflict("record '" + id + "' of resource '" + name_ + "' kept changing: " + std::to_string(attempts) +
                     " update attempts lost to concurrent writers",
                 name_, id);
}

Record Resource::Upsert(const std::string& id, const Json& data) {
  core::RefuseTooDeep(name_, id, data);
  return Guarded("upsert", id, [&] {
    core::RecordAccess ctx{context_, name_, references_.get()};
    if (!data.is_object()) throw InvalidArgument("resource '" + name_ + "': a record must be a JSON object", name_, id);
    ctx.Key(id);
    const int attempts = context_->settings().max_update_attempts;
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

void Resource::Delete(const std::string& id) { Delete(id, DeleteOptions{}); }

void Resource::Delete(const std::string& id, const DeleteOptions& options) {
  Guarded("delete", id, [&] {
    hooks_.RunPreDelete(id);
    DoDelete(id, options);
    InvalidateCached(id);
    hooks_.RunAfterDelete(id, hook_relay_);
    EmitEvent(events::kDelete, [&] { return Json{{"resource", name_}, {"id", id}}; });
  });
}

void Resource::DoDelete(const std::string& id, const DeleteOptions& options) {
  core::RecordAccess ctx{context_, name_, references_.get()};
  auto state = ctx.State();
  const core::VersionSpec& spec = state->current();
  ObjectStore& store = context_->store();
  const std::string key = ctx.Key(id);
  const auto not_found = [&] {
    throw NotFound("record '" + id + "' of resource '" + name_ + "' does not exist", name_, id);
  };
  const auto changed = [&](const std::string& etag) {
    throw PreconditionFailed("record '" + id + "' of resource '" + name_ + "' has changed (ETag " + etag +
                                 ", expected " + *options.if_match + ")",
                             name_, id);
  };
  const auto check_etag = [&](const std::string& etag) {
    if (options.if_match && !store::EtagsMatch(*options.if_match, etag)) changed(etag);
  };
  // The record's DELETE at `etag`: one conditional request where the store has one
  // (ObjectStore::DeleteIfMatch). Where it has none (kUnsupported: Ceph RGW 16 ignores
  // If-Match on DELETE), the plain DELETE after the caller's own read-and-compare, with the
  // window between the two that DeleteOptions::if_match describes.
  const auto delete_record = [&](const std::optional<std::string>& etag) {
    if (!etag) return store.Delete(key);
    Status deleted = store.DeleteIfMatch(key, *etag);
    return deleted.code() == ErrorCode::kUnsupported ? store.Delete(key) : deleted;
  };
  const auto lost_race = [&](const Status& deleted) {
    if (deleted.code() == ErrorCode::kNotFound) not_found();
    if (deleted.code() == ErrorCode::kPreconditionFailed) {
      throw PreconditionFailed("record '" + id + "' of resource '" + name_ + "' has changed (expected ETag " +
                                   *options.if_match + "): " + deleted.message(),
                               name_, id);
    }
  };

  if (spec.schema.UniqueFields().empty() && spec.partitions.empty()) {
    if (options.if_match) {
      Status deleted = store.DeleteIfMatch(key, *options.if_match);
      if (deleted.code() != ErrorCode::kUnsupported) {
        lost_race(deleted);
        if (!deleted.ok()) ctx.Fail(deleted, id, "deleting");
        return;
      }
      Result<ObjectInfo> head = store.Head(key);
      if (head.code() == ErrorCode::kNotFound) not_found();
      if (!head.ok()) ctx.Fail(head.status(), id, "checking");
      check_etag(head->etag);
    } else if (!Exists(id)) {
      not_found();
    }
    Status deleted = store.Delete(key);
    if (!deleted.ok()) ctx.Fail(deleted, id, "deleting");
    return;
  }
  // A GET instead of the HEAD: the record's unique values are freed once it is gone, and its
  // partition references removed before.
  Result<GetResult> got = store.Get(key);
  if (got.code() == ErrorCode::kNotFound) not_found();
  if (got.ok()) check_etag(got->info.etag);
  // With If-Match, the DELETE holds only at the ETag just read, which the check matched.
  const std::optional<std::string> at = options.if_match && got.ok() ? std::optional(got->info.etag) : std::nullopt;
  core::DecodeOptions decode;
  decode.skip_secrets = true;  // no passphrase needed to delete
  Record record;
  try {
    if (!got.ok()) ctx.Fail(got.status(), id, "reading");
    record = ctx.Decode(id, *got, decode);
  } catch (const Corruption&) {
    // What it references and claims is unknown, so only the object goes: its partition
    // references are orphans that reads skip and repair removes, and a unique value it held
    // is taken over by the next writer (its holder no longer has it).
    Status deleted = delete_record(at);
    lost_race(deleted);
    if (!deleted.ok()) ctx.Fail(deleted, id, "deleting");
    return;
  }
  const std::vector<std::string> references = core::KeysOf(ctx.ReferenceKeys(spec, record.data, id));
  const bool sync_references = !references.empty() && !spec.definition.async_partitions;
  if (sync_references) {
    // Before the record, so no reference ever points at nothing; nothing can bring these
    // keys back meanwhile (an insert of this id fails while the record exists).
    const core::ReferenceOutcome outcome =
        core::ApplyReferenceChange(ctx.Io(context_->settings().concurrency), {id, {}, references, false});
    if (!outcome.failures.empty()) {
      const PartitionFailure& first = outcome.failures.front();
      const ErrorCode code = first.code == ErrorCode::kNotFound ? ErrorCode::kIOError : first.code;
      ThrowError(code,
                 "record '" + id + "' of resource '" + name_ + "' was not deleted: removing its partition reference " +
                     first.key + " failed: " + first.message + " (delete it again, or run repair)",
                 name_, id);
    }
  }
  Status deleted = delete_record(at);
  if (!deleted.ok() && at && sync_references &&
      (deleted.code() == ErrorCode::kPreconditionFailed || deleted.code() == ErrorCode::kNotFound)) {
    // A write won the record after its references went: give back the ones it needs now.
    // Should this fail too, reads through the partition miss it until repair rebuilds them;
    // the caller still learns that its delete lost, which is what it asked.
    try {
      if (std::optional<std::set<std::string>> needed = ctx.CurrentReferenceKeys(id); needed && !needed->empty()) {
        core::ApplyReferenceChange(ctx.Io(context_->settings().concurrency),
                                   {id, std::vector<std::string>(needed->begin(), needed->end()), {}, false});
      }
    } catch (const Error&) {
    }
  }
  lost_race(deleted);
  if (!deleted.ok()) ctx.Fail(deleted, id, "deleting");
  if (!references.empty() && spec.definition.async_partitions) {
    // In the background the references go after the record; the restore step keeps those a
    // new record of the same id needs.
    references_->Push({id, {}, references, true});
  }
  core::UniqueIndex index = ctx.Index();
  for (const auto& [path, value] : core::RecordAccess::UniqueValues(spec, record.data)) index.Release(path, value, id);
}

Json Resource::ExportSchema() const {
  auto state = core::RecordAccess{context_, name_, references_.get()}.State();
  const core::VersionSpec& spec = state->current();
  Json out = spec.definition.Export();
  out["version"] = spec.version;
  Json fields = Json::object();
  for (const auto& f : spec.fields) fields[f.path] = f.key;
  out["fields"] = std::move(fields);
  return out;
}

}  // namespace s3db

#include "s3db/resource.h"

#include <chrono>
#include <mutex>
#include <random>
#include <thread>

#include "core/database_core.h"
#include "core/record_codec.h"
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

  // Validates (normalising) `data` under `spec`; throws ValidationError with every field.
  void Validate(const core::VersionSpec& spec, Json& data, const std::string& id) const {
    std::vector<FieldError> errors = core::ValidateRecord(spec.rules, data);
    if (!errors.empty()) {
      std::string subject = id.empty() ? "a new record" : "record '" + id + "'";
      throw ValidationError("resource '" + name + "': " + subject + " is invalid: " + ValidationSummary(errors),
                            std::move(errors), name, id);
    }
  }

  Record Decode(const std::string& id, const GetResult& got) const {
    int version = core::RecordVersion(got.info.metadata, name, id);
    auto state = core->StateWithVersion(name, version);
    const core::VersionSpec& spec = *state->versions.at(version);
    Record r;
    r.id = id;
    r.data = core::DecodeRecord(got.info.metadata, got.body, spec, name, id);
    r.etag = got.info.etag;
    r.last_modified_ms = got.info.last_modified_ms;
    r.schema_version = version;
    return r;
  }

  std::optional<Record> TryGet(const std::string& id) const {
    Result<GetResult> got = core->store().Get(Key(id));
    if (got.code() == ErrorCode::kNotFound) return std::nullopt;
    if (!got.ok()) Fail(got.status(), id, "reading");
    return Decode(id, *got);
  }

  // Encodes and writes `data` (validated under spec) with the given condition.
  Result<Record> Write(const core::VersionSpec& spec, const std::string& id, Json data, bool create_only,
                       const std::string& if_match) const {
    core::EncodedRecord encoded = core::EncodeRecord(data, spec, core->options().metadata_budget, name, id);
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
  Json data = input;
  std::string id;
  bool generated = true;
  if (auto it = data.find("id"); it != data.end()) {
    if (!it->is_string()) throw InvalidArgument("resource '" + name_ + "': the id must be a string, got " + it->dump(), name_);
    id = it->get<std::string>();
    generated = false;
    data.erase("id");
  } else {
    id = format::NewId();
  }
  ctx.Key(id);  // validates the id before any work
  if (spec.definition.timestamps) {
    std::string now = util::FormatIso8601Ms(util::NowMs());
    data["createdAt"] = now;
    data["updatedAt"] = now;
  }
  ctx.Validate(spec, data, generated ? "" : id);
  for (int attempt = 0;; ++attempt) {
    Result<Record> written = ctx.Write(spec, id, data, /*create_only=*/true, "");
    if (written.ok()) return std::move(written).value();
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
    Result<Record> written = ctx.Write(spec, id, std::move(data), false, current->etag);
    if (written.ok()) return std::move(written).value();
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
        continue;  // created meanwhile: update it instead
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
  if (!Exists(id)) throw NotFound("record '" + id + "' of resource '" + name_ + "' not found", name_, id);
  Status deleted = core_->store().Delete(ctx.Key(id));
  if (!deleted.ok()) ctx.Fail(deleted, id, "deleting");
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

// Resource: many records at once (bulk calls, listings, pages, queries, re-encryption).
#include "s3db/resource.h"

#include <map>
#include <set>

#include "format/key_layout.h"
#include "resource/bulk_item_error.h"
#include "resource/record_access.h"
#include "store/metadata_rules.h"
#include "util/parallel.h"
#include "util/time_format.h"

namespace s3db {

ReEncryptResult Resource::ReEncrypt() {
  core::RecordAccess ctx{context_, name_, references_.get()};
  auto state = ctx.State();
  ReEncryptResult out;
  out.resource = name_;
  if (!core::EntryHasSecrets(*state)) return out;  // no version ever had a secret field
  context_->RequireKeys(name_);
  const std::vector<std::string> ids = ctx.ListIds(0, std::nullopt);
  std::vector<char> outcome(ids.size(), 0);  // 1 rewritten
  std::vector<std::optional<BulkItemError>> errors(ids.size());
  const int attempts = context_->settings().max_update_attempts;
  util::ParallelFor(ids.size(), context_->settings().concurrency, [&](size_t i) {
    const std::string& id = ids[i];
    try {
      for (int attempt = 0;; ++attempt) {
        Result<GetResult> got = context_->store().Get(ctx.Key(id));
        if (got.code() == ErrorCode::kNotFound) return;  // deleted meanwhile
        if (!got.ok()) ctx.Fail(got.status(), id, "reading");
        std::set<uint64_t> key_ids;
        core::DecodeOptions options;
        options.sealed_key_ids = &key_ids;
        Record record = ctx.Decode(id, *got, options);
        const uint64_t current = context_->Keys().current_id();
        bool stale = false;
        for (uint64_t k : key_ids) stale |= k != current;
        if (!stale) return;
        // Rewritten under the version that wrote it: the data does not change, only the key.
        std::shared_ptr<const core::ResourceState> holder;
        const core::VersionSpec& spec = ctx.SpecOf(record.schema_version, &holder);
        Result<Record> written = ctx.Write(spec, id, record.data, false, record.etag, "reEncrypt");
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

GetManyResult Resource::GetMany(const std::vector<std::string>& ids) {
  core::RecordAccess ctx{context_, name_, references_.get()};
  ctx.State();
  std::vector<std::optional<Record>> slots(ids.size());
  std::vector<std::optional<BulkItemError>> errors(ids.size());
  std::vector<char> missing(ids.size(), 0);
  // The cached ones first, in one batch (the redis driver: one round trip); the rest below.
  std::vector<std::optional<GetResult>> cached;
  ReadCache* cache = context_->cache();
  if (!cache || !cache->caches_records()) {
    // Without a cache of records: one GetEach (the store's event loop, where it has one).
    std::vector<core::RecordAccess::ListedRecord> listed;
    listed.reserve(ids.size());
    for (const std::string& id : ids) listed.push_back({id, ""});
    std::vector<std::exception_ptr> failures;
    ctx.ReadInto(listed, nullptr, /*cached=*/false, slots, failures);
    for (size_t i = 0; i < ids.size(); ++i) {
      if (failures[i]) {
        try {
          std::rethrow_exception(failures[i]);
        } catch (const Error& e) {
          errors[i] = core::ItemError(i, ids[i], e);
        }
        continue;
      }
      missing[i] = !slots[i].has_value();
      if (slots[i]) {
        EmitEvent(events::kGet, [&] {
          return Json{{"resource", name_}, {"id", ids[i]}, {"record", RecordPayload(*slots[i])}};
        });
      }
    }
  } else if (ids.size() > 1) {
    std::vector<std::string> keys;
    keys.reserve(ids.size());
    for (const std::string& id : ids) keys.push_back(ReadCache::RecordKey(name_, id));
    cached = cache->PeekObjects(keys);
  }
  if (cache && cache->caches_records())
    util::ParallelFor(ids.size(), context_->settings().concurrency, [&](size_t i) {
      try {
        if (i < cached.size() && cached[i]) {
          auto state = ctx.State();
          ctx.RequireKeysFor(*state);
          slots[i] = ctx.Decode(ids[i], *cached[i], {}, std::move(state));
        } else {
          slots[i] = ctx.TryGet(ids[i], /*cached=*/true);
        }
        missing[i] = !slots[i].has_value();
        if (slots[i]) {
          EmitEvent(events::kGet, [&] {
            return Json{{"resource", name_}, {"id", ids[i]}, {"record", RecordPayload(*slots[i])}};
          });
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
  util::ParallelFor(ids.size(), context_->settings().concurrency, [&](size_t i) {
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
  return Guarded("getAll", "", [&] { return ReadListing({}); });
}

std::vector<Record> Resource::ReadListing(const ListOptions& options) {
  core::RecordAccess ctx{context_, name_, references_.get()};
  ctx.State();
  if (ReadCache* cache = context_->cache(); cache && cache->caches_queries()) {
    // The cached id listing, as before snapshots: the cache already spares the LISTs.
    return ctx.ReadAll(ListIds(options), /*cached=*/true, &options.on_error, options.offset);
  }
  // With ETags, so records the scan snapshot holds as they are need no GET.
  const core::RecordAccess::ScanListing listing = ctx.ListForScan(options.offset, options.limit, options.start_after);
  return ctx.ReadAll(listing.records, listing.snapshot.get(), /*cached=*/true, &options.on_error, options.offset);
}

size_t Resource::DeleteAll() {
  // Whatever happens, this process's cached reads of the resource are dropped.
  struct Drop {
    Resource* self;
    ~Drop() {
      if (ReadCache* cache = self->context_->cache()) cache->InvalidatePrefix(ReadCache::ResourcePrefix(self->name_));
    }
  } drop{this};
  // Works from the listing alone, so it also clears what a dropped resource left behind.
  // Background reference writes finish first, so none lands after the last page.
  references_->WaitIdle();
  core::RecordAccess ctx{context_, name_, references_.get()};
  ListRequest request;
  request.prefix = context_->layout().ResourcePrefix(name_);
  size_t records = 0;
  // Keys a DeleteObjects call refused: the rest are still deleted, then the call fails
  // naming them (run it again to retry them).
  std::vector<std::pair<std::string, Status>> failed;
  while (true) {
    // A fresh listing after the last key seen, not a continuation: those keys are gone.
    Result<ListPage> page = context_->store().List(request);
    if (!page.ok()) ctx.Fail(page.status(), "", "listing");
    if (page->objects.empty()) break;
    std::vector<std::string> keys;
    for (const auto& o : page->objects) keys.push_back(o.key);
    request.start_after = keys.back();
    Result<DeleteManyResult> deleted = context_->store().DeleteMany(keys);
    if (!deleted.ok()) ctx.Fail(deleted.status(), "", "deleting the records of");
    for (const auto& key : deleted->deleted) {
      if (context_->layout().IdFromRecordKey(name_, key)) ++records;
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
    ReadCache* cache = context_->cache();
    if (!cache || !cache->caches_queries()) return DoListIds(options);
    const Json params{{"offset", options.offset},
                      {"startAfter", options.start_after},
                      {"limit", options.limit ? Json(*options.limit) : Json()},
                      {"partition", options.partition},
                      {"values", options.partition_values},
                      {"verify", options.verify}};
    const Json ids =
        cache->GetJson(ReadCache::QueryKey(name_, "ids", params), [&] { return Json(DoListIds(options)); });
    return ids.get<std::vector<std::string>>();
  });
}

std::vector<std::string> Resource::DoListIds(const ListOptions& options) {
  core::RecordAccess ctx{context_, name_, references_.get()};
  auto state = ctx.State();
  if (auto target = ctx.Target(state->current(), options.partition, options.partition_values)) {
    if (!options.start_after.empty()) {
      throw InvalidArgument("resource '" + name_ + "': start_after lists the whole resource, not partition '" +
                                options.partition + "' (page a partition with offset)",
                            name_);
    }
    if (!options.verify) return ctx.ListReferencedIds(*target, options.offset, options.limit);
    return ctx.ScanPartition(*target, options.offset, options.limit, /*keep_records=*/false, /*count_all=*/false).ids;
  }
  return ctx.ListIds(options.offset, options.limit, options.start_after);
}

size_t Resource::Count(const ListOptions& options) { return ListIds(options).size(); }

std::vector<Record> Resource::List(const ListOptions& options) {
  return Guarded("list", "", [&] {
    core::RecordAccess ctx{context_, name_, references_.get()};
    auto state = ctx.State();
    if (auto target = ctx.Target(state->current(), options.partition, options.partition_values)) {
      ctx.RequireKeysFor(*state);
      return ctx
          .ScanPartition(*target, options.offset, options.limit, /*keep_records=*/true, /*count_all=*/false,
                         /*filter=*/nullptr, &options.on_error)
          .records;
    }
    return ReadListing(options);
  });
}

PageResult Resource::Page(const PageOptions& options) {
  core::RecordAccess ctx{context_, name_, references_.get()};
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
    core::RecordAccess::ScanResult scan =
        ctx.ScanPartition(*target, options.offset, options.size, true, !options.skip_count);
    if (!options.skip_count) {
      out.total_items = scan.matched;
      out.total_pages = (scan.matched + options.size - 1) / options.size;
    }
    out.items = std::move(scan.records);
    return out;
  }
  core::RecordAccess::ScanListing listing;
  if (options.skip_count) {
    listing = ctx.ListForScan(options.offset, options.size);
  } else {
    listing = ctx.ListForScan(0, std::nullopt);  // one listing gives both
    std::vector<core::RecordAccess::ListedRecord>& all = listing.records;
    out.total_items = all.size();
    out.total_pages = (all.size() + options.size - 1) / options.size;
    const size_t from = std::min(options.offset, all.size());
    all.erase(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(from));
    if (all.size() > options.size) all.resize(options.size);
    if (all.size() < core::RecordAccess::kSnapshotMinRecords) listing.snapshot.reset();
  }
  out.items = ctx.ReadAll(listing.records, listing.snapshot.get(), /*cached=*/true);
  return out;
}

std::vector<Record> Resource::Query(const Json& filter, const ListOptions& options) {
  core::RecordAccess ctx{context_, name_, references_.get()};
  if (!filter.is_object())
    throw InvalidArgument("resource '" + name_ + "': a query filter must be a JSON object", name_);
  auto state = ctx.State();
  const core::VersionSpec& spec = state->current();
  std::optional<core::RecordAccess::PartitionTarget> target =
      ctx.Target(spec, options.partition, options.partition_values);
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
      target = core::RecordAccess::PartitionTarget{&p, core::ValueSegments(name_, p, values, /*require_all=*/true)};
    }
  }
  if (target) {
    ctx.RequireKeysFor(*state);
    return ctx.ScanPartition(*target, options.offset, options.limit, true, false, &filter, &options.on_error).records;
  }
  const core::RecordAccess::ScanListing listing = ctx.ListForScan(0, std::nullopt);
  const std::vector<core::RecordAccess::ListedRecord>& listed = listing.records;
  const std::shared_ptr<core::ScanSnapshot>& snapshot = listing.snapshot;
  std::vector<Record> out;
  size_t skipped = 0;
  // From a snapshot a batch is decoding, not GETs: larger batches keep the threads busy.
  const size_t batch = static_cast<size_t>(context_->settings().concurrency) * (snapshot ? 64 : 4);
  for (size_t start = 0; start < listed.size(); start += batch) {
    std::vector<core::RecordAccess::ListedRecord> chunk(
        listed.begin() + static_cast<std::ptrdiff_t>(start),
        listed.begin() + static_cast<std::ptrdiff_t>(std::min(listed.size(), start + batch)));
    for (auto& record : ctx.ReadAll(chunk, snapshot.get(), /*cached=*/true, &options.on_error, start)) {
      if (!core::MatchesFilter(record, filter)) continue;
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

// Resource: reads through partitions, their repair, and streaming scans.
#include "s3db/resource.h"

#include <map>
#include <set>

#include "format/key_layout.h"
#include "resource/bulk_item_error.h"
#include "resource/record_access.h"
#include "resource/record_scan.h"
#include "store/metadata_rules.h"
#include "util/parallel.h"
#include "util/time_format.h"

namespace s3db {

std::vector<Record> Resource::ListByPartition(const std::string& partition, const Json& values,
                                              const ListOptions& options) {
  if (partition.empty()) throw InvalidArgument("resource '" + name_ + "': ListByPartition needs a partition", name_);
  ListOptions through = options;
  through.partition = partition;
  through.partition_values = values;
  return List(through);
}

Record Resource::GetFromPartition(const std::string& id, const std::string& partition, const Json& values) {
  core::RecordAccess ctx{context_, name_, references_.get()};
  auto state = ctx.State();
  const core::PartitionSpec& p = ctx.PartitionOf(state->current(), partition);
  const format::PartitionSegments segments = core::ValueSegments(name_, p, values, /*require_all=*/true);
  const std::string key = context_->layout().PartitionKey(name_, p.name, segments, id);
  // The record's data decides, not the reference: a record whose reference a crash left
  // unwritten is still found, and a stale reference never returns a record that moved.
  std::optional<Record> record = ctx.TryGet(id);
  const auto now = record ? core::RecordSegments(p, record->data) : std::nullopt;
  if (!now || context_->layout().PartitionKey(name_, p.name, *now, id) != key) {
    throw NotFound("record '" + id + "' of resource '" + name_ + "' " +
                       (record ? "is not in partition '" + partition + "' with " + values.dump() : "does not exist"),
                   name_, id);
  }
  return std::move(*record);
}

std::optional<std::string> Resource::GetPartitionKey(const std::string& partition, const std::string& id,
                                                     const Json& data) const {
  core::RecordAccess ctx{context_, name_, references_.get()};
  ctx.CheckId(id);
  auto state = ctx.State();
  const core::PartitionSpec& p = ctx.PartitionOf(state->current(), partition);
  const auto segments = core::RecordSegments(p, data);
  if (!segments) return std::nullopt;
  return context_->layout().PartitionKey(name_, p.name, *segments, id);
}

PartitionFlushResult Resource::FlushPartitions() { return references_->Flush(); }

PartitionRepairResult Resource::RepairPartitions(const PartitionRepairOptions& options) {
  // References change: cached listings through partitions are dropped, whatever happens.
  struct Drop {
    Resource* self;
    ~Drop() { self->InvalidateQueries(); }
  } drop{this};
  core::RecordAccess ctx{context_, name_, references_.get()};
  auto state = ctx.State();
  const core::VersionSpec& spec = state->current();
  references_->WaitIdle();  // this process's own background writes are not "missing"
  PartitionRepairResult out;
  out.resource = name_;
  out.dry_run = options.dry_run;
  const int concurrency = context_->settings().concurrency;

  // 0. What killed writers left in the store itself (the file store's temporary files).
  StaleTemporaryOptions sweep;
  sweep.prefix = context_->layout().ResourcePrefix(name_);
  sweep.max_age = options.temporary_max_age;
  sweep.dry_run = options.dry_run;
  Result<StaleTemporaryResult> swept = context_->store().RemoveStaleTemporaries(sweep);
  if (!swept.ok()) ctx.Fail(swept.status(), "", "removing the stale temporary files of");
  out.stale_temporaries = swept->stale;
  out.temporaries_removed = swept->removed;
  out.temporaries_kept = swept->kept;

  // 1. Every record, and the references its data needs.
  const std::vector<std::string> ids = ctx.ListIds(0, std::nullopt);
  std::vector<std::optional<std::map<std::string, std::string>>> needs(ids.size());
  std::vector<std::exception_ptr> errors(ids.size());
  util::ParallelFor(ids.size(), concurrency, [&](size_t i) {
    try {
      Result<GetResult> got = context_->store().Get(ctx.Key(ids[i]));
      if (got.code() == ErrorCode::kNotFound) return;  // deleted meanwhile
      if (!got.ok()) ctx.Fail(got.status(), ids[i], "reading");
      core::DecodeOptions decode;
      decode.skip_secrets = true;  // no partition field is secret: no passphrase needed
      needs[i] = ctx.ReferenceKeys(spec, ctx.Decode(ids[i], *got, decode).data, ids[i]);
    } catch (...) {
      errors[i] = std::current_exception();
    }
  });
  // A record that cannot be decoded (a corrupt object) is reported, not a reason to stop: its
  // references are kept as they are, since what it needs is unknown. Other errors (the store
  // failing) stop the repair, which must not judge references on a partial view.
  std::set<std::string> unreadable;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (!errors[i]) continue;
    try {
      std::rethrow_exception(errors[i]);
    } catch (const Corruption& e) {
      unreadable.insert(ids[i]);
      out.failures.push_back({ids[i], "", ctx.Key(ids[i]), "read", ErrorCode::kCorruption, e.what()});
    }
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
  request.prefix = context_->layout().PartitionsRoot(name_);
  while (true) {
    Result<ListPage> page = context_->store().List(request);
    if (!page.ok()) ctx.Fail(page.status(), "", "listing the partition references of");
    for (const auto& object : page->objects) {
      ++out.references;
      if (expected.count(object.key)) {
        present.insert(object.key);
        continue;
      }
      PartitionRepairExample orphan;
      orphan.key = object.key;
      const auto parts = context_->layout().ParsePartitionKey(name_, object.key);
      if (parts && unreadable.count(parts->id)) continue;  // unknown whether it is needed: kept
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
    auto parts = context_->layout().ParsePartitionKey(name_, key);
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
  util::ParallelFor(changes.size(), concurrency,
                    [&](size_t i) { outcomes[i] = core::ApplyReferenceChange(io, changes[i]); });
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
    core::RecordAccess ctx{context_, name_, references_.get()};
    auto state = ctx.State();  // kept alive by the source: `target` points into it
    const std::optional<core::RecordAccess::PartitionTarget> target =
        ctx.Target(state->current(), options.partition, options.partition_values);
    ctx.RequireKeysFor(*state);
    // Keys are listed a page at a time in key order, not by the parallel key-range lister
    // (ListIds), which holds every key in memory. That costs no speed: a LIST of 1000 keys is
    // made while the GETs of the page before run, so it never bounds a scan.
    ListRequest request;
    request.prefix = target ? context_->layout().PartitionValuesPrefix(name_, target->partition->name, target->segments)
                            : context_->layout().RecordPrefix(name_);
    core::ScanSource source;
    source.page_size = static_cast<size_t>(request.max_keys);
    // The scan snapshot, looked up once the first page shows the scan is worth one; set by
    // the lister before it hands out that page's candidates, read by the readers after.
    auto snapshot = std::make_shared<std::shared_ptr<core::ScanSnapshot>>();
    source.next_page = [context = context_, name = name_, target, state, request, snapshot, first = true,
                        more = true]() mutable -> std::optional<std::vector<core::ScanCandidate>> {
      if (!more) return std::nullopt;
      core::RecordAccess ctx{context, name, nullptr};
      Result<ListPage> page = context->store().List(request);
      if (!page.ok()) {
        ctx.Fail(page.status(), "", target ? "listing partition '" + target->partition->name + "' of" : "listing");
      }
      std::vector<core::ScanCandidate> candidates;
      for (const auto& object : page->objects) {
        if (target) {
          if (auto parts = context->layout().ParsePartitionKey(name, object.key)) {
            candidates.push_back({std::move(parts->id), object.key, ""});
          }
        } else if (auto id = context->layout().IdFromRecordKey(name, object.key)) {
          candidates.push_back({std::move(*id), object.key, object.etag});
        }
      }
      if (first && !target && (page->truncated || candidates.size() >= core::RecordAccess::kSnapshotMinRecords)) {
        *snapshot = ctx.SnapshotFor(core::RecordAccess::kSnapshotMinRecords);
      }
      first = false;
      more = page->truncated;
      request.continuation_token = page->next_continuation_token;
      return candidates;
    };
    // The store, not the cache: a scan over everything must not evict a cache's working set.
    // Through a partition, reading the record is the check that it still belongs there.
    source.read = [context = context_, name = name_, target, state,
                   snapshot](const core::ScanCandidate& c) -> std::optional<Record> {
      core::RecordAccess ctx{context, name, nullptr};
      if (target) return ctx.Verify(*target->partition, c.key, c.id, /*full=*/true, nullptr);
      return ctx.ReadListed({c.id, c.etag}, snapshot->get(), /*cached=*/false, state);
    };
    if (!target) {
      // The whole resource: the GETs go to the store's GetEach (its event loop, where it has
      // one), so the reads in flight need no thread each.
      source.read_each = [context = context_, name = name_, state, snapshot](const core::ScanSource::Next& next,
                                                                             const core::ScanSource::Done& done) {
        core::RecordAccess ctx{context, name, nullptr};
        ctx.ReadEachListed(
            [&]() -> std::optional<std::pair<size_t, core::RecordAccess::ListedRecord>> {
              std::optional<std::pair<size_t, core::ScanCandidate>> candidate = next();
              if (!candidate) return std::nullopt;
              return std::make_pair(
                  candidate->first,
                  core::RecordAccess::ListedRecord{std::move(candidate->second.id), std::move(candidate->second.etag)});
            },
            [&] { return snapshot->get(); }, state, done);
      };
    }
    const int concurrency = std::max(1, context_->settings().concurrency);
    const size_t prefetch = options.prefetch ? options.prefetch : 4 * static_cast<size_t>(concurrency);
    return RecordScan(std::make_unique<RecordScan::Impl>(std::move(source), prefetch, concurrency, options.on_error));
  });
}

}  // namespace s3db

// Resource::InsertMany: many records written through one PutEach, so the S3 store sends them
// from its event loop (a handful of threads, whatever the concurrency).
//
// Each item goes through what Insert does, in the same order, split around the writes:
//  1. as the store pulls the next request: the before-insert hooks, the id, timestamps and
//     validation, the encoding (one item at a time, in order, on the pulling thread);
//  2. the create-only PUT, with every other item's in flight;
//  3. once all are answered: the partition references of the records written, together in
//     one more PutEach (written after their records, as Insert writes them);
//  4. per record, in order: the cache dropped, the after-insert hooks, the insert event.
// A generated id that collides (astronomically unlikely) is inserted again alone, as Insert
// would redraw it. A resource with unique fields takes the per-record path (InsertEach): its
// claims are a protocol of several requests per record.
#include <exception>
#include <optional>

#include "resource/bulk_item_error.h"
#include "resource/record_access.h"
#include "s3db/resource.h"
#include "util/parallel.h"

namespace s3db {
namespace {

// One item between its encoding and its record.
struct PendingInsert {
  std::string id;
  bool generated = true;
  Json data;  // as validated (the id taken out)
  std::map<std::string, std::string> reference_keys;
  core::RecordAccess::PreparedWrite write;
  std::optional<Result<ObjectInfo>> written;  // the PUT's answer
};

}  // namespace

InsertManyResult Resource::InsertEach(const std::vector<Json>& items) {
  std::vector<std::optional<Record>> slots(items.size());
  std::vector<std::optional<BulkItemError>> errors(items.size());
  util::ParallelFor(items.size(), context_->settings().concurrency, [&](size_t i) {
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

InsertManyResult Resource::InsertMany(const std::vector<Json>& items) {
  core::RecordAccess ctx{context_, name_, references_.get()};
  std::shared_ptr<const core::ResourceState> state;
  try {
    state = ctx.State();
  } catch (const Error&) {
    return InsertEach(items);  // each item says why (a resource that does not exist)
  }
  const core::VersionSpec& spec = state->current();
  if (!spec.schema.UniqueFields().empty()) return InsertEach(items);

  const size_t n = items.size();
  std::vector<std::optional<PendingInsert>> pending(n);
  std::vector<std::exception_ptr> failures(n);
  std::vector<size_t> item_of(n);  // the item of each PUT, by its index in PutEach
  size_t next_item = 0;
  size_t sent = 0;
  auto next = [&]() -> std::optional<PutRequest> {
    while (next_item < n) {
      const size_t i = next_item++;
      const std::string given_id = core::GivenId(items[i]);
      try {
        Guarded("insert", given_id, [&] {
          core::RefuseTooDeep(name_, given_id, items[i]);
          if (!items[i].is_object()) {
            throw InvalidArgument("resource '" + name_ + "': a record must be a JSON object", name_);
          }
          Json data = items[i];
          // May change the data (an object still: the registry refuses anything else), or
          // abort before anything is written.
          hooks_.RunPreInsert(data);
          ctx.RequireKeysFor(*state);
          PendingInsert p;
          p.reference_keys = ctx.PrepareInsert(spec, data, &p.id, &p.generated);
          p.write = ctx.PrepareWrite(spec, p.id, data, /*create_only=*/true, "");
          p.data = std::move(data);
          pending[i] = std::move(p);
        });
      } catch (...) {
        failures[i] = std::current_exception();
        continue;
      }
      item_of[sent++] = i;
      return std::move(pending[i]->write.put);
    }
    return std::nullopt;
  };
  PutEachOptions options;
  options.concurrency = context_->settings().concurrency;
  context_->store().PutEachFrom(next, options, [&](size_t index, const Result<ObjectInfo>& written) {
    pending[item_of[index]]->written = written;
  });

  // The records written; the rest fail as Insert fails.
  std::vector<std::optional<Record>> records(n);
  for (size_t i = 0; i < n; ++i) {
    if (!pending[i]) continue;
    PendingInsert& p = *pending[i];
    try {
      records[i] = Guarded("insert", p.id, [&]() -> Record {
        const Result<ObjectInfo>& written = *p.written;
        if (written.ok()) return ctx.FinishWrite(spec, p.id, p.data, p.write, *written, "insert");
        if (written.code() == ErrorCode::kPreconditionFailed) {
          if (p.generated) {
            return DoInsert(std::move(p.data));  // draws another id, writes it alone
          }
          throw AlreadyExists("record '" + p.id + "' of resource '" + name_ + "' already exists", name_, p.id);
        }
        ctx.Fail(written.status(), p.id, "inserting");
      });
    } catch (...) {
      failures[i] = std::current_exception();
    }
  }

  // Their references, all at once: after the records, as Insert writes them.
  std::vector<core::ReferenceChange> changes;
  std::vector<size_t> change_item;
  for (size_t i = 0; i < n; ++i) {
    if (!records[i] || pending[i]->id != records[i]->id) continue;  // a redrawn id wrote its own
    std::vector<std::string> keys = core::KeysOf(pending[i]->reference_keys);
    if (keys.empty()) continue;
    changes.push_back(core::ReferenceChange{records[i]->id, std::move(keys), {}, false});
    change_item.push_back(i);
  }
  if (!changes.empty()) {
    std::vector<std::exception_ptr> failed = ctx.PublishNewReferences(spec, std::move(changes), "inserted");
    for (size_t c = 0; c < failed.size(); ++c) {
      if (!failed[c]) continue;
      const size_t i = change_item[c];
      try {
        Guarded("insert", records[i]->id, [&] { std::rethrow_exception(failed[c]); });
      } catch (...) {
        failures[i] = std::current_exception();
      }
      InvalidateCached(records[i]->id);
      records[i].reset();
    }
  }

  InsertManyResult out;
  for (size_t i = 0; i < n; ++i) {
    if (records[i]) {
      Record& record = *records[i];
      try {
        Guarded("insert", record.id, [&] {
          InvalidateCached(record.id);
          hooks_.RunAfterInsert(record, hook_relay_);
          EmitEvent(events::kInsert, [&] {
            return Json{{"resource", name_}, {"id", record.id}, {"record", RecordPayload(record)}};
          });
        });
        out.inserted.push_back(std::move(record));
        continue;
      } catch (...) {
        failures[i] = std::current_exception();
      }
    }
    if (failures[i]) {
      try {
        std::rethrow_exception(failures[i]);
      } catch (const std::exception& e) {
        out.errors.push_back(core::ItemError(i, core::GivenId(items[i]), e));
      }
    }
  }
  return out;
}

UpsertManyResult Resource::UpsertMany(const std::vector<Json>& items) {
  core::RecordAccess ctx{context_, name_, references_.get()};
  const size_t n = items.size();
  std::vector<std::optional<Record>> records(n);
  std::vector<std::optional<BulkItemError>> errors(n);
  std::vector<std::string> ids(n);
  // Runs `step` for item i as Upsert would (its error event included); a failure is the item's.
  auto as_upsert = [&](size_t i, const auto& step) {
    try {
      Guarded("upsert", ids[i], step);
    } catch (const std::exception& e) {
      errors[i] = core::ItemError(i, ids[i], e);
    }
  };
  // Which exist: one GET each, together (Upsert sends a HEAD; GetEach reads).
  std::vector<std::string> keys;
  std::vector<size_t> key_item;
  for (size_t i = 0; i < n; ++i) {
    ids[i] = core::GivenId(items[i]);
    as_upsert(i, [&] {
      core::RefuseTooDeep(name_, ids[i], items[i]);
      if (!items[i].is_object()) {
        throw InvalidArgument("resource '" + name_ + "': a record must be a JSON object", name_, ids[i]);
      }
      if (ids[i].empty()) {
        throw InvalidArgument("resource '" + name_ + "': a record has no \"id\" string, which an upsert needs", name_);
      }
      keys.push_back(ctx.Key(ids[i]));  // checks the id
      key_item.push_back(i);
    });
  }
  std::vector<Status> found(keys.size());
  if (!keys.empty()) {
    ctx.State();  // NotFound for a resource that does not exist, before any request
    GetEachOptions options;
    options.concurrency = context_->settings().concurrency;
    context_->store().GetEach(
        keys, options,
        [&](size_t index, const Status& status, const ObjectInfo&, const std::string&) { found[index] = status; });
  }
  std::vector<Json> inserts;
  std::vector<size_t> insert_item;
  std::vector<size_t> update_item;
  for (size_t k = 0; k < keys.size(); ++k) {
    const size_t i = key_item[k];
    if (found[k].code() == ErrorCode::kNotFound) {
      Json with_id = items[i];
      with_id["id"] = ids[i];
      inserts.push_back(std::move(with_id));
      insert_item.push_back(i);
    } else if (found[k].ok() || found[k].code() == ErrorCode::kCorruption) {
      update_item.push_back(i);  // there, though maybe unreadable (Update says why)
    } else {
      as_upsert(i, [&] { ctx.Fail(found[k], ids[i], "checking"); });
    }
  }
  // The absent ones, together. One created meanwhile (or whose unique value is taken) goes
  // through Upsert alone, which says which.
  std::vector<size_t> again;
  if (!inserts.empty()) {
    InsertManyResult inserted = InsertMany(inserts);
    std::vector<char> failed(inserts.size(), 0);
    for (BulkItemError& e : inserted.errors) {
      failed[e.index] = 1;
      const size_t i = insert_item[e.index];
      if (e.code == ErrorCode::kAlreadyExists) {
        again.push_back(i);
      } else {
        e.index = i;
        errors[i] = std::move(e);
      }
    }
    size_t next = 0;
    for (size_t j = 0; j < inserts.size(); ++j) {
      if (!failed[j]) records[insert_item[j]] = std::move(inserted.inserted[next++]);
    }
  }
  // The rest as Upsert updates them (read, merge, write at the ETag), a thread each; one
  // deleted meanwhile, or created meanwhile, goes through Upsert itself.
  util::ParallelFor(update_item.size() + again.size(), context_->settings().concurrency, [&](size_t u) {
    const bool exists = u < update_item.size();
    const size_t i = exists ? update_item[u] : again[u - update_item.size()];
    as_upsert(i, [&] {
      if (!exists) {
        records[i] = Upsert(ids[i], items[i]);
        return;
      }
      try {
        records[i] = Update(ids[i], items[i]);
      } catch (const NotFound&) {
        records[i] = Upsert(ids[i], items[i]);
      }
    });
  });
  UpsertManyResult out;
  for (size_t i = 0; i < n; ++i) {
    if (records[i]) out.upserted.push_back(std::move(*records[i]));
    if (errors[i]) out.errors.push_back(std::move(*errors[i]));
  }
  return out;
}

}  // namespace s3db

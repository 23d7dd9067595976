// MigrateFromS3dbJs: s3db.js resources -> s3db resources, resumable, through the public API.
//
// Each resource's id space is cut into key ranges copied in parallel; each range records the
// last id it finished in a checkpoint object under the target prefix
// ("<prefix>/migrations/from-s3dbjs/resource=<name>.json"), written with If-Match so two
// migrations of one resource cannot both advance it. A re-run starts each range after its
// checkpoint; the records between the last checkpoint and a crash are inserted again, and
// insert-if-absent makes that harmless: a record already here and equal counts as present,
// one that differs is reported and left alone.
#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include "s3db/database.h"
#include "s3db/resource.h"
#include "s3db/s3dbjs.h"
#include "s3db/stores.h"
#include "util/text.h"

namespace s3db {
namespace {

// The ids of s3db.js's default generator (nanoid's URL alphabet) in byte order: range
// boundaries spread over it.
constexpr std::string_view kIdAlphabet = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";

struct RangeState {
  std::string start;  // ids > start ("" from the first)
  std::string end;    // ids <= end ("" to the last)
  std::string after;  // the last id finished ("" none)
  bool done = false;
};

Json RangeToJson(const RangeState& r) {
  return Json{{"start", r.start}, {"end", r.end}, {"after", r.after}, {"done", r.done}};
}

std::vector<RangeState> SplitRanges(int count) {
  std::vector<RangeState> ranges(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) {
    if (i > 0) ranges[i].start = std::string(1, kIdAlphabet[kIdAlphabet.size() * i / count]);
    if (i + 1 < count) ranges[i].end = std::string(1, kIdAlphabet[kIdAlphabet.size() * (i + 1) / count]);
  }
  return ranges;
}

// The checkpoint of one resource: its ranges, read and written as one object.
class Checkpoint {
 public:
  Checkpoint(ObjectStore& store, std::string key, std::string source)
      : store_(store), key_(std::move(key)), source_(std::move(source)) {}

  // Loads the ranges of an earlier run, or starts `count` new ones. True when resumed.
  bool Load(int count) {
    Result<GetResult> got = store_.Get(key_);
    if (got.ok()) {
      Json doc = Json::parse(got->body, nullptr, false);
      if (doc.is_object() && doc["ranges"].is_array() && !doc["ranges"].empty()) {
        for (const Json& r : doc["ranges"]) {
          ranges_.push_back({r.value("start", ""), r.value("end", ""), r.value("after", ""), r.value("done", false)});
        }
        etag_ = got->info.etag;
        return true;
      }
    } else if (got.code() != ErrorCode::kNotFound) {
      ThrowIfError(got.status());
    }
    ranges_ = SplitRanges(count);
    Save(nullptr);
    return false;
  }

  std::vector<RangeState> ranges() {
    std::lock_guard<std::mutex> lock(mutex_);
    return ranges_;
  }

  // Records that range `index` finished every id up to `after` (and all of it when `done`).
  void Advance(size_t index, const std::string& after, bool done) {
    std::lock_guard<std::mutex> lock(mutex_);
    ranges_[index].after = after;
    ranges_[index].done = done;
    Save(&lock);
  }

  bool AllDone() {
    std::lock_guard<std::mutex> lock(mutex_);
    return std::all_of(ranges_.begin(), ranges_.end(), [](const RangeState& r) { return r.done; });
  }

 private:
  void Save(std::lock_guard<std::mutex>* held) {
    (void)held;  // the caller holds mutex_ (or no other thread runs yet)
    Json doc{{"format", "s3db migrate from-s3dbjs checkpoint v1"}, {"source", source_}, {"ranges", Json::array()}};
    for (const RangeState& r : ranges_) doc["ranges"].push_back(RangeToJson(r));
    PutRequest put;
    put.key = key_;
    put.body = doc.dump();
    put.content_type = "application/json";
    if (etag_.empty()) {
      put.if_none_match_star = true;
    } else {
      put.if_match = etag_;
    }
    Result<ObjectInfo> written = store_.Put(put);
    if (written.code() == ErrorCode::kPreconditionFailed) {
      throw Conflict("the migration checkpoint '" + key_ +
                     "' was changed by another run: is a second `s3db migrate from-s3dbjs` copying the same resource?");
    }
    ThrowIfError(written.status());
    etag_ = written->etag;
  }

  ObjectStore& store_;
  std::string key_;
  std::string source_;
  std::mutex mutex_;
  std::vector<RangeState> ranges_;
  std::string etag_;
};

// Serializes the callbacks and keeps the counts of one resource.
class Reporter {
 public:
  Reporter(const S3dbJsMigrationOptions& options, S3dbJsMigrationResult* result, S3dbJsResourceSummary* summary)
      : options_(options), result_(result), summary_(summary) {}

  void Error(const std::string& id, const std::string& stage, const std::string& code, const std::string& message) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++result_->errors;
    if (!id.empty()) ++summary_->failed;
    if (options_.on_error) options_.on_error({summary_->name, id, stage, code, message});
  }
  void Count(size_t S3dbJsResourceSummary::*field) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++(summary_->*field);
  }
  void Dropped(const std::vector<std::string>& paths) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const std::string& path : paths) ++summary_->undeclared_dropped[path];
  }
  void Progress(size_t done, bool finished) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (options_.on_progress) options_.on_progress({summary_->name, done, finished});
  }
  void Mismatch(const std::string& id, const std::string& message) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++result_->errors;
    ++summary_->mismatched;
    if (options_.on_error) options_.on_error({summary_->name, id, "verify", "mismatch", message});
  }

 private:
  const S3dbJsMigrationOptions& options_;
  S3dbJsMigrationResult* result_;
  S3dbJsResourceSummary* summary_;
  std::mutex mutex_;
};

// The top-level fields that differ, by name only (a secret's value is never shown).
std::string Difference(const Json& source, const Json& target) {
  std::vector<std::string> fields;
  for (const auto& [key, value] : source.items()) {
    if (!target.contains(key) || target[key] != value) fields.push_back(key);
  }
  for (const auto& [key, value] : target.items()) {
    if (!source.contains(key)) fields.push_back(key);
  }
  std::string out;
  for (const auto& f : fields) out += (out.empty() ? "" : ", ") + f;
  return "fields differ: " + out;
}

// What the source record becomes here: its data without the fields left out.
Json TargetData(const S3dbJsResourceInfo& info, const S3dbJsRecord& record) {
  Json data = record.data;
  for (const S3dbJsUntranslatable& field : info.untranslatable) {
    std::vector<std::string> parts = util::Split(field.path, '.');
    Json* at = &data;
    for (size_t i = 0; i + 1 < parts.size() && at && at->is_object(); ++i) {
      auto it = at->find(parts[i]);
      at = it != at->end() ? &*it : nullptr;
    }
    if (at && at->is_object()) at->erase(parts.back());
  }
  return data;
}

// Takes out of `data` the fields `attributes` does not declare (at any depth of nested
// objects), adding their dotted paths to `dropped`. s3db.js's get() returns such fields
// when its update() leaked bookkeeping into the record ("metadata", "metadata_updatedat");
// s3db's schema refuses them, so they are left out and counted, never renamed.
void DropUndeclared(const Json& attributes, const std::string& prefix, bool top, bool timestamps, Json* data,
                    std::vector<std::string>* dropped) {
  for (auto it = data->begin(); it != data->end();) {
    const std::string& key = it.key();
    const std::string path = prefix.empty() ? key : prefix + "." + key;
    if (top && timestamps && (key == "createdAt" || key == "updatedAt")) {
      ++it;
      continue;
    }
    auto rule = attributes.find(key);
    if (rule == attributes.end()) {
      dropped->push_back(path);
      it = data->erase(it);
      continue;
    }
    // A nested object of fields (not a rule object, which has "type").
    if (rule->is_object() && !rule->contains("type") && it->is_object()) {
      DropUndeclared(*rule, path, false, false, &*it, dropped);
    }
    ++it;
  }
}

// Runs `work(range index)` on one thread per range and waits; the first exception wins.
void ForEachRange(size_t count, const std::function<void(size_t)>& work) {
  std::vector<std::thread> threads;
  std::exception_ptr failure;
  std::mutex failure_mutex;
  for (size_t i = 0; i < count; ++i) {
    threads.emplace_back([&, i] {
      try {
        work(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(failure_mutex);
        if (!failure) failure = std::current_exception();
      }
    });
  }
  for (auto& t : threads) t.join();
  if (failure) std::rethrow_exception(failure);
}

// Calls `each(id)` for every id of the range after `from`, a page at a time; `page_done(last
// id)` after each page.
void WalkRange(const S3dbJsDatabase& source, const std::string& name, const RangeState& range, const std::string& from,
               size_t page_size, const std::function<void(const std::string&)>& each,
               const std::function<void(const std::string&, bool)>& page_done, const std::function<bool()>& stop) {
  std::string after = std::max(from, range.start);
  for (;;) {
    std::vector<std::string> ids = source.ListIds(name, after, page_size);
    bool finished = ids.empty();
    std::string last = after;
    for (const std::string& id : ids) {
      if (!range.end.empty() && id > range.end) {
        finished = true;
        break;
      }
      if (stop && stop()) return;  // the checkpoint keeps what is done
      each(id);
      last = id;
    }
    if (ids.size() < page_size) finished = true;
    page_done(last, finished);
    if (finished) return;
    after = last;
  }
}

std::string CodeName(const Error& e) { return ErrorCodeName(e.code()); }

bool SameLocation(const StoreUri& a, const StoreUri& b) {
  return a.scheme == b.scheme && a.bucket == b.bucket && a.path == b.path && a.endpoint == b.endpoint &&
         a.prefix == b.prefix;
}

}  // namespace

Json S3dbJsMigrationError::ToJson() const {
  return Json{{"resource", resource}, {"id", id}, {"stage", stage}, {"code", code}, {"message", message}};
}

Json S3dbJsResourceSummary::ToJson() const {
  Json untranslated = Json::array();
  for (const auto& u : untranslatable)
    untranslated.push_back({{"path", u.path}, {"rule", u.rule}, {"reason", u.reason}});
  return Json{{"resource", name},
              {"migrated", migrated},
              {"resumed", resumed},
              {"source_records", source_records},
              {"copied", copied},
              {"already_present", already_present},
              {"failed", failed},
              {"verified", verified},
              {"mismatched", mismatched},
              {"undeclared_dropped", undeclared_dropped},
              {"untranslatable", untranslated}};
}

Json S3dbJsMigrationResult::ToJson() const {
  Json list = Json::array();
  for (const auto& r : resources) list.push_back(r.ToJson());
  return Json{{"s3dbjs_version", s3db_version}, {"errors", errors}, {"interrupted", interrupted}, {"resources", list}};
}

S3dbJsMigrationResult MigrateFromS3dbJs(const S3dbJsMigrationOptions& options) {
  if (options.ranges < 1 || options.ranges > 64) {
    throw InvalidArgument("ranges must be 1..64, got " + std::to_string(options.ranges));
  }
  if (options.checkpoint_every < 1) throw InvalidArgument("checkpoint_every must be at least 1");
  Result<StoreUri> from_uri = ParseStoreUri(options.from);
  ThrowIfError(from_uri.status());
  Result<StoreUri> to_uri = ParseStoreUri(options.to);
  ThrowIfError(to_uri.status());
  if (SameLocation(*from_uri, *to_uri)) {
    throw InvalidArgument("the s3db.js source and the s3db target are the same place (" + from_uri->ToString() +
                          "): give the target another prefix");
  }

  std::unique_ptr<S3dbJsDatabase> source = S3dbJsDatabase::Open({options.from, options.from_passphrase});
  std::vector<std::string> names = options.resources.empty() ? source->ResourceNames() : options.resources;
  for (const std::string& name : names) source->resource(name);  // NotFound before any work

  DatabaseOptions target_options;
  target_options.uri = options.to;
  if (!options.to_passphrase.empty()) target_options.passphrase = options.to_passphrase;
  std::unique_ptr<Database> target = Database::Connect(target_options);
  const std::string base = to_uri->prefix.empty() ? "" : to_uri->prefix + "/";

  S3dbJsMigrationResult result;
  result.s3db_version = source->s3db_version();
  result.resources.reserve(names.size());
  for (const std::string& name : names) {
    const S3dbJsResourceInfo& info = source->resource(name);
    result.resources.push_back({});
    S3dbJsResourceSummary& summary = result.resources.back();
    summary.name = name;
    summary.untranslatable = info.untranslatable;
    Reporter report(options, &result, &summary);

    if (!info.untranslatable.empty() && !options.drop_untranslatable) {
      for (const auto& u : info.untranslatable) {
        report.Error("", "schema", "unsupported",
                     "field '" + u.path + "' (" + u.rule + ") is not translated: " + u.reason +
                         "; the resource is not migrated (--drop-untranslatable leaves the field out)");
      }
      continue;
    }
    // The resource here: created from the translation, or the one an earlier run created.
    try {
      if (target->ResourceExists(name)) {
        const ResourceDefinition here = target->resource(name).definition();
        if (here.DefinitionHash() != info.translated.DefinitionHash()) {
          report.Error("", "schema", "already_exists",
                       "a resource '" + name + "' with another definition already exists in the target; not touched");
          continue;
        }
      } else if (options.copy) {
        target->CreateResource(info.translated);
      } else {
        report.Error("", "verify", "not_found", "resource '" + name + "' does not exist in the target");
        continue;
      }
    } catch (const Error& e) {
      report.Error("", "schema", CodeName(e), e.what());
      continue;
    }
    Resource& resource = target->resource(name);
    summary.migrated = true;

    if (options.copy) {
      Checkpoint checkpoint(target->store(), base + "migrations/from-s3dbjs/resource=" + name + ".json",
                            MaskedUri(options.from));
      summary.resumed = checkpoint.Load(options.ranges);
      std::vector<RangeState> ranges = checkpoint.ranges();
      std::atomic<size_t> done{0};
      std::vector<std::string> stopped_after(ranges.size());  // each range's last id when stopped
      ForEachRange(ranges.size(), [&](size_t index) {
        const RangeState& range = ranges[index];
        if (range.done) return;
        size_t since_checkpoint = 0;
        std::string& last_done = stopped_after[index];
        last_done = range.after;
        WalkRange(
            *source, name, range, range.after, std::min<size_t>(options.checkpoint_every, 1000),
            [&](const std::string& id) {
              std::optional<S3dbJsRecord> record;
              try {
                record = source->Get(name, id);
              } catch (const Error& e) {
                report.Error(id, "read", CodeName(e), e.what());
              }
              if (record) {
                report.Count(&S3dbJsResourceSummary::source_records);
                Json data = TargetData(info, *record);
                std::vector<std::string> dropped;
                DropUndeclared(info.translated.attributes, "", true, info.translated.timestamps, &data, &dropped);
                if (!dropped.empty()) report.Dropped(dropped);
                Json with_id = data;
                with_id["id"] = id;
                try {
                  resource.InsertKeepingTimestamps(with_id);
                  report.Count(&S3dbJsResourceSummary::copied);
                } catch (const AlreadyExists&) {
                  // An earlier run (or someone) wrote it: equal is done, different is reported.
                  std::optional<Record> here = resource.TryGet(id);
                  if (here && here->data == data) {
                    report.Count(&S3dbJsResourceSummary::already_present);
                  } else {
                    report.Error(id, "write", "already_exists",
                                 "a different record '" + id + "' already exists in the target; left as it is (" +
                                     (here ? Difference(data, here->data) : std::string("unreadable")) + ")");
                  }
                } catch (const Error& e) {
                  report.Error(id, "write", CodeName(e), e.what());
                }
              }
              last_done = id;
              report.Progress(++done, false);
              if (++since_checkpoint >= options.checkpoint_every) {
                checkpoint.Advance(index, last_done, false);
                since_checkpoint = 0;
              }
            },
            [&](const std::string& last, bool finished) {
              if (finished) checkpoint.Advance(index, last.empty() ? last_done : last, true);
            },
            options.should_stop);
      });
      // Stopped: what the ranges finished since their last checkpoint is recorded too.
      if (options.should_stop && options.should_stop()) {
        result.interrupted = true;
        for (size_t index = 0; index < ranges.size(); ++index) {
          if (!ranges[index].done && !stopped_after[index].empty()) {
            checkpoint.Advance(index, stopped_after[index], false);
          }
        }
        return result;
      }
      report.Progress(done, true);
    }

    if (options.verify) {
      const std::vector<RangeState> ranges = SplitRanges(options.ranges);
      std::atomic<size_t> seen{0};
      ForEachRange(ranges.size(), [&](size_t index) {
        WalkRange(
            *source, name, ranges[index], "", 1000,
            [&](const std::string& id) {
              try {
                std::optional<S3dbJsRecord> record = source->Get(name, id);
                if (!record) return;  // deleted since
                Json data = TargetData(info, *record);
                std::vector<std::string> dropped;
                DropUndeclared(info.translated.attributes, "", true, info.translated.timestamps, &data, &dropped);
                std::optional<Record> here = resource.TryGet(id);
                if (!here) {
                  report.Mismatch(id, "record '" + id + "' is missing in the target");
                } else if (here->data != data) {
                  report.Mismatch(id, "record '" + id + "': " + Difference(data, here->data));
                } else {
                  report.Count(&S3dbJsResourceSummary::verified);
                }
              } catch (const Error& e) {
                report.Error(id, "verify", CodeName(e), e.what());
              }
              report.Progress(++seen, false);
            },
            [](const std::string&, bool) {}, options.should_stop);
      });
      if (options.should_stop && options.should_stop()) {
        result.interrupted = true;
        return result;
      }
      report.Progress(seen, true);
    }
  }
  return result;
}

}  // namespace s3db

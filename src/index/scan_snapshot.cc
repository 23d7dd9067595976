#include "index/scan_snapshot.h"

#include <zlib.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <limits>

#include "s3db/record.h"
#include "util/crypto_hash.h"
#include "util/parallel.h"
#include "util/time_format.h"

namespace s3db::core {
namespace {

constexpr char kManifestFormat[] = "s3db-scan-snapshot";
constexpr char kSegmentMagic[] = "s3db-snapshot-segment 1\n";
constexpr size_t kMaxSegmentRawBytes = size_t{1} << 30;  // refuse to inflate more than 1 GiB

// ---- little-endian fields of a segment ----------------------------------------------------

void PutU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
void PutU64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
void PutText(std::string& out, const std::string& text) {
  PutU32(out, static_cast<uint32_t>(text.size()));
  out += text;
}

class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  bool U32(uint32_t* v) {
    if (data_.size() - at_ < 4) return false;
    *v = 0;
    for (int i = 0; i < 4; ++i) *v |= static_cast<uint32_t>(static_cast<unsigned char>(data_[at_ + i])) << (8 * i);
    at_ += 4;
    return true;
  }
  bool U64(uint64_t* v) {
    if (data_.size() - at_ < 8) return false;
    *v = 0;
    for (int i = 0; i < 8; ++i) *v |= static_cast<uint64_t>(static_cast<unsigned char>(data_[at_ + i])) << (8 * i);
    at_ += 8;
    return true;
  }
  bool Text(std::string* out) {
    uint32_t n = 0;
    if (!U32(&n) || data_.size() - at_ < n) return false;
    out->assign(data_.substr(at_, n));
    at_ += n;
    return true;
  }
  bool Skip(std::string_view expected) {
    if (data_.substr(at_, expected.size()) != expected) return false;
    at_ += expected.size();
    return true;
  }
  bool done() const { return at_ == data_.size(); }

 private:
  std::string_view data_;
  size_t at_ = 0;
};

std::string Unquoted(const std::string& etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') return etag.substr(1, etag.size() - 2);
  return etag;
}

std::string Padded(uint64_t n, int width) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%0*" PRIu64, width, n);
  return buf;
}

std::string SegmentKey(const std::string& snapshot_prefix, uint64_t generation, const std::string& tag, size_t index) {
  return snapshot_prefix + "segment=" + Padded(generation, 20) + "-" + tag + "-" + Padded(index, 6);
}

// Deletes `keys` a DeleteObjects call (1000 keys) at a time; how many went.
size_t DeleteInBatches(ObjectStore& store, const std::vector<std::string>& keys) {
  size_t deleted = 0;
  for (size_t i = 0; i < keys.size(); i += 1000) {
    std::vector<std::string> batch(keys.begin() + static_cast<std::ptrdiff_t>(i),
                                   keys.begin() + static_cast<std::ptrdiff_t>(std::min(keys.size(), i + 1000)));
    Result<DeleteManyResult> done = store.DeleteMany(batch);
    if (done.ok()) deleted += done->deleted.size();
  }
  return deleted;
}

}  // namespace

// ---- manifest --------------------------------------------------------------------------------

std::string EncodeManifest(const SnapshotManifest& m) {
  Json segments = Json::array();
  for (const auto& s : m.segments) {
    segments.push_back(Json{{"key", s.key},
                            {"first", s.first},
                            {"last", s.last},
                            {"records", s.records},
                            {"bytes", s.bytes},
                            {"sha256", s.sha256}});
  }
  return Json{{"format", kManifestFormat},
              {"version", m.version},
              {"resource", m.resource},
              {"generation", m.generation},
              {"createdAt", util::FormatIso8601Ms(m.created_ms)},
              {"records", m.records},
              {"segments", std::move(segments)},
              {"fences", m.fences}}
      .dump(2);
}

std::optional<SnapshotManifest> DecodeManifest(const std::string& text) {
  try {
    const Json j = Json::parse(text);
    if (j.value("format", std::string()) != kManifestFormat) return std::nullopt;
    if (!j.contains("version") || !j["version"].is_number_integer() ||
        j["version"].get<int>() != kScanSnapshotVersion) {
      return std::nullopt;
    }
    SnapshotManifest m;
    m.resource = j.at("resource").get<std::string>();
    m.generation = j.at("generation").get<uint64_t>();
    m.records = j.at("records").get<size_t>();
    size_t total = 0;
    for (const Json& s : j.at("segments")) {
      SnapshotSegmentRef ref;
      ref.key = s.at("key").get<std::string>();
      ref.first = s.at("first").get<std::string>();
      ref.last = s.at("last").get<std::string>();
      ref.records = s.at("records").get<size_t>();
      ref.bytes = s.at("bytes").get<uint64_t>();
      ref.sha256 = s.at("sha256").get<std::string>();
      // Ordered and disjoint, so a lookup is a binary search.
      if (ref.first > ref.last || ref.records == 0) return std::nullopt;
      if (!m.segments.empty() && m.segments.back().last >= ref.first) return std::nullopt;
      total += ref.records;
      m.segments.push_back(std::move(ref));
    }
    if (total != m.records) return std::nullopt;
    m.fences = j.at("fences").get<std::vector<std::string>>();
    if (!std::is_sorted(m.fences.begin(), m.fences.end()) ||
        std::adjacent_find(m.fences.begin(), m.fences.end()) != m.fences.end()) {
      return std::nullopt;
    }
    return m;
  } catch (const std::exception&) {
    return std::nullopt;  // torn or foreign: read without it
  }
}

// ---- segments ----------------------------------------------------------------------------------

std::string EncodeSegment(const std::vector<SnapshotEntry>& entries) {
  std::string raw = kSegmentMagic;
  PutU32(raw, static_cast<uint32_t>(entries.size()));
  for (const SnapshotEntry& e : entries) {
    PutText(raw, e.encoded_id);
    PutText(raw, e.info.etag);
    PutU64(raw, static_cast<uint64_t>(e.info.last_modified_ms));
    PutU64(raw, e.info.size);
    PutText(raw, e.info.content_type);
    PutU32(raw, static_cast<uint32_t>(e.info.metadata.size()));
    for (const auto& [key, value] : e.info.metadata) {
      PutText(raw, key);
      PutText(raw, value);
    }
    PutText(raw, e.body);
  }
  uLongf bound = compressBound(static_cast<uLong>(raw.size()));
  std::string out;
  PutU64(out, raw.size());
  out.resize(8 + bound);
  if (compress2(reinterpret_cast<Bytef*>(out.data() + 8), &bound, reinterpret_cast<const Bytef*>(raw.data()),
                static_cast<uLong>(raw.size()), 6) != Z_OK) {
    return "";  // only on memory exhaustion; an empty segment fails to decode and is not used
  }
  out.resize(8 + bound);
  return out;
}

std::optional<std::vector<SnapshotEntry>> DecodeSegment(const std::string& stored) {
  Reader header(stored);
  uint64_t raw_size = 0;
  if (!header.U64(&raw_size) || raw_size > kMaxSegmentRawBytes) return std::nullopt;
  std::string raw(raw_size, '\0');
  uLongf got = static_cast<uLongf>(raw_size);
  if (uncompress(reinterpret_cast<Bytef*>(raw.data()), &got, reinterpret_cast<const Bytef*>(stored.data() + 8),
                 static_cast<uLong>(stored.size() - 8)) != Z_OK ||
      got != raw_size) {
    return std::nullopt;
  }
  Reader in(raw);
  uint32_t count = 0;
  if (!in.Skip(kSegmentMagic) || !in.U32(&count)) return std::nullopt;
  std::vector<SnapshotEntry> entries;
  entries.reserve(std::min<uint32_t>(count, 1u << 20));
  for (uint32_t i = 0; i < count; ++i) {
    SnapshotEntry e;
    uint64_t modified = 0;
    uint32_t fields = 0;
    if (!in.Text(&e.encoded_id) || !in.Text(&e.info.etag) || !in.U64(&modified) || !in.U64(&e.info.size) ||
        !in.Text(&e.info.content_type) || !in.U32(&fields)) {
      return std::nullopt;
    }
    e.info.last_modified_ms = static_cast<int64_t>(modified);
    e.info.metadata.reserve(fields);
    for (uint32_t f = 0; f < fields; ++f) {
      std::string key, value;
      if (!in.Text(&key) || !in.Text(&value)) return std::nullopt;
      e.info.metadata.emplace(std::move(key), std::move(value));
    }
    if (!in.Text(&e.body)) return std::nullopt;
    if (!entries.empty() && entries.back().encoded_id >= e.encoded_id) return std::nullopt;
    entries.push_back(std::move(e));
  }
  if (!in.done()) return std::nullopt;
  return entries;
}

// ---- keys ----------------------------------------------------------------------------------------

std::string SnapshotPrefix(const format::KeyLayout& layout, const std::string& resource) {
  return layout.ResourcePrefix(resource) + "snapshot/";
}

std::string ManifestKey(const format::KeyLayout& layout, const std::string& resource, uint64_t generation) {
  // Inverted, so the newest manifest is the first one listed.
  return SnapshotPrefix(layout, resource) + "manifest=" + Padded(std::numeric_limits<uint64_t>::max() - generation, 20);
}

std::optional<uint64_t> GenerationOfSnapshotKey(const std::string& snapshot_prefix, const std::string& key) {
  if (key.compare(0, snapshot_prefix.size(), snapshot_prefix) != 0) return std::nullopt;
  const std::string rest = key.substr(snapshot_prefix.size());
  auto digits = [](const std::string& text) -> std::optional<uint64_t> {
    if (text.size() != 20 || !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return std::nullopt;
    }
    try {
      return std::stoull(text);
    } catch (const std::exception&) {
      return std::nullopt;  // above UINT64_MAX
    }
  };
  if (rest.rfind("manifest=", 0) == 0) {
    auto inverted = digits(rest.substr(9));
    if (!inverted) return std::nullopt;
    return std::numeric_limits<uint64_t>::max() - *inverted;
  }
  if (rest.rfind("segment=", 0) == 0) return digits(rest.substr(8, 20));
  return std::nullopt;
}

bool EtagIsBodyMd5(const std::string& etag, const std::string& body) {
  return Unquoted(etag) == util::HexEncode(util::Md5(body));
}

// ---- reading -----------------------------------------------------------------------------------

std::shared_ptr<ScanSnapshot> ScanSnapshot::Open(ObjectStore& store, const format::KeyLayout& layout,
                                                 const std::string& resource, size_t max_resident) {
  ListRequest request;
  request.prefix = SnapshotPrefix(layout, resource) + "manifest=";
  request.max_keys = 1;  // the newest comes first
  Result<ListPage> page = store.List(request);
  if (!page.ok() || page->objects.empty()) return nullptr;
  Result<GetResult> got = store.Get(page->objects.front().key);
  if (!got.ok()) return nullptr;  // replaced meanwhile, or unreadable: plain GETs this time
  std::optional<SnapshotManifest> manifest = DecodeManifest(got->body);
  if (!manifest || manifest->resource != resource) return nullptr;
  return std::make_shared<ScanSnapshot>(store, std::move(*manifest), max_resident);
}

ScanSnapshot::ScanSnapshot(ObjectStore& store, SnapshotManifest manifest, size_t max_resident)
    : store_(store), manifest_(std::move(manifest)), max_resident_(max_resident) {
  for (size_t i = 0; i < manifest_.segments.size(); ++i) slots_.push_back(std::make_unique<Slot>());
}

SnapshotReadStats ScanSnapshot::stats() const { return {hits_, loads_, failures_}; }

std::shared_ptr<const ScanSnapshot::Segment> ScanSnapshot::Load(size_t index) {
  Slot& slot = *slots_[index];
  {
    std::lock_guard lock(resident_mu_);
    if (slot.loaded) {
      slot.last_use = ++use_clock_;
      return slot.loaded;
    }
  }
  std::lock_guard load(slot.load_mu);
  {
    std::lock_guard lock(resident_mu_);
    if (slot.loaded || slot.failed) {  // another thread loaded it, or it is known bad
      slot.last_use = ++use_clock_;
      return slot.loaded;
    }
  }
  const SnapshotSegmentRef& ref = manifest_.segments[index];
  std::shared_ptr<const Segment> segment;
  ++loads_;
  Result<GetResult> got = store_.Get(ref.key);
  if (got.ok() && got->body.size() == ref.bytes && util::HexEncode(util::Sha256(got->body)) == ref.sha256) {
    std::optional<Segment> decoded = DecodeSegment(got->body);
    if (decoded && decoded->size() == ref.records && decoded->front().encoded_id == ref.first &&
        decoded->back().encoded_id == ref.last) {
      segment = std::make_shared<const Segment>(std::move(*decoded));
    }
  }
  std::lock_guard lock(resident_mu_);
  if (!segment) {
    ++failures_;
    slot.failed = true;
    return nullptr;
  }
  slot.loaded = segment;
  slot.last_use = ++use_clock_;
  if (max_resident_ > 0) {
    // Drop the least recently used beyond the limit; whoever holds one keeps it alive.
    while (true) {
      size_t resident = 0;
      Slot* oldest = nullptr;
      for (auto& s : slots_) {
        if (!s->loaded) continue;
        ++resident;
        if (!oldest || s->last_use < oldest->last_use) oldest = s.get();
      }
      if (resident <= max_resident_ || oldest == &slot) break;
      oldest->loaded.reset();
    }
  }
  return segment;
}

bool ScanSnapshot::Visit(const std::string& encoded_id, const std::string& etag,
                         const std::function<void(const SnapshotEntry&)>& visit) {
  const auto& segments = manifest_.segments;
  auto it = std::lower_bound(segments.begin(), segments.end(), encoded_id,
                             [](const SnapshotSegmentRef& s, const std::string& id) { return s.last < id; });
  if (it == segments.end() || encoded_id < it->first) return false;
  std::shared_ptr<const Segment> segment = Load(static_cast<size_t>(it - segments.begin()));
  if (!segment) return false;
  auto entry = std::lower_bound(segment->begin(), segment->end(), encoded_id,
                                [](const SnapshotEntry& e, const std::string& id) { return e.encoded_id < id; });
  if (entry == segment->end() || entry->encoded_id != encoded_id) return false;
  if (Unquoted(entry->info.etag) != Unquoted(etag)) return false;
  ++hits_;
  visit(*entry);
  return true;
}

// ---- listing -----------------------------------------------------------------------------------

Result<std::vector<ListedRecordKey>> ListRecordKeysWithFences(ObjectStore& store, const std::string& record_prefix,
                                                              const std::vector<std::string>& fences, int concurrency) {
  const size_t ranges = fences.size() + 1;
  std::vector<std::vector<ListedRecordKey>> found(ranges);
  std::vector<Status> errors(ranges);
  util::ParallelFor(ranges, concurrency, [&](size_t i) {
    ListRequest request;
    request.prefix = record_prefix;
    if (i > 0) request.start_after = record_prefix + fences[i - 1];
    const std::string end = i < fences.size() ? record_prefix + fences[i] : std::string();
    while (true) {
      Result<ListPage> page = store.List(request);
      if (!page.ok()) {
        errors[i] = page.status();
        return;
      }
      for (auto& o : page->objects) {
        if (!end.empty() && o.key > end) return;  // the next range's
        found[i].push_back({o.key.substr(record_prefix.size()), std::move(o.etag)});
      }
      if (!page->truncated || page->objects.empty()) return;
      if (!end.empty() && page->objects.back().key == end) return;
      request.start_after = page->objects.back().key;
    }
  });
  std::vector<ListedRecordKey> out;
  for (size_t i = 0; i < ranges; ++i) {
    if (!errors[i].ok()) return errors[i];
    out.insert(out.end(), std::make_move_iterator(found[i].begin()), std::make_move_iterator(found[i].end()));
  }
  return out;
}

// ---- writing -----------------------------------------------------------------------------------

Result<SnapshotWriteOutcome> WriteScanSnapshot(ObjectStore& store, const format::KeyLayout& layout,
                                               const std::string& resource, const std::vector<ListedRecordKey>& listed,
                                               int concurrency, size_t segment_bytes) {
  const std::string prefix = SnapshotPrefix(layout, resource);
  const std::string record_prefix = layout.RecordPrefix(resource);
  std::shared_ptr<ScanSnapshot> previous = ScanSnapshot::Open(store, layout, resource, /*max_resident=*/2);
  const uint64_t previous_generation = previous ? previous->manifest().generation : 0;

  SnapshotWriteOutcome out;
  out.generation = previous_generation + 1;
  const std::string tag = util::RandomAlnum(8);  // two writers of one generation never share a key
  SnapshotManifest manifest;
  manifest.resource = resource;
  manifest.generation = out.generation;
  manifest.created_ms = util::NowMs();
  for (size_t i = kFenceSpacing - 1; i < listed.size(); i += kFenceSpacing) {
    manifest.fences.push_back(listed[i].encoded_id);
  }
  std::vector<std::string> written;  // segment keys, removed again if the manifest loses

  // Best effort: a later compaction's cleanup removes what is left.
  auto remove_written = [&] { (void)DeleteInBatches(store, written); };

  std::vector<SnapshotEntry> pending;
  size_t pending_bytes = 0;
  auto flush = [&]() -> Status {
    if (pending.empty()) return Status::Ok();
    SnapshotSegmentRef ref;
    ref.key = SegmentKey(prefix, out.generation, tag, manifest.segments.size());
    ref.first = pending.front().encoded_id;
    ref.last = pending.back().encoded_id;
    ref.records = pending.size();
    PutRequest put;
    put.key = ref.key;
    put.body = EncodeSegment(pending);
    put.content_type = "application/octet-stream";
    ref.bytes = put.body.size();
    ref.sha256 = util::HexEncode(util::Sha256(put.body));
    Result<ObjectInfo> stored = store.Put(put);
    if (!stored.ok()) return stored.status();
    written.push_back(ref.key);
    out.records += ref.records;
    out.bytes += ref.bytes;
    manifest.segments.push_back(std::move(ref));
    pending.clear();
    pending_bytes = 0;
    return Status::Ok();
  };

  // A batch at a time, in key order: the previous snapshot's entries or a GET each.
  constexpr size_t kBatch = 1000;
  for (size_t start = 0; start < listed.size(); start += kBatch) {
    const size_t n = std::min(kBatch, listed.size() - start);
    std::vector<std::optional<SnapshotEntry>> slots(n);
    std::vector<char> outcome(n, 0);  // 1 reused, 2 fetched, 3 vanished, 4 not md5
    std::vector<Status> errors(n);
    util::ParallelFor(n, concurrency, [&](size_t i) {
      const ListedRecordKey& item = listed[start + i];
      if (previous && previous->Visit(item.encoded_id, item.etag, [&](const SnapshotEntry& e) { slots[i] = e; })) {
        outcome[i] = 1;
        return;
      }
      Result<GetResult> got = store.Get(record_prefix + item.encoded_id);
      if (got.code() == ErrorCode::kNotFound) {
        outcome[i] = 3;
        return;
      }
      if (!got.ok()) {
        errors[i] = got.status();
        return;
      }
      if (!EtagIsBodyMd5(got->info.etag, got->body)) {
        outcome[i] = 4;
        return;
      }
      SnapshotEntry e;
      e.encoded_id = item.encoded_id;
      e.info = std::move(got->info);
      e.info.key.clear();
      e.body = std::move(got->body);
      slots[i] = std::move(e);
      outcome[i] = 2;
    });
    for (size_t i = 0; i < n; ++i) {
      if (!errors[i].ok()) {
        remove_written();
        return errors[i];
      }
      out.reused += outcome[i] == 1;
      out.fetched += outcome[i] == 2;
      out.vanished += outcome[i] == 3;
      out.not_md5 += outcome[i] == 4;
      if (!slots[i]) continue;
      size_t bytes = slots[i]->encoded_id.size() + slots[i]->body.size() + 64;
      for (const auto& [k, v] : slots[i]->info.metadata) bytes += k.size() + v.size() + 8;
      pending.push_back(std::move(*slots[i]));
      pending_bytes += bytes;
      if (pending_bytes >= segment_bytes) {
        if (Status s = flush(); !s.ok()) {
          remove_written();
          return s;
        }
      }
    }
  }
  if (Status s = flush(); !s.ok()) {
    remove_written();
    return s;
  }
  out.segments = manifest.segments.size();
  manifest.records = out.records;

  PutRequest put;
  put.key = ManifestKey(layout, resource, out.generation);
  put.body = EncodeManifest(manifest);
  put.content_type = "application/json";
  put.if_none_match_star = true;
  Result<ObjectInfo> published = store.Put(put);
  if (!published.ok()) {
    remove_written();
    if (published.code() == ErrorCode::kPreconditionFailed) {
      return Status(ErrorCode::kConflict, "another compaction published snapshot generation " +
                                              std::to_string(out.generation) + " first; it stands");
    }
    return published.status();
  }

  // Generations before the previous one: no reader that starts now can want them.
  ListRequest request;
  request.prefix = prefix;
  std::vector<std::string> stale;
  while (true) {
    Result<ListPage> page = store.List(request);
    if (!page.ok()) break;  // left for the next compaction
    for (const auto& o : page->objects) {
      std::optional<uint64_t> generation = GenerationOfSnapshotKey(prefix, o.key);
      if (generation && *generation < previous_generation) stale.push_back(o.key);
    }
    if (!page->truncated) break;
    request.continuation_token = page->next_continuation_token;
  }
  out.deleted = DeleteInBatches(store, stale);
  return out;
}

}  // namespace s3db::core

#include <algorithm>
#include <charconv>

#include "plugins/cache_internal.h"
#include "s3db/cache.h"
#include "s3db/json_limits.h"
#include "util/crypto_hash.h"
#include "util/time_format.h"

namespace s3db {
namespace {

// Invalidations a ticket can be checked against. A fill whose ticket is older than the log is
// dropped: it cannot be shown safe (a read that slow is rare).
constexpr size_t kLogLimit = 4096;

constexpr std::string_view kObjectMagicV1 = "s3db-obj 1\n";  // a JSON header line, then the body
constexpr std::string_view kObjectMagicV2 = "s3db-obj 2\n";  // length-prefixed fields (below)

bool Covers(const std::string& entry, bool prefix, const std::string& key) {
  return prefix ? key.compare(0, entry.size(), entry) == 0 : key == entry;
}

}  // namespace

namespace plugins {
Status ValidateCacheBounds(const CacheOptions& options) {
  auto bad = [](const std::string& what) { return Status(ErrorCode::kInvalidArgument, "cache: " + what); };
  if (options.ttl.count() <= 0) return bad("ttl must be positive");
  if (options.max_entries < 1) return bad("max_entries must be at least 1");
  if (options.max_bytes < 1) return bad("max_bytes must be at least 1");
  if (options.max_entry_bytes < 1) return bad("max_entry_bytes must be at least 1");
  return Status::Ok();
}
}  // namespace plugins

Status CacheOptions::Validate() const {
  if (driver != "memory" && driver != "file" && driver != "filesystem" && driver != "s3" && driver != "redis") {
    return Status(ErrorCode::kInvalidArgument,
                  "cache: unknown driver '" + driver + "' (memory, file (alias filesystem), s3 or redis)");
  }
  if (driver == "redis") {
    if (uri.empty()) return Status(ErrorCode::kInvalidArgument, "cache: the redis driver needs a uri");
    if (Status s = ValidateRedisUri(uri); !s.ok()) return s;
    if (timeout.count() <= 0) return Status(ErrorCode::kInvalidArgument, "cache: timeout must be positive");
  }
  if ((driver == "file" || driver == "filesystem") && directory.empty()) {
    return Status(ErrorCode::kInvalidArgument, "cache: the file driver needs a directory");
  }
  return plugins::ValidateCacheBounds(*this);
}

Result<CacheOptions> CacheOptionsFromUri(const std::string& uri) {
  CacheOptions o;
  auto starts = [&](std::string_view scheme) { return uri.compare(0, scheme.size(), scheme) == 0; };
  if (uri == "memory" || uri == "memory://") {
    o.driver = "memory";
  } else if (starts("file://")) {
    o.driver = "file";
    o.directory = uri.substr(7);
    if (o.directory.empty()) return Status(ErrorCode::kInvalidArgument, "cache: file:// needs a directory");
  } else if (uri == "s3" || uri == "s3://") {
    o.driver = "s3";
  } else if (starts("s3://")) {
    return Status(ErrorCode::kInvalidArgument,
                  "cache: the s3 cache lives in the database's own bucket, under "
                  "<prefix>/plugin=cache/: write s3:// with nothing after it");
  } else if (starts("redis://") || starts("rediss://") || starts("unix://")) {
    o.driver = "redis";
    o.uri = uri;
  } else {
    return Status(ErrorCode::kInvalidArgument, "cache: unknown cache '" + MaskedRedisUri(uri) +
                                                   "' (memory, file://DIR, s3://, redis://... or unix://...)");
  }
  if (Status s = o.Validate(); !s.ok()) return s;
  return o;
}

// ---- The cached object -------------------------------------------------------------------------
//
// Version 2, written: the magic, then each field as "<decimal length>:<bytes>" (key, etag,
// last-modified ms, size, content type, the metadata's entry count, each name and value, the
// body), nothing after. Decoding it is a few bounds checks and copies; version 1 (a JSON
// header, still read for entries an older s3db wrote to a shared Redis) cost a JSON parse of
// the header on every hit, the largest part of the decode.

namespace {

void AppendField(std::string& out, std::string_view bytes) {
  out += std::to_string(bytes.size());
  out += ':';
  out += bytes;
}

// The next "<length>:<bytes>" of `in`; false when it is not one.
bool TakeField(std::string_view& in, std::string_view* out) {
  size_t length = 0;
  auto [end, ec] = std::from_chars(in.data(), in.data() + in.size(), length);
  if (ec != std::errc() || end == in.data() || end == in.data() + in.size() || *end != ':') return false;
  in.remove_prefix(static_cast<size_t>(end - in.data()) + 1);
  if (length > in.size()) return false;
  *out = in.substr(0, length);
  in.remove_prefix(length);
  return true;
}

template <typename Number>
bool TakeNumber(std::string_view& in, Number* out) {
  std::string_view text;
  if (!TakeField(in, &text) || text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

std::optional<GetResult> DecodeObjectV2(std::string_view in) {
  GetResult out;
  std::string_view key, etag, content_type, body;
  size_t entries = 0;
  if (!TakeField(in, &key) || !TakeField(in, &etag) || !TakeNumber(in, &out.info.last_modified_ms) ||
      !TakeNumber(in, &out.info.size) || !TakeField(in, &content_type) || !TakeNumber(in, &entries)) {
    return std::nullopt;
  }
  if (entries > in.size() / 4) return std::nullopt;  // each entry takes at least "0:0:"
  out.info.key = key;
  out.info.etag = etag;
  out.info.content_type = content_type;
  out.info.metadata.reserve(entries);
  for (size_t i = 0; i < entries; ++i) {
    std::string_view name, value;
    if (!TakeField(in, &name) || !TakeField(in, &value)) return std::nullopt;
    if (!out.info.metadata.emplace(std::string(name), std::string(value)).second) return std::nullopt;
  }
  if (!TakeField(in, &body) || !in.empty()) return std::nullopt;
  out.body = body;
  return out;
}

std::optional<GetResult> DecodeObjectV1(std::string_view bytes) {
  size_t eol = bytes.find('\n');
  if (eol == std::string_view::npos) return std::nullopt;
  Json h = ParseJsonOrDiscarded(bytes.substr(0, eol));
  std::string_view body = bytes.substr(eol + 1);
  if (!h.is_object() || !h["key"].is_string() || !h["etag"].is_string() || !h["lm"].is_number_integer() ||
      !h["size"].is_number_unsigned() || !h["ct"].is_string() || !h["meta"].is_object() ||
      !h["body"].is_number_unsigned() || h["body"].get<uint64_t>() != body.size()) {
    return std::nullopt;
  }
  GetResult out;
  out.info.key = h["key"].get<std::string>();
  out.info.etag = h["etag"].get<std::string>();
  out.info.last_modified_ms = h["lm"].get<int64_t>();
  out.info.size = h["size"].get<uint64_t>();
  out.info.content_type = h["ct"].get<std::string>();
  for (const auto& [k, v] : h["meta"].items()) {
    if (!v.is_string()) return std::nullopt;
    out.info.metadata[k] = v.get<std::string>();
  }
  out.body = std::string(body);
  return out;
}

}  // namespace

std::string EncodeCachedObject(const GetResult& object) {
  const ObjectInfo& info = object.info;
  size_t bytes =
      kObjectMagicV2.size() + info.key.size() + info.etag.size() + info.content_type.size() + object.body.size() + 80;
  for (const auto& [name, value] : info.metadata) bytes += name.size() + value.size() + 8;
  std::string out;
  out.reserve(bytes);
  out += kObjectMagicV2;
  AppendField(out, info.key);
  AppendField(out, info.etag);
  AppendField(out, std::to_string(info.last_modified_ms));
  AppendField(out, std::to_string(info.size));
  AppendField(out, info.content_type);
  AppendField(out, std::to_string(info.metadata.size()));
  for (const auto& [name, value] : info.metadata) {
    AppendField(out, name);
    AppendField(out, value);
  }
  AppendField(out, object.body);
  return out;
}

std::optional<GetResult> DecodeCachedObject(std::string_view bytes) {
  if (bytes.substr(0, kObjectMagicV2.size()) == kObjectMagicV2) {
    return DecodeObjectV2(bytes.substr(kObjectMagicV2.size()));
  }
  if (bytes.substr(0, kObjectMagicV1.size()) == kObjectMagicV1) {
    return DecodeObjectV1(bytes.substr(kObjectMagicV1.size()));
  }
  return std::nullopt;
}

// ---- CachePlugin --------------------------------------------------------------------------------

CachePlugin::CachePlugin(CacheOptions options) : options_(std::move(options)) {
  ThrowIfError(options_.Validate());
  if (options_.driver == "filesystem") options_.driver = "file";  // the seeds' name for it
  longest_ttl_ms_ = options_.ttl.count();
  if (options_.driver == "memory") {
    driver_ = NewMemoryCache(options_);
  } else if (options_.driver == "file") {
    Result<std::unique_ptr<CacheDriver>> file = NewFileCache(options_);
    ThrowIfError(file.status());
    driver_ = std::move(file).value();
  }
}

CachePlugin::CachePlugin(CacheOptions options, std::unique_ptr<CacheDriver> driver)
    : options_(std::move(options)), driver_(std::move(driver)) {
  ThrowIfError(plugins::ValidateCacheBounds(options_));
  if (!driver_) throw InvalidArgument("CachePlugin needs a driver");
  longest_ttl_ms_ = options_.ttl.count();
}

CachePlugin::~CachePlugin() = default;

void CachePlugin::Setup(PluginContext& context) { context_ = &context; }

void CachePlugin::Start() {
  std::lock_guard lock(driver_mu_);
  if (driver_ || context_ == nullptr) return;
  if (options_.driver == "s3") {
    driver_ = NewS3Cache(context_->store(), S3CachePrefix(context_->prefix()), options_);
  } else if (options_.driver == "redis") {
    CacheOptions redis = options_;
    if (redis.key_prefix.empty()) redis.key_prefix = RedisKeyPrefix(context_->prefix());
    Result<std::unique_ptr<CacheDriver>> made = NewRedisCache(redis, [this](const char* event, const Json& payload) {
      Json p = payload;
      p["plugin"] = "cache";
      if (events_.Emit(event, p) == 0 && std::string_view(event) == kCacheWarningEvent) {
        events_.Report("s3db cache: " + p.value("message", std::string()) + " [" + p.value("uri", std::string()) + "]");
      }
    });
    ThrowIfError(made.status());
    driver_ = std::move(made).value();
  } else {
    return;
  }
  driver_from_start_ = true;
}

void CachePlugin::Stop() {
  std::lock_guard lock(driver_mu_);
  if (!driver_from_start_) return;
  driver_.reset();  // calls already running keep their own reference
  driver_from_start_ = false;
}

std::shared_ptr<CacheDriver> CachePlugin::driver() const {
  std::lock_guard lock(driver_mu_);
  return driver_;
}

int64_t CachePlugin::Now() const { return options_.clock ? options_.clock() : util::NowMs(); }

bool CachePlugin::InvalidatedSince(uint64_t ticket, const std::string& key) const {
  if (ticket == seq_) return false;
  // The log no longer reaches back to the ticket: whatever was dropped may have covered key.
  if (log_.empty() || log_.front().seq > ticket + 1) return true;
  for (auto it = log_.rbegin(); it != log_.rend() && it->seq > ticket; ++it) {
    if (Covers(it->key, it->prefix, key)) return true;
  }
  return false;
}

bool CachePlugin::Bypassed(const std::string& key, int64_t now) {
  if (bypass_.empty()) return false;
  std::erase_if(bypass_, [now](const Bypass& b) { return b.until_ms <= now; });
  return std::any_of(bypass_.begin(), bypass_.end(), [&](const Bypass& b) { return Covers(b.key, b.prefix, key); });
}

uint64_t CachePlugin::Invalidated(const std::string& key, bool prefix) {
  std::lock_guard lock(log_mu_);
  log_.push_back(Invalidation{++seq_, key, prefix});
  if (log_.size() > kLogLimit) log_.pop_front();
  return seq_;
}

void CachePlugin::Failed(const std::string& key, bool prefix) {
  // The stale entry may live as long as the longest ttl given; until then, read around it.
  std::lock_guard lock(log_mu_);
  bypass_.push_back(Bypass{key, prefix, Now() + longest_ttl_ms_});
}

CacheRead CachePlugin::Get(const std::string& key) {
  CacheRead read;
  bool bypass = false;
  {
    std::lock_guard lock(log_mu_);
    read.ticket = seq_;
    bypass = Bypassed(key, Now());
  }
  std::shared_ptr<CacheDriver> d = driver();
  if (bypass || !d) {
    if (bypass) bypassed_++;
    misses_++;
    return read;
  }
  read.value = d->Get(key);
  (read.value ? hits_ : misses_)++;
  return read;
}

void CachePlugin::Put(const std::string& key, std::string_view value, uint64_t ticket,
                      std::optional<std::chrono::milliseconds> ttl) {
  std::shared_ptr<CacheDriver> d = driver();
  if (!d) return;
  const std::chrono::milliseconds t = ttl.value_or(options_.ttl);
  {
    std::lock_guard lock(log_mu_);
    longest_ttl_ms_ = std::max<int64_t>(longest_ttl_ms_, t.count());
    if (Bypassed(key, Now()) || InvalidatedSince(ticket, key)) {
      dropped_fills_++;
      return;
    }
  }
  if (!d->Put(key, value, t).ok()) return;  // the driver counted the error; nothing cached
  // An invalidation may have landed between the check and the put, after its own delete:
  // then this entry is older than the write that invalidated it. Take it out again.
  bool raced = false;
  {
    std::lock_guard lock(log_mu_);
    raced = InvalidatedSince(ticket, key);
  }
  if (raced) {
    dropped_fills_++;
    if (!d->Invalidate(key).ok()) Failed(key, false);
  }
}

void CachePlugin::Invalidate(const std::string& key) {
  Invalidated(key, false);
  std::shared_ptr<CacheDriver> d = driver();
  if (d && !d->Invalidate(key).ok()) Failed(key, false);
}

void CachePlugin::InvalidatePrefix(const std::string& prefix) {
  Invalidated(prefix, true);
  std::shared_ptr<CacheDriver> d = driver();
  if (d && !d->InvalidatePrefix(prefix).ok()) Failed(prefix, true);
}

void CachePlugin::Clear() {
  Invalidated("", true);
  std::shared_ptr<CacheDriver> d = driver();
  if (d && !d->Clear().ok()) Failed("", true);
}

Result<GetResult> CachePlugin::GetObject(const std::string& key, const std::function<Result<GetResult>()>& load) {
  CacheRead read = Get(key);
  if (read.value) {
    if (std::optional<GetResult> cached = DecodeCachedObject(*read.value)) return std::move(*cached);
    read.ticket = Invalidated(key, false);  // a damaged entry: drop it, then fill afresh
    if (std::shared_ptr<CacheDriver> d = driver(); d && !d->Invalidate(key).ok()) Failed(key, false);
  }
  Result<GetResult> loaded = load();
  if (loaded.ok()) Put(key, EncodeCachedObject(*loaded), read.ticket);
  return loaded;
}

Json CachePlugin::GetJson(const std::string& key, const std::function<Json()>& load) {
  CacheRead read = Get(key);
  if (read.value) {
    // A shared cache holds what other processes wrote: read only what is safe to handle.
    Json cached = JsonTextTooDeep(*read.value) ? Json(Json::value_t::discarded) : ParseJsonOrDiscarded(*read.value);
    if (!cached.is_discarded()) return cached;
    read.ticket = Invalidated(key, false);
    if (std::shared_ptr<CacheDriver> d = driver(); d && !d->Invalidate(key).ok()) Failed(key, false);
  }
  Json loaded = load();
  std::string text;
  try {
    text = loaded.dump();
  } catch (const Json::exception&) {
    return loaded;  // strings that are not UTF-8 cannot round-trip through text: not cached
  }
  Put(key, text, read.ticket);
  return loaded;
}

std::vector<std::optional<std::string>> CacheDriver::GetMany(const std::vector<std::string>& keys) {
  std::vector<std::optional<std::string>> out;
  out.reserve(keys.size());
  for (const std::string& key : keys) out.push_back(Get(key));
  return out;
}

std::vector<std::optional<GetResult>> CachePlugin::PeekObjects(const std::vector<std::string>& keys) {
  std::vector<std::optional<GetResult>> out(keys.size());
  std::shared_ptr<CacheDriver> d = driver();
  if (!d || keys.empty()) return out;
  std::vector<std::string> asked;
  std::vector<size_t> where;
  {
    std::lock_guard lock(log_mu_);
    const int64_t now = Now();
    for (size_t i = 0; i < keys.size(); ++i) {
      if (Bypassed(keys[i], now)) continue;
      asked.push_back(keys[i]);
      where.push_back(i);
    }
  }
  std::vector<std::optional<std::string>> got = d->GetMany(asked);
  for (size_t j = 0; j < got.size() && j < where.size(); ++j) {
    if (!got[j]) continue;
    out[where[j]] = DecodeCachedObject(*got[j]);
    if (out[where[j]]) hits_++;
  }
  return out;
}

std::string ReadCache::RecordKey(std::string_view resource, std::string_view id) {
  return "resource=" + std::string(resource) + "/record/" + std::string(id);
}

std::string ReadCache::QueryKey(std::string_view resource, std::string_view kind, const Json& params) {
  // CBOR of the parameters: canonical (object keys sorted) and, unlike dump(), defined for
  // every string, so two different parameter sets never share a key.
  std::vector<uint8_t> cbor = Json::to_cbor(params);
  std::string_view bytes(reinterpret_cast<const char*>(cbor.data()), cbor.size());
  return QueryPrefix(resource) + std::string(kind) + "/" + util::HexEncode(util::Sha256(bytes));
}

std::string ReadCache::QueryPrefix(std::string_view resource) { return ResourcePrefix(resource) + "query/"; }

std::string ReadCache::ResourcePrefix(std::string_view resource) { return "resource=" + std::string(resource) + "/"; }

CacheStats CachePlugin::stats() const {
  std::shared_ptr<CacheDriver> d = driver();
  CacheStats s = d ? d->stats() : CacheStats{};
  s.hits = hits_;
  s.misses = misses_;
  s.dropped_fills += dropped_fills_;  // the redis driver drops fills of its own
  s.bypassed = bypassed_;
  return s;
}

}  // namespace s3db

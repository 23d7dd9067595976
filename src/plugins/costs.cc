#include "s3db/plugin.h"

#include <atomic>
#include <mutex>
#include <unordered_map>

namespace s3db {
namespace {

constexpr const char* kKindNames[kRequestKindCount] = {"put", "get", "head", "list", "delete", "copy", "post"};

// Prices in units of 1e-7 USD per request, so totals add up exactly in integers and turn into
// dollars with one division (no drift from summing 0.0004s). $0.005/1000 = 50, $0.0004/1000 = 4.
constexpr uint64_t kUnitsPerRequest[kRequestKindCount] = {
    50,  // put
    4,   // get
    4,   // head
    50,  // list
    0,   // delete: free on S3 (s3db.js charged it)
    50,  // copy
    50,  // post
};
constexpr double kUnitsPerUsd = 1e7;

// The resource a key or list prefix belongs to: "<prefix>/resource=<name>/...". Requires the
// '/' after the name, so a list of "resource=user" (which would match "users" too) is not
// attributed to "user".
std::string_view ResourceOf(std::string_view key, const std::string& prefix) {
  if (!prefix.empty()) {
    if (key.size() <= prefix.size() || key.compare(0, prefix.size(), prefix) != 0 || key[prefix.size()] != '/') {
      return {};
    }
    key.remove_prefix(prefix.size() + 1);
  }
  constexpr std::string_view kMarker = "resource=";
  if (key.substr(0, kMarker.size()) != kMarker) return {};
  key.remove_prefix(kMarker.size());
  size_t slash = key.find('/');
  if (slash == std::string_view::npos || slash == 0) return {};
  return key.substr(0, slash);
}

uint64_t MetadataValueBytes(const Metadata& metadata) {
  uint64_t n = 0;
  for (const auto& [key, value] : metadata) n += value.size();
  return n;
}

}  // namespace

const char* RequestKindName(RequestKind kind) { return kKindNames[static_cast<size_t>(kind)]; }

double PricePerThousand(RequestKind kind) {
  return static_cast<double>(kUnitsPerRequest[static_cast<size_t>(kind)]) * 1000.0 / kUnitsPerUsd;
}

uint64_t CostTotals::total_requests() const {
  uint64_t n = 0;
  for (uint64_t c : requests) n += c;
  return n;
}

double CostTotals::usd() const {
  uint64_t units = 0;
  for (size_t i = 0; i < kRequestKindCount; ++i) units += requests[i] * kUnitsPerRequest[i];
  return static_cast<double>(units) / kUnitsPerUsd;
}

namespace {
template <typename J>
J TotalsJson(const CostTotals& t) {
  J requests = J::object();
  for (size_t i = 0; i < kRequestKindCount; ++i) requests[kKindNames[i]] = t.requests[i];
  requests["total"] = t.total_requests();  // the seeds' costs.requests.total
  J out = J::object();
  out["requests"] = std::move(requests);
  out["bytes_out"] = t.bytes_out;
  out["bytes_in"] = t.bytes_in;
  out["usd"] = t.usd();
  out["total"] = t.usd();  // the seeds' costs.total (USD)
  return out;
}
}  // namespace

Json CostTotals::ToJson() const { return TotalsJson<Json>(*this); }

// ordered_json keeps the members in the contract's order (Json sorts them).
std::string CostTotals::ToLine() const { return TotalsJson<nlohmann::ordered_json>(*this).dump(); }

CostTotals& CostTotals::operator+=(const CostTotals& other) {
  for (size_t i = 0; i < kRequestKindCount; ++i) requests[i] += other.requests[i];
  bytes_out += other.bytes_out;
  bytes_in += other.bytes_in;
  return *this;
}

class CostTracker {
 public:
  explicit CostTracker(std::string prefix) { SetPrefix(std::move(prefix)); }

  void SetPrefix(std::string prefix) {
    while (!prefix.empty() && prefix.front() == '/') prefix.erase(0, 1);
    while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
    std::lock_guard lock(mu_);
    prefix_ = std::move(prefix);
  }

  // Whether the decorators count (false: the backend reports through Count instead).
  std::atomic<bool> decorators_count{true};

  void Count(RequestKind kind, std::string_view key, uint64_t bytes_out, uint64_t bytes_in) {
    const size_t k = static_cast<size_t>(kind);
    std::lock_guard lock(mu_);
    auto add = [&](CostTotals& t) {
      t.requests[k]++;
      t.bytes_out += bytes_out;
      t.bytes_in += bytes_in;
    };
    add(database_);
    std::string_view resource = ResourceOf(key, prefix_);
    if (!resource.empty()) {
      auto it = resources_.find(resource);
      if (it == resources_.end()) it = resources_.emplace(std::string(resource), CostTotals{}).first;
      add(it->second);
    }
  }

  // The resource all `keys` belong to, or "" (for attribution of a DeleteMany).
  std::string CommonResource(const std::vector<std::string>& keys) const {
    std::lock_guard lock(mu_);
    std::string_view common;
    for (size_t i = 0; i < keys.size(); ++i) {
      std::string_view r = ResourceOf(keys[i], prefix_);
      if (r.empty() || (i > 0 && r != common)) return {};
      common = r;
    }
    return keys.empty() ? std::string() : keys[0];  // a key of that resource attributes the same
  }

  CostTotals Totals() const {
    std::lock_guard lock(mu_);
    return database_;
  }
  CostTotals Resource(const std::string& name) const {
    std::lock_guard lock(mu_);
    auto it = resources_.find(name);
    return it == resources_.end() ? CostTotals{} : it->second;
  }
  std::map<std::string, CostTotals> ByResource() const {
    std::lock_guard lock(mu_);
    return {resources_.begin(), resources_.end()};
  }
  void Reset() {
    std::lock_guard lock(mu_);
    database_ = CostTotals{};
    resources_.clear();
  }

 private:
  mutable std::mutex mu_;
  std::string prefix_;
  CostTotals database_;
  std::map<std::string, CostTotals, std::less<>> resources_;
};

namespace {

// Forwards every call and counts it once the inner store returns. Nothing here fails or
// throws, so the count cannot differ from what was served.
class CostingStore : public ObjectStore {
 public:
  CostingStore(std::unique_ptr<ObjectStore> inner, std::shared_ptr<CostTracker> tracker)
      : inner_(std::move(inner)), tracker_(std::move(tracker)) {}

  Result<ObjectInfo> Put(const PutRequest& request) override {
    Result<ObjectInfo> result = inner_->Put(request);
    Count(RequestKind::kPut, request.key, request.body.size() + MetadataValueBytes(request.metadata), 0);
    return result;
  }
  Result<GetResult> Get(const std::string& key) override {
    Result<GetResult> result = inner_->Get(key);
    Count(RequestKind::kGet, key, 0, result.ok() ? result->body.size() : 0);
    return result;
  }
  Status Read(const std::string& key, const ObjectVisitor& visit) override {
    size_t bytes = 0;
    Status status = inner_->Read(key, [&](const ObjectInfo& info, const std::string& body) {
      bytes = body.size();
      visit(info, body);
    });
    Count(RequestKind::kGet, key, 0, bytes);
    return status;
  }
  // Forwarded, so the inner store's event loop still sends them; each key counts as Get does.
  void GetEachFrom(const KeySource& next_key, const GetEachOptions& options, const GetEachVisitor& visit) override {
    std::unordered_map<size_t, std::string> keys;  // of the keys not yet visited, by index
    size_t next_index = 0;                         // next_key is called by one thread at a time
    std::mutex keys_mu;
    inner_->GetEachFrom(
        [&]() -> std::optional<std::string> {
          std::optional<std::string> key = next_key();
          if (key) {
            std::lock_guard lock(keys_mu);
            keys.emplace(next_index++, *key);
          }
          return key;
        },
        options,
        [&](size_t index, const Status& status, const ObjectInfo& info, const std::string& body) {
          std::string key;
          {
            std::lock_guard lock(keys_mu);
            auto it = keys.find(index);
            key = std::move(it->second);
            keys.erase(it);
          }
          visit(index, status, info, body);
          Count(RequestKind::kGet, key, 0, status.ok() ? body.size() : 0);
        });
  }
  // Forwarded likewise; each request counts as Put does.
  void PutEachFrom(const PutSource& next, const PutEachOptions& options, const PutEachVisitor& visit) override {
    struct Sent {
      std::string key;
      uint64_t bytes = 0;
    };
    std::unordered_map<size_t, Sent> sent;  // of the requests not yet answered, by index
    size_t next_index = 0;                  // next is called by one thread at a time
    std::mutex sent_mu;
    inner_->PutEachFrom(
        [&]() -> std::optional<PutRequest> {
          std::optional<PutRequest> request = next();
          if (request) {
            std::lock_guard lock(sent_mu);
            sent.emplace(next_index++,
                         Sent{request->key, request->body.size() + MetadataValueBytes(request->metadata)});
          }
          return request;
        },
        options,
        [&](size_t index, const Result<ObjectInfo>& written) {
          Sent request;
          {
            std::lock_guard lock(sent_mu);
            auto it = sent.find(index);
            request = std::move(it->second);
            sent.erase(it);
          }
          visit(index, written);
          Count(RequestKind::kPut, request.key, request.bytes, 0);
        });
  }
  Result<ObjectInfo> Head(const std::string& key) override {
    Result<ObjectInfo> result = inner_->Head(key);
    Count(RequestKind::kHead, key, 0, 0);
    return result;
  }
  Status Delete(const std::string& key) override {
    Status status = inner_->Delete(key);
    Count(RequestKind::kDelete, key, 0, 0);
    return status;
  }
  Result<DeleteManyResult> DeleteMany(const std::vector<std::string>& keys) override {
    Result<DeleteManyResult> result = inner_->DeleteMany(keys);
    if (!keys.empty()) Count(RequestKind::kPost, tracker_->CommonResource(keys), 0, 0);
    return result;
  }
  Result<ListPage> List(const ListRequest& request) override {
    Result<ListPage> result = inner_->List(request);
    Count(RequestKind::kList, request.prefix, 0, 0);
    return result;
  }
  Capabilities capabilities() const override { return inner_->capabilities(); }
  std::string Describe() const override { return inner_->Describe(); }
  // Local file maintenance: no request, nothing to count.
  Result<StaleTemporaryResult> RemoveStaleTemporaries(const StaleTemporaryOptions& options) override {
    return inner_->RemoveStaleTemporaries(options);
  }
  Status DeleteIfMatch(const std::string& key, const std::string& etag) override {
    Status status = inner_->DeleteIfMatch(key, etag);
    // Refused before any request: nothing was sent, nothing to count.
    if (status.code() != ErrorCode::kUnsupported) Count(RequestKind::kDelete, key, 0, 0);
    return status;
  }

 private:
  void Count(RequestKind kind, std::string_view key, uint64_t bytes_out, uint64_t bytes_in) {
    if (tracker_->decorators_count) tracker_->Count(kind, key, bytes_out, bytes_in);
  }

  std::unique_ptr<ObjectStore> inner_;
  std::shared_ptr<CostTracker> tracker_;
};

}  // namespace

CostsPlugin::CostsPlugin(std::string prefix) : tracker_(std::make_shared<CostTracker>(std::move(prefix))) {}
CostsPlugin::~CostsPlugin() = default;

void CostsPlugin::Setup(PluginContext& context) {
  tracker_->SetPrefix(context.prefix());
  context.WrapStore(
      [tracker = tracker_](std::unique_ptr<ObjectStore> inner) -> std::unique_ptr<ObjectStore> {
        return std::make_unique<CostingStore>(std::move(inner), tracker);
      },
      StorePosition::kInner);
}

std::unique_ptr<ObjectStore> CostsPlugin::Wrap(std::unique_ptr<ObjectStore> inner) {
  if (!inner) throw InvalidArgument("CostsPlugin::Wrap needs a store");
  return std::make_unique<CostingStore>(std::move(inner), tracker_);
}

void CostsPlugin::Count(RequestKind kind, std::string_view key, uint64_t bytes_out, uint64_t bytes_in) {
  tracker_->Count(kind, key, bytes_out, bytes_in);
}

void CostsPlugin::set_backend_counts(bool on) { tracker_->decorators_count = !on; }

bool CostsPlugin::TakeBackendRequests() {
  set_backend_counts(true);
  return true;
}

void CostsPlugin::OnBackendRequest(const SentRequest& sent) {
  RequestKind kind = RequestKind::kGet;
  if (sent.method == "PUT") kind = RequestKind::kPut;
  if (sent.method == "HEAD") kind = RequestKind::kHead;
  if (sent.method == "POST") kind = RequestKind::kPost;
  if (sent.method == "DELETE") kind = RequestKind::kDelete;
  if (sent.method == "GET" && sent.list) kind = RequestKind::kList;
  Count(kind, sent.key, sent.bytes_out, sent.bytes_in);
}

CostTotals CostsPlugin::Totals() const { return tracker_->Totals(); }
CostTotals CostsPlugin::ResourceTotals(const std::string& resource) const { return tracker_->Resource(resource); }
std::map<std::string, CostTotals> CostsPlugin::ByResource() const { return tracker_->ByResource(); }
Json CostsPlugin::ToJson() const { return Totals().ToJson(); }

Json CostsPlugin::Report() const {
  Json resources = Json::object();
  for (const auto& [name, totals] : ByResource()) resources[name] = totals.ToJson();
  return Json{{"database", ToJson()}, {"resources", std::move(resources)}};
}

void CostsPlugin::Reset() { tracker_->Reset(); }

}  // namespace s3db

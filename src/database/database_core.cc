#include "database/database_core.h"

#include "store/capability_probe.h"

#include "s3db/errors.h"
#include "s3db/json_limits.h"
#include "util/crypto_hash.h"
#include "util/parallel.h"
#include "util/secret_cipher.h"
#include "util/time_format.h"

namespace s3db {
namespace {

constexpr int kCatalogAttempts = 32;

}  // namespace

DatabaseCore::DatabaseCore(std::unique_ptr<plugins::PluginHost> host, std::unique_ptr<ObjectStore> store,
                           std::string prefix, DatabaseOptions options)
    : host_(std::move(host)),
      cache_(host_->FirstReadCache()),
      store_(std::move(store)),
      layout_(std::move(prefix)),
      options_(std::move(options)),
      settings_{options_.concurrency, options_.max_update_attempts, options_.metadata_budget},
      keyring_(options_.passphrase, options_.kdf_iterations) {
  catalog_ = core::EmptyCatalog();
  // The keyring holds the passphrase now; no second copy lingers in the options.
  if (options_.passphrase) util::Wipe(&*options_.passphrase);
  options_.passphrase.reset();
}

bool DatabaseCore::InstallCache(ReadCache* cache) {
  ReadCache* none = nullptr;
  return cache_.compare_exchange_strong(none, cache, std::memory_order_acq_rel);
}

void DatabaseCore::ForgetCatalog() {
  {
    std::lock_guard lock(mu_);
    for (auto& [name, resource] : resources_) resource->hooks().Clear();
  }
  LoadCatalog();
}

DatabaseCore::~DatabaseCore() {
  resources_.clear();
  host_->StopAll();  // before store_ goes: a plugin may still use it while it stops
}

void DatabaseCore::InstallCatalog(Json catalog, std::string etag) {
  core::CheckCatalog(catalog);
  std::map<std::string, std::shared_ptr<const core::ResourceState>> states;
  for (const auto& [name, entry] : catalog["resources"].items()) {
    states[name] = core::BuildResourceState(name, entry);
  }
  if (catalog.value(core::kCryptoMember, Json()) != catalog_.value(core::kCryptoMember, Json())) ++crypto_generation_;
  catalog_ = std::move(catalog);
  catalog_etag_ = std::move(etag);
  states_ = std::move(states);
}

void DatabaseCore::LoadCatalog() {
  Result<GetResult> got = store_->Get(layout_.Catalog());
  std::lock_guard lock(mu_);
  if (got.code() == ErrorCode::kNotFound) {
    InstallCatalog(core::EmptyCatalog(), "");
    return;
  }
  if (!got.ok()) ThrowError(got.code(), "reading the catalog " + layout_.Catalog() + ": " + got.status().message());
  if (JsonTextTooDeep(got->body)) {
    throw Corruption("the catalog " + layout_.Catalog() + " is " + TooDeepText());
  }
  Json doc = ParseJsonOrDiscarded(got->body);
  if (doc.is_discarded()) throw Corruption("the catalog " + layout_.Catalog() + " is not valid JSON");
  InstallCatalog(std::move(doc), got->info.etag);
}

std::shared_ptr<const core::ResourceState> DatabaseCore::State(const std::string& name, bool refresh_on_miss) {
  {
    std::lock_guard lock(mu_);
    auto it = states_.find(name);
    if (it != states_.end()) return it->second;
  }
  if (!refresh_on_miss) return nullptr;
  LoadCatalog();
  std::lock_guard lock(mu_);
  auto it = states_.find(name);
  return it == states_.end() ? nullptr : it->second;
}

std::shared_ptr<const core::ResourceState> DatabaseCore::StateWithVersion(const std::string& name, int version) {
  auto state = State(name, true);
  if (state && state->versions.count(version)) return state;
  LoadCatalog();
  state = State(name, false);
  if (!state) throw NotFound("resource '" + name + "' does not exist", name);
  if (!state->versions.count(version)) {
    throw Corruption("resource '" + name + "' has no schema version " + std::to_string(version) + " in the catalog",
                     name);
  }
  return state;
}

void DatabaseCore::MutateCatalog(const std::function<void(Json& catalog)>& mutate) {
  for (int attempt = 0; attempt < kCatalogAttempts; ++attempt) {
    Json catalog;
    std::string etag;
    {
      std::lock_guard lock(mu_);
      catalog = catalog_;
      etag = catalog_etag_;
    }
    mutate(catalog);
    RecordProbedCapabilities(catalog);
    core::CheckCatalog(catalog);
    PutRequest put;
    put.key = layout_.Catalog();
    put.body = catalog.dump(2, ' ', true);
    put.content_type = "application/json";
    if (etag.empty()) {
      put.if_none_match_star = true;
    } else {
      put.if_match = etag;
    }
    Result<ObjectInfo> written = store_->Put(put);
    if (written.ok()) {
      std::lock_guard lock(mu_);
      InstallCatalog(std::move(catalog), written->etag);
      return;
    }
    if (written.code() != ErrorCode::kPreconditionFailed && written.code() != ErrorCode::kConflict) {
      ThrowError(written.code(), "writing the catalog " + layout_.Catalog() + ": " + written.status().message());
    }
    // Another process changed the catalog since we read it: read it again and re-apply.
    util::SleepWithFullJitter(attempt, 1, 8);  // 1 ms .. 256 ms
    LoadCatalog();
  }
  throw Conflict("the catalog " + layout_.Catalog() + " kept changing under " + std::to_string(kCatalogAttempts) +
                 " attempts to update it");
}

Resource& DatabaseCore::ResourceObject(const std::string& name) {
  std::lock_guard lock(mu_);
  auto& slot = resources_[name];
  if (!slot) slot = std::make_unique<Resource>(this, name);
  return *slot;
}

Json DatabaseCore::Crypto() {
  std::lock_guard lock(mu_);
  return catalog_.value(core::kCryptoMember, Json());
}

uint64_t DatabaseCore::CryptoGeneration() { return crypto_generation_.load(std::memory_order_acquire); }

const core::Keyring& DatabaseCore::Keys() {
  // Every record read and write asks; the keys change only with the catalog's crypto section.
  uint64_t generation = crypto_generation_.load(std::memory_order_acquire);
  if (generation == keys_generation_.load(std::memory_order_acquire)) return keyring_;
  Json crypto;
  {
    std::lock_guard lock(mu_);
    generation = crypto_generation_;
    crypto = catalog_.value(core::kCryptoMember, Json());
  }
  std::lock_guard lock(keys_mu_);
  if (generation != keys_generation_) {
    keys_status_ = crypto.is_null() ? Status::Ok() : keyring_.Unlock(crypto, /*require_current=*/false);
    keys_generation_ = generation;
  }
  return keyring_;
}

void DatabaseCore::RequireKeys(const std::string& resource) {
  const core::Keyring& keys = Keys();
  if (keys.current_id() != 0) return;
  std::string cause =
      "no passphrase was given (set DatabaseOptions::passphrase; the s3db command reads "
      "--passphrase-file or $S3DB_PASSPHRASE)";
  if (keyring_.has_passphrase()) {
    std::lock_guard lock(keys_mu_);
    cause = keys_status_.ok() ? "the catalog has no key yet" : keys_status_.message();
  }
  throw AccessDenied("resource '" + resource + "' has secret fields, which need the database passphrase: " + cause,
                     resource);
}

void DatabaseCore::CheckPassphrase() {
  if (!keyring_.has_passphrase()) return;
  Json crypto = Crypto();
  if (crypto.is_null()) return;  // no key yet: nothing to check against
  Status unlocked = keyring_.Unlock(crypto, /*require_current=*/true);
  if (!unlocked.ok()) ThrowError(unlocked.code(), "connecting to " + store_->Describe() + ": " + unlocked.message());
}

void DatabaseCore::EnsureCrypto(const std::string& resource) {
  if (!keyring_.has_passphrase()) {
    throw AccessDenied("resource '" + resource +
                           "' has secret fields, which need the database passphrase: no passphrase was given (set "
                           "DatabaseOptions::passphrase; the s3db command reads --passphrase-file or $S3DB_PASSPHRASE)",
                       resource);
  }
  if (Crypto().is_null()) {
    // PBKDF2 runs once, outside the catalog update (which may be retried).
    core::NewKey first = keyring_.DeriveFirstKey(util::NowMs());
    bool ours = false;
    MutateCatalog([&](Json& catalog) {
      ours = !catalog.contains(core::kCryptoMember);
      if (ours) catalog[core::kCryptoMember] = core::Keyring::FirstSection(first);
    });
    if (ours) keyring_.Install(first);
  }
  // Whoever created the section, this passphrase must open its current key.
  Status unlocked = keyring_.Unlock(Crypto(), /*require_current=*/true);
  if (!unlocked.ok()) {
    ThrowError(unlocked.code(), "resource '" + resource + "' has secret fields: " + unlocked.message(), resource);
  }
}

std::vector<std::string> DatabaseCore::ResourceNames() {
  std::lock_guard lock(mu_);
  std::vector<std::string> names;
  for (const auto& [name, state] : states_) names.push_back(name);
  return names;
}

void DatabaseCore::SettleCapabilities() {
  std::optional<bool> conditional_writes;
  std::optional<bool> etag_is_body_md5;
  {
    std::lock_guard lock(mu_);
    auto caps = catalog_.find("capabilities");
    auto known = [&](const char* name) -> std::optional<bool> {
      if (caps == catalog_.end() || !caps->is_object()) return std::nullopt;
      auto it = caps->find(name);
      if (it == caps->end() || !it->is_boolean()) return std::nullopt;
      return it->get<bool>();
    };
    conditional_writes = known("conditionalWrites");
    etag_is_body_md5 = known("etagIsBodyMd5");  // absent in catalogs probed before it existed
  }
  // A catalog from before etagIsBodyMd5 existed is not probed again for it alone: a probe
  // at every connect (3 PUTs and a DELETE) until some catalog write recorded it would be a
  // surprise cost. MD5 ETags are assumed there; that is safe, as compaction checks each
  // entry's ETag against its body's MD5 and leaves out the ones that differ.
  if (conditional_writes && !etag_is_body_md5) etag_is_body_md5 = true;
  if (!conditional_writes || !etag_is_body_md5) {
    Result<store::ProbedCapabilities> probed =
        store::ProbeCapabilities(*store_, layout_.Root() + "s3db-probe-" + util::RandomAlnum(12));
    ThrowIfError(probed.status());
    if (!conditional_writes) conditional_writes = probed_conditional_writes_ = probed->conditional_writes;
    if (!etag_is_body_md5) etag_is_body_md5 = probed_etag_is_body_md5_ = probed->etag_is_body_md5;
  }
  if (!*etag_is_body_md5) store_ = store::NewEtagsNotMd5Store(std::move(store_));
  if (!*conditional_writes) store_ = store::NewCheckThenWriteStore(std::move(store_));  // warns, once per process
}

void DatabaseCore::RecordProbedCapabilities(Json& catalog) const {
  if (!probed_conditional_writes_ && !probed_etag_is_body_md5_) return;
  Json& caps = catalog["capabilities"];
  if (!caps.is_object()) caps = Json::object();
  bool added = false;
  if (probed_conditional_writes_ && !caps.contains("conditionalWrites")) {
    caps["conditionalWrites"] = *probed_conditional_writes_;
    added = true;
  }
  if (probed_etag_is_body_md5_ && !caps.contains("etagIsBodyMd5")) {
    caps["etagIsBodyMd5"] = *probed_etag_is_body_md5_;
    added = true;
  }
  if (added) caps["probedAt"] = util::FormatIso8601Ms(util::NowMs());
}

}  // namespace s3db

// DatabaseCore: what a Database and its Resources share (the store, the key layout, the
// cached catalog). Internal; the public face is database.h / resource.h.
//
// May call: every layer below it.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "exec/executing_store.h"
#include "format/key_layout.h"
#include "plugins/plugin_host.h"
#include "record/keyring.h"
#include "resource/resource_context.h"
#include "s3db/database.h"
#include "s3db/object_store.h"
#include "s3db/resource.h"
#include "schema/catalog.h"

namespace s3db {

class DatabaseCore : public ResourceContext {
 public:
  // `host` runs the plugins; `store` is the stack it built (host->BuildStore).
  DatabaseCore(std::unique_ptr<plugins::PluginHost> host, std::unique_ptr<ObjectStore> store, std::string prefix,
               DatabaseOptions options);
  // Resources go first: their background reference writers still use the store, the
  // catalog and the keyring while they drain. Then the plugins stop, before the store goes.
  ~DatabaseCore() override;

  plugins::PluginHost& host() { return *host_; }
  // The database's events ("connected", "resourceCreated").
  EventEmitter& database_events() { return host_->database_events(); }
  // Every resource's events, for plugins (payloads name the resource).
  EventEmitter& resource_events() override { return host_->resource_events(); }
  // The first plugin that answers reads; nullptr without one.
  ReadCache* cache() const override { return cache_.load(std::memory_order_acquire); }
  // A cache added after connect (Database::UsePlugin); false when one is already in use.
  bool InstallCache(ReadCache* cache);
  // Database::Clear: forgets every resource's state and the catalog (re-read: absent).
  void ForgetCatalog();
  // The executor in the store stack (set once at open), for Database::executor_stats.
  void set_executor(exec::ExecutingStore* executor) { executor_ = executor; }
  ExecutorStats executor_stats() const { return executor_ != nullptr ? executor_->stats() : ExecutorStats{}; }

  ObjectStore& store() override { return *store_; }
  const format::KeyLayout& layout() const override { return layout_; }
  const ResourceSettings& settings() const override { return settings_; }
  const DatabaseOptions& options() const { return options_; }

  // Reads s3db.json (absent: an empty catalog, nothing written).
  void LoadCatalog() override;

  // The state of a resource; nullptr when the catalog has none of that name. With
  // `refresh_on_miss`, a miss re-reads the catalog once (another process may have made it).
  std::shared_ptr<const core::ResourceState> State(const std::string& name, bool refresh_on_miss) override;
  // The state that can read `version` of the resource (re-reads the catalog once when this
  // process has not seen that version yet). Throws Corruption when there is none.
  std::shared_ptr<const core::ResourceState> StateWithVersion(const std::string& name, int version) override;

  // Read-modify-write of the catalog with If-Match (If-None-Match when it does not exist
  // yet), retried when another writer got in first. `mutate` may throw to abort.
  void MutateCatalog(const std::function<void(Json& catalog)>& mutate);

  Resource& ResourceObject(const std::string& name) override;  // created on first use
  std::vector<std::string> ResourceNames();

  // The keyring, agreeing with the catalog's crypto section (derived on first use, so a
  // database without secret fields never pays for PBKDF2). Never throws: a keyring that
  // cannot seal says so by current_id() == 0.
  const core::Keyring& Keys() override;
  core::Keyring& MutableKeys() { return keyring_; }
  // Throws AccessDenied (naming the cause) unless new values of `resource` can be sealed.
  void RequireKeys(const std::string& resource) override;
  // The catalog's crypto section; null when it has none.
  Json Crypto();
  // Changes whenever a re-read of the catalog brings a different crypto section.
  uint64_t CryptoGeneration() override;
  // Makes sure the catalog has a crypto section this connection's passphrase opens: checks
  // it (AccessDenied for a wrong passphrase) or creates it. Used before the first secret field.
  void EnsureCrypto(const std::string& resource);
  // At connect: a given passphrase must open the current key. Throws AccessDenied.
  void CheckPassphrase();

  // At connect, for a backend whose capabilities are not known (S3): whether it honours
  // conditional writes and gives body-MD5 ETags. Takes the answers the catalog keeps, or
  // probes once (one probe answers both) and keeps them with the next catalog write.
  // Without conditional writes, warns once and falls back to check-then-write; without MD5
  // ETags, the store says so (capabilities()), and compaction and snapshot reads step aside.
  void SettleCapabilities();

 private:
  void InstallCatalog(Json catalog, std::string etag);  // mu_ held
  // Adds what SettleCapabilities probed to `catalog`'s capabilities, where it is absent.
  void RecordProbedCapabilities(Json& catalog) const;

  std::unique_ptr<plugins::PluginHost> host_;  // outlives the store it stacked
  std::atomic<ReadCache*> cache_{nullptr};     // owned by the host's plugin list
  std::unique_ptr<ObjectStore> store_;
  exec::ExecutingStore* executor_ = nullptr;  // inside store_
  format::KeyLayout layout_;
  DatabaseOptions options_;
  ResourceSettings settings_;

  std::mutex mu_;
  Json catalog_;
  std::string catalog_etag_;  // empty: catalog object absent
  std::map<std::string, std::shared_ptr<const core::ResourceState>> states_;
  std::map<std::string, std::unique_ptr<Resource>> resources_;
  std::optional<bool> probed_conditional_writes_;  // to record in the catalog
  std::optional<bool> probed_etag_is_body_md5_;    // likewise
  std::atomic<uint64_t> crypto_generation_{0};     // bumped (under mu_) when the catalog's crypto section changes

  core::Keyring keyring_;
  std::mutex keys_mu_;
  // The crypto_generation_ the keyring agrees with; set under keys_mu_, read without it.
  std::atomic<uint64_t> keys_generation_{static_cast<uint64_t>(-1)};
  Status keys_status_;
};

}  // namespace s3db

// ResourceContext: what a Resource needs from the database that owns it.
//
// The database layer (database/database_core.h) implements it; the resource layer sees only
// this interface, so no file here includes the database and the arrows point down. One
// context serves every resource of a Database and outlives them. Thread-safe.
//
// May call: schema/ (the states it hands out), record/ (the keyring), plugins/ (the cache),
// store/. Called by: resource/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "format/key_layout.h"
#include "record/keyring.h"
#include "s3db/object_store.h"
#include "s3db/plugin.h"
#include "schema/catalog.h"

namespace s3db {

class Resource;

// The database options a resource acts on.
struct ResourceSettings {
  int concurrency = 1;          // DatabaseOptions::concurrency
  int max_update_attempts = 1;  // DatabaseOptions::max_update_attempts
  size_t metadata_budget = 0;   // DatabaseOptions::metadata_budget
};

class ResourceContext {
 public:
  virtual ~ResourceContext() = default;

  virtual ObjectStore& store() = 0;
  virtual const format::KeyLayout& layout() const = 0;
  virtual const ResourceSettings& settings() const = 0;
  // Every resource's events, for plugins (payloads name the resource).
  virtual EventEmitter& resource_events() = 0;
  // The first plugin that answers reads; nullptr without one.
  virtual ReadCache* cache() const = 0;
  // The Resource object of `name` (created on first use).
  virtual Resource& ResourceObject(const std::string& name) = 0;

  // Re-reads the catalog (another process may have changed it).
  virtual void LoadCatalog() = 0;
  // The state of a resource; nullptr when the catalog has none of that name. With
  // `refresh_on_miss`, a miss re-reads the catalog once.
  virtual std::shared_ptr<const core::ResourceState> State(const std::string& name, bool refresh_on_miss) = 0;
  // The state that can read `version` (re-reads the catalog once when this process has not
  // seen that version yet). Throws Corruption when there is none.
  virtual std::shared_ptr<const core::ResourceState> StateWithVersion(const std::string& name, int version) = 0;

  // The keyring agreeing with the catalog's crypto section. Never throws.
  virtual const core::Keyring& Keys() = 0;
  // Throws AccessDenied (naming the cause) unless new values of `resource` can be sealed.
  virtual void RequireKeys(const std::string& resource) = 0;
  // Changes whenever a re-read of the catalog brings a different crypto section.
  virtual uint64_t CryptoGeneration() = 0;
};

}  // namespace s3db

#include "s3db/database.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "database/database_core.h"
#include "exec/executing_store.h"
#include "exec/retry_policy.h"
#include "plugins/plugin_host.h"
#include "s3db/cache.h"
#include "s3db/json_limits.h"
#include "s3db/plugin.h"
#include "s3db/stores.h"
#include "util/secret_cipher.h"
#include "util/time_format.h"

namespace s3db {
namespace {

// The secret-field options; the rest are checked by DatabaseOptions::Validate.
void CheckSecretOptions(const DatabaseOptions& options) {
  if (options.passphrase && options.passphrase->empty()) {
    throw InvalidArgument("the passphrase must not be empty (leave it unset for a database without secret fields)");
  }
  if (options.kdf_iterations < 1000 || options.kdf_iterations > util::kMaxKdfIterations) {
    throw InvalidArgument("kdf_iterations must be 1000 to " + std::to_string(util::kMaxKdfIterations) + ", got " +
                          std::to_string(options.kdf_iterations));
  }
}

// Secret fields need the key before anything is recorded: fail early, with the cause.
void PrepareSecrets(DatabaseCore& core, const ResourceDefinition& definition) {
  // Before anything copies the attributes: a copy of a value nested ~100,000 deep overflows the
  // stack (the rule parser's own limit, 32 levels, is met only after a copy).
  if (JsonValueTooDeep(definition.attributes)) {
    throw InvalidSchema("resource '" + definition.name + "': attributes are " + TooDeepText(), definition.name);
  }
  if (core::CheckDefinition(definition).HasSecrets()) core.EnsureCrypto(definition.name);
}

}  // namespace
}  // namespace s3db

namespace s3db {

Database::Database(std::unique_ptr<DatabaseCore> core) : core_(std::move(core)) {}
Database::~Database() = default;

namespace {

// One concurrency for everything (DatabaseOptions::EffectiveConcurrency). With autotune the
// executor's slots start there and may grow to autotune.max_concurrency, so bulk calls and
// the S3 connection pool are sized for the max: the slots are what bounds requests then.
DatabaseOptions Normalized(const DatabaseOptions& given) {
  DatabaseOptions options = given;
  const int concurrency = given.EffectiveConcurrency();
  options.executor.concurrency = concurrency;
  options.concurrency =
      given.executor.autotune.enabled ? std::max(concurrency, given.executor.autotune.max_concurrency) : concurrency;
  return options;
}

}  // namespace

std::unique_ptr<Database> Database::Connect(const DatabaseOptions& given) {
  ThrowIfError(given.Validate());
  const DatabaseOptions options = Normalized(given);
  CheckSecretOptions(options);
  Result<StoreUri> uri = ParseStoreUri(options.uri.empty() ? kDefaultUri : options.uri);
  ThrowIfError(uri.status());
  const bool s3 =
      uri->scheme == StoreScheme::kS3 || uri->scheme == StoreScheme::kHttp || uri->scheme == StoreScheme::kHttps;
  // The S3 store retries by itself (it alone can tell whether a conditional write that timed
  // out had landed), under the executor's retry policy, and the executor does not retry on
  // top. Its probe of conditional writes runs once per bucket, kept in the catalog. Options
  // the URI carries itself win over these.
  const bool probe_unless_known = s3 && !uri->options.count("probe");
  S3StoreOptions s3_settings;
  if (s3) {
    s3_settings.probe = false;
    // The seeds' httpClientOptions: the connections (DatabaseOptions::http).
    s3_settings.concurrency = options.http.max_sockets > 0 ? options.http.max_sockets : options.concurrency;
    s3_settings.max_idle_connections = options.http.max_free_sockets;
    s3_settings.keep_alive = options.http.keep_alive;
    s3_settings.keep_alive_interval = options.http.keep_alive_interval;
    if (options.http.timeout) s3_settings.request_timeout = *options.http.timeout;
    const exec::RetryOptions retry = exec::RetryOptionsFor(options.executor);
    s3_settings.max_attempts = retry.max_attempts;
    s3_settings.retry_base_delay = retry.base_delay;
    s3_settings.retry_max_delay = retry.max_delay;
    // Plugins that count (CostsPlugin) take what the S3 store itself sends, each retry and
    // write-tag check included, which no decorator above the store can see.
    std::vector<std::shared_ptr<Plugin>> takers;
    for (const auto& plugin : options.plugins) {
      if (plugin && plugin->TakeBackendRequests()) takers.push_back(plugin);
    }
    if (!takers.empty()) {
      s3_settings.on_request = [takers](const SentRequest& sent) {
        for (const auto& plugin : takers) plugin->OnBackendRequest(sent);
      };
    }
  }
  Result<std::unique_ptr<ObjectStore>> store = OpenStore(*uri, s3_settings);
  ThrowIfError(store.status());
  return OpenWith(std::move(store).value(), uri->prefix, given, /*store_retries=*/s3, probe_unless_known);
}

std::unique_ptr<Database> Database::Open(std::unique_ptr<ObjectStore> store, const std::string& prefix,
                                         const DatabaseOptions& options) {
  return OpenWith(std::move(store), prefix, options, /*store_retries=*/false, /*probe=*/false);
}

std::unique_ptr<Database> Database::OpenWith(std::unique_ptr<ObjectStore> store, const std::string& prefix,
                                             const DatabaseOptions& given, bool store_retries, bool probe) {
  ThrowIfError(given.Validate());
  const DatabaseOptions options = Normalized(given);
  CheckSecretOptions(options);
  const size_t limit = store->capabilities().metadata_limit;
  if (options.metadata_budget > limit) {
    throw InvalidArgument("metadata_budget " + std::to_string(options.metadata_budget) + " is more than " +
                          store->Describe() + " accepts (" + std::to_string(limit) + " bytes)");
  }
  ExecutorOptions executor = options.executor;
  if (store_retries) executor.retries = 0;
  std::vector<std::shared_ptr<Plugin>> plugins = options.plugins;
  if (options.cache) {
    CacheOptions cache = *options.cache;
    if (cache.connections == 0) cache.connections = static_cast<size_t>(options.concurrency);  // redis pool
    plugins.push_back(std::make_shared<CachePlugin>(std::move(cache)));
  }
  auto host = std::make_unique<plugins::PluginHost>(prefix, std::move(plugins));
  for (const auto& [event, listener] : options.listeners) host->database_events().On(event, listener);
  host->SetupAll();
  // Decorators that count (kInner) sit under the executor and see each attempt it sends.
  exec::ExecutingStore* executing = nullptr;
  std::unique_ptr<ObjectStore> stack = host->BuildStore(std::move(store), [&](std::unique_ptr<ObjectStore> inner) {
    auto made = std::make_unique<exec::ExecutingStore>(std::move(inner), executor);
    executing = made.get();
    return made;
  });
  auto core = std::make_unique<DatabaseCore>(std::move(host), std::move(stack), prefix, options);
  core->set_executor(executing);
  // The catalog GET and the probe go through the plugins' decorators: they are counted.
  core->LoadCatalog();
  if (probe) core->SettleCapabilities();
  core->CheckPassphrase();  // a wrong passphrase fails here, not at the first secret read
  core->database_events().Emit(events::kConnected, Json{{"store", core->store().Describe()}, {"prefix", prefix}});
  plugins::PluginHost& started = core->host();
  std::unique_ptr<Database> db(new Database(std::move(core)));
  started.set_database(db.get());  // plugins reach it from Start on
  started.StartAll();
  return db;
}

Resource& Database::CreateResource(const ResourceDefinition& definition, const HookSet& hooks) {
  Resource& created = CreateInCatalog(definition);
  created.hooks().Add(hooks);
  EmitResourceCreated(definition.name, created.version(), true);
  return created;
}

void Database::EmitResourceCreated(const std::string& name, int version, bool created) {
  EventEmitter& events = core_->database_events();
  if (!events.HasListeners(events::kResourceCreated)) return;
  events.Emit(events::kResourceCreated, Json{{"resource", name}, {"version", version}, {"created", created}});
}

Resource& Database::CreateInCatalog(const ResourceDefinition& definition) {
  PrepareSecrets(*core_, definition);
  core_->MutateCatalog([&](Json& catalog) {
    if (catalog["resources"].contains(definition.name)) {
      throw AlreadyExists("resource '" + definition.name + "' already exists", definition.name);
    }
    // Objects left under the name (a drop that did not finish) would be read with the new
    // registry and misread: refuse, and say how to clear them.
    ListRequest probe;
    probe.prefix = core_->layout().ResourcePrefix(definition.name);
    probe.max_keys = 1;
    Result<ListPage> page = core_->store().List(probe);
    ThrowIfError(page.status(), definition.name);
    if (!page->objects.empty()) {
      throw AlreadyExists("resource '" + definition.name + "' is not in the catalog but objects remain under " +
                              probe.prefix + " (an unfinished drop?); drop it again to clear them",
                          definition.name);
    }
    core::AddResourceVersion(catalog, definition, util::NowMs());
  });
  return core_->ResourceObject(definition.name);
}

CreateResourceResult Database::CreateResourceIfNotExists(const ResourceDefinition& definition, const HookSet& hooks) {
  PrepareSecrets(*core_, definition);
  auto state = core_->State(definition.name, /*refresh_on_miss=*/true);
  if (!state) {
    try {
      return {&CreateResource(definition, hooks), true, "New resource created"};
    } catch (const AlreadyExists&) {
      state = core_->State(definition.name, true);  // another process won the race
      if (!state) throw;
    }
  }
  std::string hash = definition.DefinitionHash();
  if (state->current().hash == hash) {
    Resource& existing = core_->ResourceObject(definition.name);
    existing.hooks().Add(hooks);
    return {&existing, false, "Resource already exists with same definition hash"};
  }
  int version = 0;
  core_->MutateCatalog([&](Json& catalog) {
    const Json& entry = catalog["resources"][definition.name];
    int current = entry["currentVersion"].get<int>();
    if (entry["versions"][std::to_string(current)]["hash"] == hash) {
      version = current;  // someone recorded the same change meanwhile
      return;
    }
    version = core::AddResourceVersion(catalog, definition, util::NowMs());
  });
  Resource& changed = core_->ResourceObject(definition.name);
  changed.hooks().Add(hooks);
  EmitResourceCreated(definition.name, version, false);
  return {&changed, false,
          "Resource already exists with another definition hash: recorded it as version " + std::to_string(version)};
}

namespace {

// A name no resource can have (ValidateResourceName) is a caller's mistake, not an absent
// resource: InvalidArgument saying why, with the name quoted safely (control characters and
// bytes that are not UTF-8 escaped), before any request.
void CheckResourceName(const std::string& name) {
  Status valid = format::ValidateResourceName(name);
  if (!valid.ok()) throw InvalidArgument(valid.message(), name);
}

}  // namespace

Resource& Database::resource(const std::string& name) {
  CheckResourceName(name);
  if (!core_->State(name, /*refresh_on_miss=*/true)) {
    throw NotFound("resource '" + name + "' does not exist", name);
  }
  return core_->ResourceObject(name);
}

bool Database::ResourceExists(const std::string& name) { return core_->State(name, true) != nullptr; }

std::vector<std::string> Database::ResourceNames() {
  core_->LoadCatalog();
  return core_->ResourceNames();
}

void Database::DropResource(const std::string& name) {
  CheckResourceName(name);
  bool in_catalog = core_->State(name, true) != nullptr;
  size_t removed = core_->ResourceObject(name).DeleteAll();  // drops its cache entries too
  if (!in_catalog) {
    if (removed == 0) throw NotFound("resource '" + name + "' does not exist", name);
    return;
  }
  core_->MutateCatalog([&](Json& catalog) { catalog["resources"].erase(name); });
}

void Database::Clear() {
  // Each resource first: it waits for its background reference writes and drops this
  // process's cached reads of it.
  for (const std::string& name : ResourceNames()) core_->ResourceObject(name).DeleteAll();
  // Then everything else under the prefix, the catalog last in key order or not.
  ListRequest request;
  request.prefix = core_->layout().Root();
  std::vector<std::pair<std::string, Status>> failed;
  while (true) {
    Result<ListPage> page = core_->store().List(request);
    ThrowIfError(page.status());
    if (page->objects.empty()) break;
    std::vector<std::string> keys;
    for (const auto& o : page->objects) keys.push_back(o.key);
    request.start_after = keys.back();  // a fresh listing: the keys before are gone
    Result<DeleteManyResult> deleted = core_->store().DeleteMany(keys);
    ThrowIfError(deleted.status());
    failed.insert(failed.end(), deleted->errors.begin(), deleted->errors.end());
  }
  core_->ForgetCatalog();
  if (!failed.empty()) {
    const auto& [key, status] = failed.front();
    ThrowError(status.code(), "clearing the database: " + std::to_string(failed.size()) +
                                  " objects could not be deleted, the first " + key + ": " + status.message() +
                                  " (run it again for the rest)");
  }
}

ExecutorStats Database::executor_stats() const { return core_->executor_stats(); }

Plugin& Database::UsePlugin(std::shared_ptr<Plugin> plugin) {
  if (!plugin) throw InvalidArgument("UsePlugin needs a plugin, not an empty pointer");
  ReadCache* cache = plugin->read_cache();
  if (cache && core_->cache() != nullptr) {
    throw InvalidArgument("plugin '" + plugin->name() + "' answers reads, and this database already has a cache");
  }
  Plugin& added = *plugin;
  core_->host().Add(std::move(plugin));
  if (cache) core_->InstallCache(cache);
  return added;
}

PartitionRepairResult Database::Repair(const std::string& name, const PartitionRepairOptions& options) {
  PartitionRepairResult out = resource(name).RepairPartitions(options);
  // A catalog write (resource create) killed before its rename leaves its temporary beside
  // the catalog, outside every resource.
  StaleTemporaryOptions sweep;
  sweep.prefix = core_->layout().Catalog();
  sweep.max_age = options.temporary_max_age;
  sweep.dry_run = options.dry_run;
  Result<StaleTemporaryResult> swept = core_->store().RemoveStaleTemporaries(sweep);
  if (!swept.ok()) {
    ThrowError(swept.code(), "repair of '" + name + "': cannot remove the stale temporary files beside the catalog: " +
                                 swept.status().message());
  }
  out.stale_temporaries += swept->stale;
  out.temporaries_removed += swept->removed;
  out.temporaries_kept += swept->kept;
  return out;
}

RotateKeyResult Database::RotateKey(const std::string& new_passphrase) {
  if (new_passphrase.empty()) throw InvalidArgument("the new passphrase must not be empty");
  core_->LoadCatalog();  // rotate the key that is current now, not the one seen at connect
  const Json crypto = core_->Crypto();
  if (crypto.is_null()) {
    throw InvalidArgument(
        "this database has no encryption key yet (no resource has had a secret field), so there is nothing to "
        "rotate: connect with the new passphrase instead");
  }
  core::Keyring& keys = core_->MutableKeys();
  Status unlocked = keys.Unlock(crypto, /*require_current=*/true);
  if (!unlocked.ok()) ThrowError(unlocked.code(), "rotating the key: " + unlocked.message());
  // PBKDF2 once, outside the catalog update (which may be retried).
  const core::NewKey derived = keys.DeriveKey(new_passphrase, util::NowMs());
  core::NewKey installed;
  core_->MutateCatalog([&](Json& catalog) {
    Result<std::pair<Json, core::NewKey>> rotated =
        keys.Rotate(catalog.value(core::kCryptoMember, Json()), derived, util::NowMs());
    if (!rotated.ok()) ThrowError(rotated.code(), "rotating the key: " + rotated.status().message());
    catalog[core::kCryptoMember] = std::move(rotated->first);
    installed = std::move(rotated->second);
  });
  keys.Install(installed);
  keys.SetPassphrase(new_passphrase);
  RotateKeyResult result;
  result.key_id = installed.id;
  for (const std::string& name : core_->ResourceNames()) {
    auto state = core_->State(name, false);
    if (state && core::EntryHasSecrets(*state)) result.resources.push_back(core_->ResourceObject(name).ReEncrypt());
  }
  return result;
}

std::string Database::Describe() const { return core_->store().Describe(); }
EventEmitter& Database::events() { return core_->database_events(); }
ObjectStore& Database::store() { return core_->store(); }

std::string ReadPassphraseFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) {
    throw InvalidArgument("cannot read the passphrase file " + path + ": " + std::strerror(errno));
  }
  // A passphrase is short: a bound keeps /dev/zero or a wrong path from taking the memory.
  constexpr size_t kMaxBytes = size_t{1} << 20;
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    throw InvalidArgument("cannot read the passphrase file " + path + ": a directory");
  }
  std::string text;
  char buffer[4096];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    text.append(buffer, static_cast<size_t>(in.gcount()));
    if (text.size() > kMaxBytes) throw InvalidArgument("the passphrase file " + path + " is larger than 1 MiB");
  }
  if (in.bad()) throw InvalidArgument("cannot read the passphrase file " + path);
  if (!text.empty() && text.back() == '\n') text.pop_back();
  if (!text.empty() && text.back() == '\r') text.pop_back();
  if (text.empty()) throw InvalidArgument("the passphrase file " + path + " is empty");
  return text;
}

}  // namespace s3db

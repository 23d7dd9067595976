// PluginHost: the machinery a Database uses to run its plugins (plugin.h has the contract).
// Internal: the core creates one per Database and makes these calls, in this order:
//
//   PluginHost host(prefix, options.plugins);
//   host.SetupAll();                                   // Plugin::Setup, in order
//   store = host.BuildStore(std::move(backend), [&](auto inner) {
//     return std::make_unique<exec::ExecutingStore>(std::move(inner), executor_options);
//   });                                                // kInner decorators, middle, kOuter
//   ... read the catalog ...
//   host.database_events().Emit(events::kConnected, {...});
//   host.StartAll();                                   // Plugin::Start, in order
//   ...
//   host.StopAll();                                    // in ~Database, before the store dies
//
// Resource events go to the resource's own emitter and then to host.resource_events() with
// "resource" in the payload, which is what OnResourceEvent subscribes to.
//
// Thread-safety: SetupAll/BuildStore/StartAll/Add/StopAll from one thread at a time (the
// connect, UsePlugin and the close); the emitters and store() from any thread.
//
// May call: util/ and the public headers; the stores only through ObjectStore.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "s3db/plugin.h"

namespace s3db::plugins {

class PluginHost final : public PluginContext {
 public:
  PluginHost(std::string prefix, std::vector<std::shared_ptr<Plugin>> plugins, EventEmitter::ReportFn report = nullptr);
  ~PluginHost() override;  // stops the plugins if StopAll was not called
  PluginHost(const PluginHost&) = delete;
  PluginHost& operator=(const PluginHost&) = delete;

  // Throws what a plugin's Setup threw when it is an s3db::Error, else InvalidArgument naming
  // the plugin. An empty plugin pointer is InvalidArgument.
  void SetupAll();
  // Wraps `backend` in the kInner decorators (first plugin innermost), then in `middle` (the
  // executor; none when empty), then in the kOuter decorators. The host keeps a pointer to
  // the result for store(); the caller owns it and must keep it alive until StopAll.
  std::unique_ptr<ObjectStore> BuildStore(std::unique_ptr<ObjectStore> backend, const StoreDecorator& middle = nullptr);
  // Starts in order; on a throw, stops the ones started (reverse order) and rethrows as
  // SetupAll does.
  void StartAll();
  // Stops the started plugins in reverse order; failures are reported on the database
  // emitter ("error" with type "pluginError", or a line). Idempotent.
  void StopAll() noexcept;
  // A plugin added once the plugins have started (Database::UsePlugin): Setup, then Start.
  // WrapStore is refused (the stack is built at connect), and so is a plugin already in
  // the list. On a throw the plugin is not kept and the subscriptions it made are removed;
  // rethrows as SetupAll does.
  void Add(std::shared_ptr<Plugin> plugin);
  // The Database that PluginContext::database() returns; set once it exists.
  void set_database(Database* database) { database_ = database; }

  EventEmitter& database_events() { return database_events_; }
  EventEmitter& resource_events() { return resource_events_; }

  // The first plugin of type T, or nullptr (for tests and tools; the layers above ask the
  // plugin interface instead, as FirstReadCache does).
  template <typename T>
  T* Find() const {
    for (const auto& p : plugins_) {
      if (auto* t = dynamic_cast<T*>(p.get())) return t;
    }
    return nullptr;
  }

  // The first plugin that answers reads (Plugin::read_cache), or nullptr.
  ReadCache* FirstReadCache() const {
    for (const auto& p : plugins_) {
      if (ReadCache* cache = p->read_cache()) return cache;
    }
    return nullptr;
  }

  // PluginContext
  const std::string& prefix() const override { return prefix_; }
  SubscriptionId OnDatabaseEvent(const std::string& event, EventEmitter::Listener listener) override;
  SubscriptionId OnResourceEvent(const std::string& event, EventEmitter::Listener listener) override;
  bool Off(SubscriptionId id) override;
  void WrapStore(StoreDecorator decorator, StorePosition position = StorePosition::kOuter) override;
  ObjectStore& store() override;
  Database& database() override;

 private:
  enum class Phase { kNew, kSetup, kBuilt, kStarted, kStopped };

  [[noreturn]] void Rethrow(const std::string& plugin, const char* step) const;

  std::string prefix_;
  std::vector<std::shared_ptr<Plugin>> plugins_;
  EventEmitter database_events_;
  EventEmitter resource_events_;
  std::vector<StoreDecorator> inner_, outer_;
  Phase phase_ = Phase::kNew;
  size_t started_ = 0;  // plugins_[0, started_) have been started
  ObjectStore* store_ = nullptr;
  Database* database_ = nullptr;
  // While Add runs: the plugin being added, and the subscriptions it made (undone on failure).
  Plugin* adding_ = nullptr;
  std::vector<SubscriptionId> adding_subscriptions_;
};

}  // namespace s3db::plugins

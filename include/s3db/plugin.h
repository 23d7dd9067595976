// Plugins: code that joins a Database to observe or change what it does (the seeds' plugins:
// costs, cache, audit, ...). A plugin gets two powers, both through its PluginContext:
//
//  1. Events: subscribe to the database's events and to every resource's events
//     (events.h lists them). The EventEmitter rules hold: listeners are quick and whatever
//     they throw stays inside the emitter.
//  2. The store: wrap the database's ObjectStore in a decorator, so every store request the
//     database makes passes through the plugin, which may observe it (CostsPlugin) or answer it
//     itself without passing it on (a test double, a read-only guard).
//
// A plugin object serves one Database (its Setup runs once). Lifecycle, driven by the
// Database, one thread, in this order:
//   Setup(context)  each plugin in the order given; subscribe and WrapStore here. A throw
//                   fails the connect.
//   (the store stack is built, the catalog read, "connected" emitted)
//   Start()         each plugin in order; context.store() is usable from here on. A throw
//                   fails the connect, after the plugins already started are stopped.
//   Stop()          when the Database closes, in reverse order, before the store goes away.
//                   What Stop throws is reported and swallowed.
//
// Where a decorator sits (StorePosition): kInner decorators wrap the backend store itself,
// below the executor, so they see every attempt the executor sends (its retries included):
// that is where counting belongs. kOuter decorators wrap the whole stack, above the executor,
// so they see each logical request once and can answer it before it takes a request slot.
// Within a position the first plugin's decorator is the innermost.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "s3db/events.h"
#include "s3db/object_store.h"

namespace s3db {

enum class StorePosition { kInner, kOuter };

// Takes the store below and returns the one the layer above will call. It must keep the
// ObjectStore contract (thread-safe, failures as values) and own `inner`.
using StoreDecorator = std::function<std::unique_ptr<ObjectStore>(std::unique_ptr<ObjectStore> inner)>;

class PluginContext {
 public:
  virtual ~PluginContext() = default;

  // The database's key prefix ("" or "a/b"): its objects live under "<prefix>/".
  virtual const std::string& prefix() const = 0;

  // Database events ("connected", "resourceCreated").
  virtual SubscriptionId OnDatabaseEvent(const std::string& event, EventEmitter::Listener listener) = 0;
  // An event of every resource, present and future; the payload names it in "resource".
  virtual SubscriptionId OnResourceEvent(const std::string& event, EventEmitter::Listener listener) = 0;
  // Removes a subscription made by either call.
  virtual bool Off(SubscriptionId id) = 0;

  // Adds a decorator to the store stack. Only during Setup (InvalidArgument afterwards).
  virtual void WrapStore(StoreDecorator decorator, StorePosition position = StorePosition::kOuter) = 0;

  // The database's whole store stack (what resources call). From Start() on; InvalidArgument
  // before. Requests a plugin makes here are counted, cached and retried like any other.
  virtual ObjectStore& store() = 0;
};

class Plugin {
 public:
  virtual ~Plugin() = default;
  // A short stable name ("costs", "cache"), used in messages.
  virtual std::string name() const = 0;
  virtual void Setup(PluginContext& context) = 0;
  virtual void Start() {}
  virtual void Stop() {}
};

}  // namespace s3db

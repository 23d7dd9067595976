#include "plugins/plugin_host.h"

#include <exception>

namespace s3db::plugins {

PluginHost::PluginHost(std::string prefix, std::vector<std::shared_ptr<Plugin>> plugins, EventEmitter::ReportFn report)
    : prefix_(std::move(prefix)), plugins_(std::move(plugins)), database_events_(report), resource_events_(report) {
  // The key layout drops a prefix's outer slashes; plugins must see the same prefix.
  while (!prefix_.empty() && prefix_.front() == '/') prefix_.erase(0, 1);
  while (!prefix_.empty() && prefix_.back() == '/') prefix_.pop_back();
}

PluginHost::~PluginHost() { StopAll(); }

void PluginHost::Rethrow(const std::string& plugin, const char* step) const {
  try {
    throw;
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw InvalidArgument("plugin '" + plugin + "' failed in " + step + ": " + e.what());
  } catch (...) {
    throw InvalidArgument("plugin '" + plugin + "' failed in " + step + " (a non-std exception)");
  }
}

void PluginHost::SetupAll() {
  if (phase_ != Phase::kNew) throw InvalidArgument("plugins are already set up");
  for (const auto& plugin : plugins_) {
    if (!plugin) throw InvalidArgument("an empty plugin pointer in the plugin list");
  }
  phase_ = Phase::kSetup;
  for (const auto& plugin : plugins_) {
    try {
      plugin->Setup(*this);
    } catch (...) {
      Rethrow(plugin->name(), "Setup");
    }
  }
}

std::unique_ptr<ObjectStore> PluginHost::BuildStore(std::unique_ptr<ObjectStore> backend,
                                                    const StoreDecorator& middle) {
  if (phase_ != Phase::kSetup && phase_ != Phase::kNew) throw InvalidArgument("the store stack is already built");
  if (!backend) throw InvalidArgument("BuildStore needs a store");
  phase_ = Phase::kBuilt;
  auto wrap = [](std::unique_ptr<ObjectStore> inner, const StoreDecorator& decorator) {
    std::unique_ptr<ObjectStore> outer = decorator(std::move(inner));
    if (!outer) throw InvalidArgument("a store decorator returned no store");
    return outer;
  };
  std::unique_ptr<ObjectStore> store = std::move(backend);
  for (const auto& decorator : inner_) store = wrap(std::move(store), decorator);
  if (middle) store = wrap(std::move(store), middle);
  for (const auto& decorator : outer_) store = wrap(std::move(store), decorator);
  store_ = store.get();
  return store;
}

void PluginHost::StartAll() {
  if (phase_ != Phase::kBuilt) throw InvalidArgument("StartAll needs SetupAll and BuildStore first");
  phase_ = Phase::kStarted;
  for (; started_ < plugins_.size(); ++started_) {
    try {
      plugins_[started_]->Start();
    } catch (...) {
      std::exception_ptr failure = std::current_exception();
      const std::string name = plugins_[started_]->name();
      StopAll();
      try {
        std::rethrow_exception(failure);
      } catch (...) {
        Rethrow(name, "Start");
      }
    }
  }
}

void PluginHost::StopAll() noexcept {
  if (phase_ != Phase::kStarted) return;
  phase_ = Phase::kStopped;
  while (started_ > 0) {
    Plugin& plugin = *plugins_[--started_];
    std::string message;
    try {
      plugin.Stop();
      continue;
    } catch (const std::exception& e) {
      message = e.what();
    } catch (...) {
      message = "a non-std exception";
    }
    try {
      std::string name = plugin.name();
      if (database_events_.Emit(
              events::kError,
              Json{{"type", "pluginError"}, {"plugin", name}, {"step", "Stop"}, {"message", message}}) == 0) {
        database_events_.Report("s3db: plugin '" + name + "' failed in Stop: " + message);
      }
    } catch (...) {
      // name() threw too, or memory ran out: nothing more can be said, and closing goes on.
    }
  }
}

void PluginHost::Add(std::shared_ptr<Plugin> plugin) {
  if (!plugin) throw InvalidArgument("UsePlugin needs a plugin, not an empty pointer");
  const std::string name = plugin->name();
  if (phase_ != Phase::kStarted) throw InvalidArgument("plugin '" + name + "' cannot be added: the database is closed");
  for (const auto& p : plugins_) {
    if (p == plugin) throw InvalidArgument("plugin '" + name + "' is already in use by this database");
  }
  adding_ = plugin.get();
  adding_subscriptions_.clear();
  const char* step = "Setup";
  try {
    plugin->Setup(*this);
    step = "Start";
    plugin->Start();
  } catch (...) {
    for (SubscriptionId id : adding_subscriptions_) Off(id);
    adding_ = nullptr;
    Rethrow(name, step);
  }
  adding_ = nullptr;
  // Every plugin in the list has started, so the new one extends the started range.
  plugins_.push_back(std::move(plugin));
  started_ = plugins_.size();
}

SubscriptionId PluginHost::OnDatabaseEvent(const std::string& event, EventEmitter::Listener listener) {
  SubscriptionId id = database_events_.On(event, std::move(listener));
  if (adding_) adding_subscriptions_.push_back(id);
  return id;
}

SubscriptionId PluginHost::OnResourceEvent(const std::string& event, EventEmitter::Listener listener) {
  SubscriptionId id = resource_events_.On(event, std::move(listener));
  if (adding_) adding_subscriptions_.push_back(id);
  return id;
}

bool PluginHost::Off(SubscriptionId id) { return database_events_.Off(id) || resource_events_.Off(id); }

void PluginHost::WrapStore(StoreDecorator decorator, StorePosition position) {
  if (adding_) {
    throw InvalidArgument("plugin '" + adding_->name() +
                          "' wraps the store, which is built when the database connects: give it in "
                          "DatabaseOptions::plugins instead of adding it with UsePlugin");
  }
  if (phase_ != Phase::kSetup) throw InvalidArgument("WrapStore is only allowed during Plugin::Setup");
  if (!decorator) throw InvalidArgument("WrapStore needs a decorator");
  (position == StorePosition::kInner ? inner_ : outer_).push_back(std::move(decorator));
}

ObjectStore& PluginHost::store() {
  if (phase_ != Phase::kStarted || store_ == nullptr) {
    throw InvalidArgument("PluginContext::store() is available from Plugin::Start on");
  }
  return *store_;
}

Database& PluginHost::database() {
  if (database_ == nullptr) {
    throw InvalidArgument("PluginContext::database() is available from Plugin::Start on (Setup runs before it exists)");
  }
  return *database_;
}

}  // namespace s3db::plugins

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

SubscriptionId PluginHost::OnDatabaseEvent(const std::string& event, EventEmitter::Listener listener) {
  return database_events_.On(event, std::move(listener));
}

SubscriptionId PluginHost::OnResourceEvent(const std::string& event, EventEmitter::Listener listener) {
  return resource_events_.On(event, std::move(listener));
}

bool PluginHost::Off(SubscriptionId id) { return database_events_.Off(id) || resource_events_.Off(id); }

void PluginHost::WrapStore(StoreDecorator decorator, StorePosition position) {
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

}  // namespace s3db::plugins

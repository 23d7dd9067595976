#include "s3db/plugin.h"

#include <cstdio>

#include "util/text.h"

namespace s3db {
namespace {

void RedactAt(Json& node, const std::vector<std::string>& segments, size_t i) {
  if (!node.is_object() || i >= segments.size()) return;
  std::string name = segments[i];
  const bool each = name.size() > 2 && name.compare(name.size() - 2, 2, "[]") == 0;
  if (each) name.resize(name.size() - 2);
  auto it = node.find(name);
  if (it == node.end() || it->is_null()) return;
  const bool last = i + 1 == segments.size();
  auto apply = [&](Json& value) {
    if (value.is_null()) return;  // null reveals nothing; "***" would misreport it as set
    if (last) {
      value = "***";
    } else {
      RedactAt(value, segments, i + 1);
    }
  };
  if (each && it->is_array()) {
    for (Json& item : *it) apply(item);
  } else {
    apply(*it);
  }
}

}  // namespace

Json RedactSecrets(Json record, const std::vector<std::string>& secret_paths) {
  for (const std::string& path : secret_paths) {
    if (!path.empty()) RedactAt(record, util::Split(path, '.'), 0);
  }
  return record;
}

EventEmitter::EventEmitter(ReportFn report)
    : report_(report ? std::move(report) : [](const std::string& line) {
        // One write per line, so lines from threads do not interleave mid-line.
        std::string text = line + "\n";
        std::fputs(text.c_str(), stderr);
      }) {}

SubscriptionId EventEmitter::On(const std::string& event, Listener listener) {
  if (!listener) throw InvalidArgument("an empty listener for event '" + event + "'");
  static std::atomic<SubscriptionId> next_id{1};
  const SubscriptionId id = next_id++;
  std::lock_guard lock(mu_);
  auto& slot = listeners_[event];
  auto next = std::make_shared<List>(slot ? *slot : List());
  next->push_back(Entry{id, std::move(listener)});
  slot = std::move(next);
  subscribed_.store(listeners_.size(), std::memory_order_release);
  return id;
}

bool EventEmitter::Off(SubscriptionId id) {
  std::lock_guard lock(mu_);
  for (auto it = listeners_.begin(); it != listeners_.end(); ++it) {
    const List& list = *it->second;
    for (size_t i = 0; i < list.size(); ++i) {
      if (list[i].id != id) continue;
      auto next = std::make_shared<List>(list);
      next->erase(next->begin() + static_cast<std::ptrdiff_t>(i));
      if (next->empty()) {
        listeners_.erase(it);
        subscribed_.store(listeners_.size(), std::memory_order_release);
      } else {
        it->second = std::move(next);
      }
      return true;
    }
  }
  return false;
}

bool EventEmitter::HasListeners(std::string_view event) const {
  if (subscribed_.load(std::memory_order_acquire) == 0) return false;
  std::lock_guard lock(mu_);
  return listeners_.find(event) != listeners_.end();
}

size_t EventEmitter::Emit(const std::string& event, const Json& payload) {
  std::shared_ptr<const List> snapshot;
  {
    std::lock_guard lock(mu_);
    auto it = listeners_.find(event);
    if (it == listeners_.end()) return 0;
    snapshot = it->second;
  }
  for (const Entry& entry : *snapshot) {
    try {
      entry.listener(payload);
    } catch (const std::exception& e) {
      ListenerFailed(event, e.what());
    } catch (...) {
      ListenerFailed(event, "an exception that is not a std::exception");
    }
  }
  return snapshot->size();
}

void EventEmitter::ListenerFailed(const std::string& event, const std::string& message) {
  failures_++;
  // A failing "error" listener is reported as a line, never as another "error" event, so a
  // broken error listener cannot recurse.
  if (event != events::kError && HasListeners(events::kError)) {
    Emit(events::kError, Json{{"type", "listenerError"}, {"event", event}, {"message", message}});
    return;
  }
  Report("s3db: a listener of event '" + event + "' threw: " + message);
}

void EventEmitter::Report(const std::string& line) const {
  try {
    report_(line);
  } catch (...) {
    // The report function is the last resort; there is nowhere left to report to.
  }
}

// ---- Hooks ------------------------------------------------------------------------------------

namespace {

constexpr std::pair<HookType, const char*> kHookNames[] = {
    {HookType::kPreInsert, "preInsert"}, {HookType::kAfterInsert, "afterInsert"},
    {HookType::kPreUpdate, "preUpdate"}, {HookType::kAfterUpdate, "afterUpdate"},
    {HookType::kPreDelete, "preDelete"}, {HookType::kAfterDelete, "afterDelete"},
};

// The data argument of a pre-hook, checked after each hook ran.
bool IsObject(const Json& j) { return j.is_object(); }
bool IsObject(const std::string&) { return true; }

}  // namespace

const char* HookTypeName(HookType type) {
  for (const auto& [t, name] : kHookNames) {
    if (t == type) return name;
  }
  return "unknown";
}

std::optional<HookType> HookTypeFromName(std::string_view name) {
  for (const auto& [t, n] : kHookNames) {
    if (name == n) return t;
  }
  return std::nullopt;
}

HookRegistry::HookRegistry(std::string resource) : resource_(std::move(resource)) {}

template <typename F>
void HookRegistry::Add(List<F>& list, F hook) {
  if (!hook) throw InvalidArgument("an empty hook function", resource_);
  std::lock_guard lock(mu_);
  auto next = std::make_shared<std::vector<F>>(*list.hooks);
  next->push_back(std::move(hook));
  list.hooks = std::move(next);
}

template <typename F>
std::shared_ptr<const std::vector<F>> HookRegistry::Snapshot(const List<F>& list) const {
  std::lock_guard lock(mu_);
  return list.hooks;
}

void HookRegistry::AddPreInsert(PreInsertHook hook) { Add(pre_insert_, std::move(hook)); }
void HookRegistry::AddAfterInsert(AfterInsertHook hook) { Add(after_insert_, std::move(hook)); }
void HookRegistry::AddPreUpdate(PreUpdateHook hook) { Add(pre_update_, std::move(hook)); }
void HookRegistry::AddAfterUpdate(AfterUpdateHook hook) { Add(after_update_, std::move(hook)); }
void HookRegistry::AddPreDelete(PreDeleteHook hook) { Add(pre_delete_, std::move(hook)); }
void HookRegistry::AddAfterDelete(AfterDeleteHook hook) { Add(after_delete_, std::move(hook)); }

void HookRegistry::Add(const HookSet& set) {
  for (const auto& h : set.pre_insert) AddPreInsert(h);
  for (const auto& h : set.after_insert) AddAfterInsert(h);
  for (const auto& h : set.pre_update) AddPreUpdate(h);
  for (const auto& h : set.after_update) AddAfterUpdate(h);
  for (const auto& h : set.pre_delete) AddPreDelete(h);
  for (const auto& h : set.after_delete) AddAfterDelete(h);
}

size_t HookRegistry::size(HookType type) const {
  switch (type) {
    case HookType::kPreInsert:
      return Snapshot(pre_insert_)->size();
    case HookType::kAfterInsert:
      return Snapshot(after_insert_)->size();
    case HookType::kPreUpdate:
      return Snapshot(pre_update_)->size();
    case HookType::kAfterUpdate:
      return Snapshot(after_update_)->size();
    case HookType::kPreDelete:
      return Snapshot(pre_delete_)->size();
    case HookType::kAfterDelete:
      return Snapshot(after_delete_)->size();
  }
  return 0;
}

void HookRegistry::Clear() {
  std::lock_guard lock(mu_);
  pre_insert_ = {};
  after_insert_ = {};
  pre_update_ = {};
  after_update_ = {};
  pre_delete_ = {};
  after_delete_ = {};
}

template <typename F, typename... Args>
void HookRegistry::RunPre(HookType type, const List<F>& list, const std::string& id, Args&... args) const {
  const auto hooks = Snapshot(list);
  for (size_t i = 0; i < hooks->size(); ++i) {
    // Built only on failure: the common path runs no string work per hook.
    auto where = [&] {
      return std::string(HookTypeName(type)) + " hook #" + std::to_string(i) +
             (resource_.empty() ? "" : " of resource '" + resource_ + "'");
    };
    try {
      (*hooks)[i](args...);
    } catch (const Error&) {
      throw;  // already typed (a hook's ValidationError, NotFound, ...): the caller sees it as is
    } catch (const std::exception& e) {
      std::throw_with_nested(HookAborted(where() + " aborted the operation: " + e.what(), type, i, resource_, id));
    } catch (...) {
      throw HookAborted(where() + " aborted the operation (it threw a non-std exception)", type, i, resource_, id);
    }
    if (!(IsObject(args) && ...)) {
      throw HookAborted(where() + " replaced the data with something that is not a JSON object", type, i, resource_,
                        id);
    }
  }
}

void HookRegistry::RunPreInsert(Json& data) const {
  // The id for messages, when the caller gave one (a generated id does not exist yet).
  auto given = data.is_object() ? data.find("id") : data.end();
  std::string id = given != data.end() && given->is_string() ? given->get<std::string>() : "";
  RunPre(HookType::kPreInsert, pre_insert_, id, data);
}

void HookRegistry::RunPreUpdate(const std::string& id, Json& patch) const {
  RunPre(HookType::kPreUpdate, pre_update_, id, id, patch);
}

void HookRegistry::RunPreDelete(const std::string& id) const { RunPre(HookType::kPreDelete, pre_delete_, id, id); }

template <typename F, typename Arg>
size_t HookRegistry::RunAfter(HookType type, const List<F>& list, const std::string& id, const Arg& arg,
                              EventEmitter& events) const {
  const auto hooks = Snapshot(list);
  size_t failed = 0;
  for (size_t i = 0; i < hooks->size(); ++i) {
    std::string message;
    try {
      (*hooks)[i](arg);
      continue;
    } catch (const std::exception& e) {
      message = e.what();
    } catch (...) {
      message = "an exception that is not a std::exception";
    }
    ++failed;
    // The write stands; the failure is news, not an error of the operation.
    try {
      Json payload{
          {"resource", resource_}, {"hook", HookTypeName(type)}, {"index", i}, {"id", id}, {"message", message}};
      if (events.Emit(events::kHookError, payload) == 0) {
        events.Report("s3db: " + std::string(HookTypeName(type)) + " hook #" + std::to_string(i) +
                      (resource_.empty() ? "" : " of resource '" + resource_ + "'") + " failed for id '" + id +
                      "': " + message);
      }
    } catch (...) {
      // Building the payload can only fail on memory exhaustion; the write still stands.
    }
  }
  return failed;
}

size_t HookRegistry::RunAfterInsert(const Record& record, EventEmitter& events) const {
  return RunAfter(HookType::kAfterInsert, after_insert_, record.id, record, events);
}
size_t HookRegistry::RunAfterUpdate(const Record& record, EventEmitter& events) const {
  return RunAfter(HookType::kAfterUpdate, after_update_, record.id, record, events);
}
size_t HookRegistry::RunAfterDelete(const std::string& id, EventEmitter& events) const {
  return RunAfter(HookType::kAfterDelete, after_delete_, id, id, events);
}

}  // namespace s3db

// Events and hooks: the callbacks the library runs around its operations.
//
// Both follow RocksDB's EventListener rules (STYLE.md): an exception thrown by a listener
// never crosses into the library, and a callback must never block for long, because it runs
// synchronously on the thread that does the operation (a slow listener slows every insert).
// Hand long work to a queue of your own.
//
// EventEmitter: named events with a JSON payload. Listeners run in the order they were added;
// one that throws is counted (listener_failures()) and reported as an "error" event (when the
// emitter has "error" listeners, else as one line on stderr); it is never rethrown, and the
// other listeners still run. Thread-safe: On, Off and Emit may be called from any thread, also
// from inside a listener. Off(id) stops future calls; an Emit already running on another
// thread may still call the listener once.
//
// HookRegistry: a resource's preInsert/afterInsert/preUpdate/afterUpdate/preDelete/afterDelete
// hooks (the seeds' "Hooks"). Pre-hooks run before any store request and may change the data
// or abort the operation by throwing; after-hooks run once the write has succeeded, and their
// failure is reported as a "hookError" event, never undoing the write. Thread-safe: hooks may
// be added while operations run (an operation uses the hooks registered when it started).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "s3db/errors.h"
#include "s3db/json.h"
#include "s3db/record.h"

namespace s3db {

// ---- Event names ------------------------------------------------------------------------------
// Payloads are JSON objects; records in them are Record::ToJson() with secret fields redacted
// (RedactSecrets). docs/PLUGINS.md lists each payload's members.
namespace events {
// Resource events (each resource's emitter; plugins see every resource's, with "resource").
inline constexpr const char* kInsert = "insert";              // {resource, id, record}
inline constexpr const char* kGet = "get";                    // {resource, id, record}
inline constexpr const char* kUpdate = "update";              // {resource, id, record, patch}
inline constexpr const char* kDelete = "delete";              // {resource, id}
inline constexpr const char* kExceedsLimit = "exceedsLimit";  // {resource, id, bytes, limit, behavior}
inline constexpr const char* kError = "error";                // {resource, id, operation, code, message}
inline constexpr const char* kHookError = "hookError";        // {resource, hook, index, id, message}
// Database events.
inline constexpr const char* kConnected = "connected";              // {store, prefix}
inline constexpr const char* kResourceCreated = "resourceCreated";  // {resource, version, created}
}  // namespace events

// Replaces the value at every dot path ("password", "card.number", "items[].token": "[]" means
// each item of an array) with "***". Paths that are absent or hold null are left as they are.
Json RedactSecrets(Json record, const std::vector<std::string>& secret_paths);

// Unique within the process (across emitters), so one Off can serve several emitters. 0 is
// never a valid id.
using SubscriptionId = uint64_t;

class EventEmitter {
 public:
  using Listener = std::function<void(const Json& payload)>;
  // Where failures nobody listens for go; the default writes the line to stderr.
  using ReportFn = std::function<void(const std::string& line)>;

  explicit EventEmitter(ReportFn report = nullptr);
  EventEmitter(const EventEmitter&) = delete;
  EventEmitter& operator=(const EventEmitter&) = delete;

  // An empty listener is InvalidArgument.
  SubscriptionId On(const std::string& event, Listener listener);
  // False when the id is unknown (or already removed).
  bool Off(SubscriptionId id);

  // Calls every listener of `event` in order; returns how many were called.
  size_t Emit(const std::string& event, const Json& payload);

  // Lets callers skip building a payload nobody reads (a get event copies the record).
  bool HasListeners(std::string_view event) const;
  uint64_t listener_failures() const { return failures_.load(); }

  // Sends one line to the report function (used for failures that have no listener).
  void Report(const std::string& line) const;

 private:
  struct Entry {
    SubscriptionId id;
    Listener listener;
  };
  using List = std::vector<Entry>;

  void ListenerFailed(const std::string& event, const std::string& message);

  ReportFn report_;
  mutable std::mutex mu_;
  // Copy-on-write lists: Emit takes a snapshot and calls listeners without the lock, so a
  // listener may call On/Off/Emit without deadlocking.
  std::map<std::string, std::shared_ptr<const List>, std::less<>> listeners_;
  // How many events have listeners: read without the lock, so asking costs nothing while
  // nobody listens (every record operation asks).
  std::atomic<size_t> subscribed_{0};
  std::atomic<uint64_t> failures_{0};
};

// ---- Hooks --------------------------------------------------------------------------------------

enum class HookType { kPreInsert, kAfterInsert, kPreUpdate, kAfterUpdate, kPreDelete, kAfterDelete };

// "preInsert", "afterInsert", ... (the seeds' names).
const char* HookTypeName(HookType type);
std::optional<HookType> HookTypeFromName(std::string_view name);

// Pre-hooks abort by throwing. The data is the caller's input as given (an "id" member
// included); a hook may change it, even set the id.
using PreInsertHook = std::function<void(Json& data)>;
using PreUpdateHook = std::function<void(const std::string& id, Json& patch)>;
using PreDeleteHook = std::function<void(const std::string& id)>;
// After-hooks see the written record (or the deleted id); what they throw is reported.
using AfterInsertHook = std::function<void(const Record& record)>;
using AfterUpdateHook = std::function<void(const Record& record)>;
using AfterDeleteHook = std::function<void(const std::string& id)>;

// Hooks given together, as the seeds give them at createResource ({hooks: {preInsert: [...]}}).
// Hooks are code, so they live in the process, never in the catalog.
struct HookSet {
  std::vector<PreInsertHook> pre_insert;
  std::vector<AfterInsertHook> after_insert;
  std::vector<PreUpdateHook> pre_update;
  std::vector<AfterUpdateHook> after_update;
  std::vector<PreDeleteHook> pre_delete;
  std::vector<AfterDeleteHook> after_delete;
};

// A pre-hook refused the operation; nothing was written. It is an InvalidArgument (CLI exit 4).
// When the hook threw something that is not an s3db::Error, that exception is nested
// (std::rethrow_if_nested gets it back). A hook that throws an s3db::Error (say a
// ValidationError) aborts with that exception itself, unchanged.
class HookAborted : public InvalidArgument {
 public:
  HookAborted(const std::string& message, HookType hook, size_t index, std::string resource = {},
              std::string id = {})
      : InvalidArgument(message, std::move(resource), std::move(id)), hook_(hook), index_(index) {}
  HookType hook() const { return hook_; }
  size_t index() const { return index_; }  // position of the hook in its list, 0-based

 private:
  HookType hook_;
  size_t index_;
};

class HookRegistry {
 public:
  // `resource` names the resource in exceptions and hookError payloads.
  explicit HookRegistry(std::string resource = {});

  // Hooks run in the order they were added.
  void AddPreInsert(PreInsertHook hook);
  void AddAfterInsert(AfterInsertHook hook);
  void AddPreUpdate(PreUpdateHook hook);
  void AddAfterUpdate(AfterUpdateHook hook);
  void AddPreDelete(PreDeleteHook hook);
  void AddAfterDelete(AfterDeleteHook hook);
  // Appends every hook of the set, each list after the hooks already there.
  void Add(const HookSet& set);
  size_t size(HookType type) const;

  // Run every pre-hook in order; the first that throws aborts the rest and the operation.
  // Throws HookAborted (or the hook's own s3db::Error). Each hook must leave `data` / `patch`
  // a JSON object, else HookAborted.
  void RunPreInsert(Json& data) const;
  void RunPreUpdate(const std::string& id, Json& patch) const;
  void RunPreDelete(const std::string& id) const;

  // Run every after-hook; one that throws does not stop the others. Each failure is emitted
  // as "hookError" on `events` (reported as a line when it has no listener). Returns how
  // many failed. Never throws.
  size_t RunAfterInsert(const Record& record, EventEmitter& events) const;
  size_t RunAfterUpdate(const Record& record, EventEmitter& events) const;
  size_t RunAfterDelete(const std::string& id, EventEmitter& events) const;

 private:
  // Copy-on-write, like EventEmitter: a run uses a snapshot, so adding is never blocked by
  // a slow hook and a hook may add hooks.
  template <typename F>
  struct List {
    std::shared_ptr<const std::vector<F>> hooks = std::make_shared<const std::vector<F>>();
  };
  template <typename F>
  void Add(List<F>& list, F hook);
  template <typename F>
  std::shared_ptr<const std::vector<F>> Snapshot(const List<F>& list) const;
  template <typename F, typename... Args>
  void RunPre(HookType type, const List<F>& list, const std::string& id, Args&... args) const;
  template <typename F, typename Arg>
  size_t RunAfter(HookType type, const List<F>& list, const std::string& id, const Arg& arg,
                  EventEmitter& events) const;

  std::string resource_;
  mutable std::mutex mu_;
  List<PreInsertHook> pre_insert_;
  List<AfterInsertHook> after_insert_;
  List<PreUpdateHook> pre_update_;
  List<AfterUpdateHook> after_update_;
  List<PreDeleteHook> pre_delete_;
  List<AfterDeleteHook> after_delete_;
};

}  // namespace s3db

// CostsPlugin: counts the store requests a Database makes and what they cost on S3 Standard.
//
// It wraps the store (StorePosition::kInner, beneath the executor), so it sees each request
// the store below really served: a retried request counts once per attempt, a request another
// plugin answers itself does not count. Each call is counted exactly once, when the store
// returns, whether it succeeded or failed (a failed S3 request is billed too).
//
// Request kinds map to S3 operations as AWS bills them:
//   Put -> put (PUT)   Get -> get   Head -> head   List -> list (ListObjectsV2)
//   Delete -> delete   DeleteMany -> post (DeleteObjects is a POST; an empty batch sends
//   nothing and is not counted)   copy: CopyObject (the ObjectStore has no Copy call yet, so 0)
// Prices (DESIGN.md): PUT/COPY/POST/LIST $0.005 per 1,000; GET/HEAD $0.0004 per 1,000;
// DELETE free. Storage and data transfer are not included.
//
// Bytes: bytes_out is what requests carry (Put bodies plus the metadata values sent),
// bytes_in what responses carry (Get bodies). Both as the store interface sees them, before
// HTTP framing and signing.
//
// Attribution: every request counts for the database; a request for a key under
// "<prefix>/resource=<name>/" (a List of such a prefix, a DeleteMany whose keys are all of one
// resource) counts for that resource too. The catalog, cache objects and other keys count for
// the database only.
//
// Thread-safe. Counts live in a tracker that the plugin and its decorators share, so either
// may outlive the other.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "s3db/json.h"
#include "s3db/object_store.h"
#include "s3db/plugin.h"

namespace s3db {

enum class RequestKind { kPut, kGet, kHead, kList, kDelete, kCopy, kPost };
inline constexpr size_t kRequestKindCount = 7;

// "put", "get", "head", "list", "delete", "copy", "post".
const char* RequestKindName(RequestKind kind);
// USD per 1,000 requests of this kind at S3 Standard prices.
double PricePerThousand(RequestKind kind);

struct CostTotals {
  std::array<uint64_t, kRequestKindCount> requests{};  // indexed by RequestKind
  uint64_t bytes_out = 0;
  uint64_t bytes_in = 0;

  uint64_t count(RequestKind kind) const { return requests[static_cast<size_t>(kind)]; }
  uint64_t total_requests() const;
  double usd() const;

  // {"requests":{"put":N,"get":N,"head":N,"list":N,"delete":N,"copy":N,"post":N},
  //  "bytes_out":N,"bytes_in":N,"usd":X}: the object of the CLI's `--costs` line.
  Json ToJson() const;
  // The same object as one line of text, members in the order above (the CLI prints
  // "costs: " + ToLine() on stderr).
  std::string ToLine() const;

  CostTotals& operator+=(const CostTotals& other);
  bool operator==(const CostTotals& other) const = default;
};

class CostTracker;  // the shared counters; internal

class CostsPlugin : public Plugin {
 public:
  // `prefix` is the database prefix for attribution when the plugin is used without a
  // Database (Wrap on a store of your own); Setup replaces it with the database's.
  explicit CostsPlugin(std::string prefix = "");
  ~CostsPlugin() override;

  std::string name() const override { return "costs"; }
  // Wraps the store at StorePosition::kInner.
  void Setup(PluginContext& context) override;

  // A decorator that counts every request `inner` serves into this plugin.
  std::unique_ptr<ObjectStore> Wrap(std::unique_ptr<ObjectStore> inner);

  // Counts one request a lower layer made (say the S3 store reporting each HTTP attempt).
  // `key` is the object key or list prefix, for attribution.
  void Count(RequestKind kind, std::string_view key, uint64_t bytes_out, uint64_t bytes_in);
  // True when the backend reports every request it sends through Count (the S3 store sees its
  // own retries, write-tag checks and one-by-one deletes, which a decorator cannot): the
  // decorators then only forward, so nothing is counted twice. Default false.
  void set_backend_counts(bool on);

  CostTotals Totals() const;                                  // the whole database
  CostTotals ResourceTotals(const std::string& resource) const;  // zeros when none
  std::map<std::string, CostTotals> ByResource() const;
  // Totals().ToJson(): the CLI line's object.
  Json ToJson() const;
  // {"database": Totals().ToJson(), "resources": {"<name>": ..., ...}}
  Json Report() const;
  void Reset();

 private:
  std::shared_ptr<CostTracker> tracker_;
};

}  // namespace s3db

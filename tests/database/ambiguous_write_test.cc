// No false errors under faults: a Database talks to the real RGW through a proxy that injects
// 10% faults (tests/support/fault_proxy.h), answers lost after the server acted among them,
// and every operation's answer is checked against a model of what must be true.
//
// Each worker thread owns its ids, so the model knows each operation's one right answer:
// an insert or upsert of a new id succeeds, an insert of a present id is AlreadyExists; an update with the
// current ETag succeeds and with a stale one is PreconditionFailed; a delete of a present id
// succeeds. A false error is any other answer: an error where the operation was right (the
// "already exists" a retried insert meets from its own landed write), a success where it was
// not, or an error after which the write turns out to have landed anyway. Afterwards every
// record is read past the proxy and compared, the count is compared, and the partitions and
// unique-value claims verify clean: nothing lost, nothing written twice.
//
// S3DB_FAULT_OPS sets the number of operations (default 10,000; 1,500 under a sanitizer); S3DB_FAULT_SEED the seed.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "s3db/database.h"
#include "s3db/errors.h"
#include "s3db/resource.h"
#include "support/definitions.h"
#include "support/fault_proxy.h"
#include "support/test_scale.h"
#include "support/test_stores.h"

namespace s3db::testing {
namespace {

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value == nullptr || *value == '\0' ? fallback : value;
}

// What one id holds, as the worker that owns it knows it.
struct ModelRecord {
  bool present = false;
  int n = 0;
  std::string owner;
  std::string etag;        // the ETag of the last write the worker saw succeed
  std::string stale_etag;  // an ETag the record had before (for updates that must fail)
};

struct Tally {
  std::atomic<int> operations{0}, false_errors{0}, honest_errors{0};
  std::atomic<int> inserts{0}, upserts{0}, duplicate_inserts{0}, updates{0}, if_match_updates{0}, stale_updates{0},
      deletes{0};
  std::mutex mutex;
  std::vector<std::string> reports;  // the first few false errors, for the failure message

  void False(const std::string& what) {
    false_errors++;
    std::lock_guard<std::mutex> lock(mutex);
    if (reports.size() < 10) reports.push_back(what);
  }
};

ResourceDefinition ItemsDefinition() {
  ResourceDefinition def = Def("items", {{"n", "number|integer"}, {"owner", "string"}, {"code", "string|unique"}});
  def.partitions = Json::parse(R"({"byOwner": {"fields": {"owner": "string"}}})");
  return def;
}

class AmbiguousWriteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (TestS3Uri().empty()) GTEST_SKIP() << "no S3 server (S3DB_TEST_S3_URI)";
    prefix_ = "fault-" + std::to_string(::getpid()) + "-" + std::to_string(std::random_device{}() % 1000000);
  }

  // The test server's URI with its endpoint replaced by `endpoint` and the prefix appended.
  std::string UriThrough(const std::string& endpoint) const {
    const std::string key = EnvOr("S3DB_TEST_S3_ACCESS_KEY", "");
    const std::string secret = EnvOr("S3DB_TEST_S3_SECRET_KEY", "");
    const std::string bucket = EnvOr("S3DB_TEST_S3_BUCKET", "");
    std::string host = endpoint.substr(endpoint.find("://") + 3);
    return "http://" + key + ":" + secret + "@" + host + "/" + bucket + "/" + prefix_ + "?probe=false";
  }

  std::string prefix_;
};

TEST_F(AmbiguousWriteTest, TenPercentFaultsGiveNoFalseErrorsAndLoseNothing) {
  const std::string upstream = EnvOr("S3DB_TEST_S3_ENDPOINT", "");
  ASSERT_FALSE(upstream.empty()) << "S3DB_TEST_S3_ENDPOINT is not set (scripts/rgw.sh env sets it)";
  const int total_ops = std::stoi(EnvOr("S3DB_FAULT_OPS", std::to_string(testing::ScaledForSanitizers(10000, 1500))));
  const uint64_t seed = std::stoull(EnvOr("S3DB_FAULT_SEED", std::to_string(std::random_device{}())));
  SCOPED_TRACE("seed " + std::to_string(seed) + " (S3DB_FAULT_SEED to repeat)");

  FaultProxyOptions proxy_options;
  proxy_options.seed = seed;
  FaultProxy proxy(upstream, proxy_options);

  DatabaseOptions options;
  options.uri = UriThrough(proxy.endpoint());
  options.concurrency = 16;
  // Six attempts a request: four faults in a row (1 in 10^4 at 10%) would otherwise be an
  // honest failure every few thousand requests. Short backoff: the proxy is on loopback.
  options.executor.retries = 5;
  options.executor.retry_delay = std::chrono::milliseconds(2);
  options.executor.max_retry_delay = std::chrono::milliseconds(40);
  std::unique_ptr<Database> db;
  {
    proxy.Pause(true);  // the catalog and the resource are set up without faults
    db = Database::Connect(options);
    db->CreateResource(ItemsDefinition());
    proxy.Pause(false);
  }
  Resource& items = db->resource("items");

  constexpr int kWorkers = 8;
  constexpr int kIdsPerWorker = 40;
  std::vector<std::map<std::string, ModelRecord>> models(kWorkers);
  Tally tally;
  auto worker = [&](int w) {
    std::mt19937_64 random(seed * 31 + static_cast<uint64_t>(w));
    auto& model = models[static_cast<size_t>(w)];
    const int ops = total_ops / kWorkers + (w < total_ops % kWorkers ? 1 : 0);
    for (int op = 0; op < ops; ++op) {
      const std::string id = "w" + std::to_string(w) + "-" + std::to_string(random() % kIdsPerWorker);
      ModelRecord& m = model[id];
      const int choice = static_cast<int>(random() % 100);
      const std::string owner = "o" + std::to_string(random() % 3);
      std::string what;
      tally.operations++;
      try {
        if (!m.present && choice < 25) {
          what = "upsert of an absent id " + id;
          Record r = items.Upsert(id, Json{{"n", 0}, {"owner", owner}, {"code", "c-" + id}});
          tally.upserts++;
          m = ModelRecord{true, 0, owner, r.etag, ""};
        } else if (!m.present) {
          what = "insert " + id;
          Record r = items.Insert(Json{{"id", id}, {"n", 0}, {"owner", owner}, {"code", "c-" + id}});
          tally.inserts++;
          m = ModelRecord{true, 0, owner, r.etag, ""};
        } else if (choice < 10) {
          what = "insert of the present id " + id;
          try {
            items.Insert(Json{{"id", id}, {"n", 99}, {"owner", owner}, {"code", "other-" + id}});
            tally.False(what + ": succeeded");
          } catch (const AlreadyExists&) {
            tally.duplicate_inserts++;
          }
        } else if (choice < 40) {
          what = "update " + id;
          Record r = items.Update(id, Json{{"n", m.n + 1}, {"owner", owner}});
          tally.updates++;
          if (r.data.value("n", -1) != m.n + 1) tally.False(what + ": returned n " + r.data.dump());
          m.stale_etag = m.etag;
          m.n++, m.owner = owner, m.etag = r.etag;
        } else if (choice < 75) {
          what = "update --if-match " + id;
          UpdateOptions if_match;
          if_match.if_match = m.etag;
          Record r = items.Update(id, Json{{"n", m.n + 1}, {"owner", owner}}, if_match);
          tally.if_match_updates++;
          m.stale_etag = m.etag;
          m.n++, m.owner = owner, m.etag = r.etag;
        } else if (choice < 85 && !m.stale_etag.empty()) {
          what = "update with a stale ETag " + id;
          UpdateOptions stale;
          stale.if_match = m.stale_etag;
          try {
            items.Update(id, Json{{"n", -1}}, stale);
            tally.False(what + ": succeeded");
          } catch (const PreconditionFailed&) {
            tally.stale_updates++;
          }
        } else if (choice >= 92) {
          what = "upsert of a present id " + id;
          Record r = items.Upsert(id, Json{{"n", m.n + 1}, {"owner", owner}, {"code", "c-" + id}});
          tally.upserts++;
          if (r.data.value("n", -1) != m.n + 1) tally.False(what + ": returned n " + r.data.dump());
          m.stale_etag = m.etag;
          m.n++, m.owner = owner, m.etag = r.etag;
        } else {
          what = "delete " + id;
          items.Delete(id);
          tally.deletes++;
          m = ModelRecord{};
        }
      } catch (const Error& e) {
        // Resynchronise the model with the truth, so one wrong answer does not cascade.
        const ModelRecord before = m;
        std::optional<Record> now;
        for (int tries = 0; tries < 20; ++tries) {
          try {
            now = items.TryGet(id);
            break;
          } catch (const Error&) {
          }
        }
        m = now ? ModelRecord{true, now->data.value("n", 0), now->data.value("owner", ""), now->etag, before.etag}
                : ModelRecord{};
        // Out of attempts is honest only when the write did not land after all.
        const bool landed = now ? now->etag != before.etag : before.present;
        if (IsRetryableCode(e.code()) && !landed) {
          tally.honest_errors++;
        } else {
          tally.False(what + ": " + e.what() + (landed ? " (and the write landed)" : ""));
        }
      }
    }
  };
  std::vector<std::thread> threads;
  for (int w = 0; w < kWorkers; ++w) threads.emplace_back(worker, w);
  for (auto& t : threads) t.join();

  // The truth, read past the proxy.
  DatabaseOptions direct_options;
  direct_options.uri = UriThrough(upstream);
  std::unique_ptr<Database> direct = Database::Connect(direct_options);
  Resource& truth = direct->resource("items");
  int lost = 0, present = 0;
  std::vector<std::string> differences;
  for (const auto& model : models) {
    for (const auto& [id, m] : model) {
      std::optional<Record> stored = truth.TryGet(id);
      bool same = stored.has_value() == m.present;
      if (same && stored) {
        same = stored->data.value("n", -1) == m.n && stored->data.value("owner", "") == m.owner &&
               stored->etag == m.etag && stored->data.value("code", "") == "c-" + id;
      }
      if (m.present) present++;
      if (!same) {
        lost++;
        if (differences.size() < 10) {
          differences.push_back(id + ": model " + (m.present ? "n=" + std::to_string(m.n) : "absent") + ", stored " +
                                (stored ? stored->data.dump() : "absent"));
        }
      }
    }
  }
  const size_t count = truth.Count();
  PartitionRepairOptions dry;
  dry.dry_run = true;
  const PartitionRepairResult partitions = truth.RepairPartitions(dry);

  std::string report;
  for (const std::string& r : tally.reports) report += "\n  " + r;
  for (const std::string& d : differences) report += "\n  " + d;
  std::string faults;
  for (int k = 1; k < FaultProxy::kKinds; ++k) {
    faults += std::string(" ") + ProxyFaultName(static_cast<ProxyFault>(k)) + "=" +
              std::to_string(proxy.count(static_cast<ProxyFault>(k)));
  }
  // The figures docs/TESTING.md quotes.
  std::printf(
      "fault run: %d operations (%d inserts, %d upserts, %d inserts of present ids, %d updates, %d if-match updates, "
      "%d stale updates, %d deletes), %llu requests, %llu faults:%s; false errors %d, honest errors %d, lost or "
      "different %d\n",
      tally.operations.load(), tally.inserts.load(), tally.upserts.load(), tally.duplicate_inserts.load(),
      tally.updates.load(), tally.if_match_updates.load(), tally.stale_updates.load(), tally.deletes.load(),
      static_cast<unsigned long long>(proxy.requests()), static_cast<unsigned long long>(proxy.faults()),
      faults.c_str(), tally.false_errors.load(), tally.honest_errors.load(), lost);

  EXPECT_EQ(tally.false_errors.load(), 0) << report;
  EXPECT_EQ(lost, 0) << report;
  EXPECT_EQ(count, static_cast<size_t>(present));
  EXPECT_EQ(partitions.orphans + partitions.missing, 0u)
      << partitions.orphans << " orphan and " << partitions.missing << " missing partition references";
  EXPECT_TRUE(partitions.failures.empty());
  EXPECT_GT(proxy.faults(), proxy.requests() / 20) << "the proxy injected fewer faults than it should";
  EXPECT_GT(proxy.count(ProxyFault::kResetAfter) + proxy.count(ProxyFault::kInternalErrorAfter), 0u);
}

}  // namespace
}  // namespace s3db::testing

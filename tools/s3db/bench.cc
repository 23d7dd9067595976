#include "bench.h"

#include <dirent.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <ostream>
#include <random>
#include <thread>
#include <vector>

#include "s3db/cache.h"
#include "s3db/database.h"
#include "s3db/plugin.h"
#include "s3db/stores.h"

namespace s3db_cli {
namespace {

constexpr const char* kCountries[] = {"BR", "US", "DE", "JP", "FR", "IN", "CA", "AU"};
constexpr const char* kCities[8][2] = {{"Sao Paulo", "Recife"}, {"New York", "Austin"}, {"Berlin", "Munich"},
                                       {"Tokyo", "Osaka"},      {"Paris", "Lyon"},      {"Mumbai", "Delhi"},
                                       {"Toronto", "Montreal"}, {"Sydney", "Perth"}};
constexpr const char* kFirst[] = {"Ana",  "Bruno", "Carla", "Diego", "Elena", "Felipe", "Gabriela", "Hugo",
                                  "Iris", "Joao",  "Karen", "Lucas", "Marta", "Nuno",   "Olga",     "Pedro"};
constexpr const char* kLast[] = {"Silva",   "Santos",  "Oliveira", "Souza",  "Lima",   "Pereira",
                                 "Costa",   "Rocha",   "Almeida",  "Nunes",  "Mendes", "Barros",
                                 "Freitas", "Cardoso", "Teixeira", "Moreira"};
constexpr const char* kTags[] = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"};

// The CLI uses only the public API, so it has its own two small helpers.
std::string RandomSuffix() {
  static constexpr char kAlphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::random_device device;
  std::string out;
  for (int i = 0; i < 8; ++i) out.push_back(kAlphabet[device() % 36]);
  return out;
}

void ParallelFor(size_t n, int concurrency, const std::function<void(size_t)>& fn) {
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < n; i = next++) fn(i);
  };
  std::vector<std::thread> threads;
  for (int t = 1; t < concurrency && static_cast<size_t>(t) < n; ++t) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
}

// The most threads the process ran at once while it watched (itself left out), sampled every
// 10 ms from /proc/self/task: a bulk call's threads live as long as the call. (Every 2 ms
// the sampler itself took ~10% of a c=1 step's CPU on 2 cores.)
class ThreadPeak {
 public:
  ThreadPeak() : sampler_([this] { Sample(); }) {}
  ~ThreadPeak() {
    stop_ = true;
    sampler_.join();
  }
  void Reset() { peak_ = 0; }
  int peak() const { return std::max(0, peak_.load() - 1); }

 private:
  static int Count() {
    int count = 0;
    if (DIR* dir = ::opendir("/proc/self/task")) {
      while (dirent* entry = ::readdir(dir)) count += entry->d_name[0] != '.';
      ::closedir(dir);
    }
    return count;
  }
  void Sample() {
    while (!stop_) {
      const int now = Count();
      for (int seen = peak_.load(); now > seen && !peak_.compare_exchange_weak(seen, now);) {
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  std::atomic<bool> stop_{false};
  std::atomic<int> peak_{0};
  std::thread sampler_;
};

double CpuSeconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// "u" and i in at least six digits ("u000042"); by hand, as snprintf would cost a tenth of a
// memory-store get.
std::string RecordId(size_t i) {
  std::string digits = std::to_string(i);
  std::string id = "u";
  if (digits.size() < 6) id.append(6 - digits.size(), '0');
  return id += digits;
}

int UpdatedAge(size_t i) { return 18 + static_cast<int>((i + 1) % 60); }

s3db::ResourceDefinition UsersDefinition(const std::string& name) {
  s3db::ResourceDefinition def;
  def.name = name;
  def.attributes = s3db::Json::parse(R"({
    "name": "string|min:2|max:100", "email": "email", "age": "number|integer|min:0",
    "active": "boolean", "tags": "array|items:string", "bio": "string|optional",
    "address": {"city": "string", "country": "string"}, "password": "secret"
  })");
  def.timestamps = true;
  def.partitions = s3db::Json::parse(R"({"byCountry": {"fields": {"address.country": "string"}}})");
  return def;
}

struct Step {
  std::string name;
  double seconds = 0;
  uint64_t requests = 0;
  size_t calls = 0;
  size_t records = 0;
  size_t errors = 0;
  double cpu_seconds = 0;
  int threads = 0;  // the most the process ran at once during the step
};

// The fields of record i that the get step checks (bench/peer checks the same three), so
// the check need not build the whole record.
int Age(size_t i) { return 18 + static_cast<int>(i % 60); }
const char* Country(size_t i) { return kCountries[i % 8]; }
std::string Email(size_t i) {
  std::string email;
  email.reserve(40);
  email += kFirst[i % 16];
  email += '.';
  email += kLast[(i / 16) % 16];
  email = Lower(std::move(email));
  email += '.';
  email += std::to_string(i);
  email += "@example.com";
  return email;
}

}  // namespace

// Built member by member: a nested initializer list copies every value it holds, which
// cost more than a third of an insert on the memory store.
s3db::Json BenchRecord(size_t i) {
  const uint32_t h = static_cast<uint32_t>((static_cast<uint64_t>(i) * 2654435761ULL) & 0xffffffffULL);
  s3db::Json record = s3db::Json::object();
  record["id"] = RecordId(i);
  record["name"] = std::string(kFirst[i % 16]) + " " + kLast[(i / 16) % 16];
  record["email"] = Email(i);
  record["age"] = Age(i);
  record["active"] = i % 3 != 0;
  s3db::Json& tags = record["tags"] = s3db::Json::array();
  for (size_t k = 0; k < i % 4; ++k) tags.push_back(kTags[(i + 3 * k) % 8]);
  s3db::Json& address = record["address"] = s3db::Json::object();
  address["city"] = kCities[i % 8][(i / 8) % 2];
  address["country"] = Country(i);
  char password[16];
  std::snprintf(password, sizeof(password), "pw-%08" PRIx32, h);
  record["password"] = password;
  if (i % 2 == 0) {
    record["bio"] = "User " + std::to_string(i) + " likes " + kTags[h % 8] + " and " + kTags[(h >> 3) % 8] +
                    "; member since " + std::to_string(2000 + h % 25) + ".";
  }
  return record;
}

// cached-get: how many times get_cached reads every record (bench/peer reads as many).
constexpr size_t kCachedPasses = 5;

ExitCode RunBench(const BenchOptions& options, std::ostream& out, Diagnostics& diagnostics) {
  const bool cached_get = options.workload == kCachedGetWorkload;
  std::shared_ptr<s3db::CachePlugin> cache;
  for (const auto& plugin : options.plugins) {
    if (auto c = std::dynamic_pointer_cast<s3db::CachePlugin>(plugin)) cache = c;
  }
  if (cached_get && !cache) {
    diagnostics.Line("bench --workload cached-get needs --cache URI (see --help)");
    return ExitCode::kUsage;
  }
  // Connected as every user connects (Database::Connect): the same store options, retries and
  // request accounting. Every request the database makes is counted: under the executor, and
  // on S3 each attempt the store itself sends (retries included).
  auto costs = std::make_shared<s3db::CostsPlugin>();
  s3db::DatabaseOptions db_options;
  db_options.uri = options.uri;
  db_options.concurrency = options.concurrency;
  db_options.passphrase = options.passphrase.value_or(kBenchPassphrase);
  db_options.plugins = options.plugins;
  db_options.plugins.push_back(costs);
  auto db = s3db::Database::Connect(db_options);
  const std::string name = "bench_users_" + RandomSuffix();
  s3db::Resource& users = db->CreateResource(UsersDefinition(name));
  // cached-get: the uncached figure comes from a second database on the same store, without
  // the cache (nor any other plugin but its own request count).
  auto plain_costs = std::make_shared<s3db::CostsPlugin>();
  std::unique_ptr<s3db::Database> plain_db;
  if (cached_get) {
    s3db::DatabaseOptions plain_options = db_options;
    plain_options.plugins = {plain_costs};
    plain_db = s3db::Database::Connect(plain_options);
  }
  auto requests = [&] { return costs->Totals().total_requests() + plain_costs->Totals().total_requests(); };

  const size_t n = options.n;
  std::vector<Step> steps;
  std::mutex failures_mu;
  std::string first_failure;
  auto note_failure = [&](const std::string& what) {
    std::lock_guard lock(failures_mu);
    if (first_failure.empty()) first_failure = what;
  };
  // Runs `body` as one timed step and records its requests.
  ThreadPeak thread_peak;
  auto step = [&](const std::string& step_name, size_t calls, const std::function<size_t(std::atomic<size_t>&)>& body) {
    Step s;
    s.name = step_name;
    s.calls = calls;
    std::atomic<size_t> errors{0};
    const uint64_t before = requests();
    const double cpu_before = CpuSeconds();
    thread_peak.Reset();
    const auto start = std::chrono::steady_clock::now();
    s.records = body(errors);
    s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    s.cpu_seconds = CpuSeconds() - cpu_before;
    s.threads = thread_peak.peak();
    s.requests = requests() - before;
    s.errors = errors;
    diagnostics.Raw(step_name + ": " + std::to_string(s.seconds) + " s, " + std::to_string(s.requests) + " requests" +
                    (s.errors ? ", " + std::to_string(s.errors) + " errors" : "") + "\n");
    steps.push_back(s);
  };
  // fn(i) for every record, `passes` times over (i in 0..n-1 each time).
  auto each = [&](std::atomic<size_t>& errors, const std::function<void(size_t)>& fn, size_t passes = 1) {
    ParallelFor(n * passes, options.concurrency, [&](size_t j) {
      try {
        fn(j % n);
      } catch (const std::exception& e) {
        errors++;
        note_failure(e.what());
      }
    });
    return n * passes;
  };
  auto expect = [&](bool ok, const std::string& what, std::atomic<size_t>& errors) {
    if (!ok) {
      errors++;
      note_failure("check failed: " + what);
    }
  };

  // A get of record i through `from`, checked as bench/peer checks it.
  auto get_step = [&](const std::string& step_name, s3db::Resource& from, size_t passes = 1) {
    step(step_name, n * passes, [&](auto& errors) {
      return each(
          errors,
          [&](size_t i) {
            const s3db::Record r = from.Get(RecordId(i));
            const auto address = r.data.find("address");
            const s3db::Json* country = nullptr;
            if (address != r.data.end() && address->is_object()) {
              if (auto it = address->find("country"); it != address->end()) country = &*it;
            }
            const auto email = r.data.find("email");
            if (r.data.value("age", -1) != Age(i) || !country || *country != Country(i) || email == r.data.end() ||
                *email != Email(i)) {
              expect(false, "get " + r.id + " returned other values than were inserted", errors);
            }
          },
          passes);
    });
  };

  // The steps after get, as bench/peer runs them.
  auto crud_steps = [&] {
    step("update", n, [&](auto& errors) {
      return each(errors, [&](size_t i) { users.Update(RecordId(i), {{"age", UpdatedAge(i)}}); });
    });
    step("list", 1, [&](auto& errors) {
      auto all = users.List();
      expect(all.size() == n, "list returned " + std::to_string(all.size()), errors);
      return all.size();
    });
    step("getAll", 1, [&](auto& errors) {
      auto all = users.GetAll();
      expect(all.size() == n, "getAll returned " + std::to_string(all.size()), errors);
      return all.size();
    });
    step("getMany", 1, [&](auto& errors) {
      std::vector<std::string> ids;
      ids.reserve(n);
      for (size_t i = 0; i < n; ++i) ids.push_back(RecordId(i));
      const s3db::GetManyResult got = users.GetMany(ids);
      expect(got.records.size() == n && got.errors.empty(),
             "getMany returned " + std::to_string(got.records.size()) + " records and " +
                 std::to_string(got.errors.size()) + " errors",
             errors);
      return got.records.size();
    });
    step("export", 1, [&](auto& errors) {
      size_t exported = 0;
      for (const s3db::Record& record : users.Scan({})) exported += !record.id.empty();
      expect(exported == n, "export (scan) returned " + std::to_string(exported), errors);
      return exported;
    });
    step("count", 1, [&](auto& errors) {
      size_t counted = users.Count();
      expect(counted == n, "count returned " + std::to_string(counted), errors);
      return counted;
    });
    // listIds of each partition: first as s3db.js reads it (the references as they stand),
    // then with our default check that each record still belongs (a GET per reference).
    for (const bool verify : {false, true}) {
      step(verify ? "listIds_partition_verified" : "listIds_partition", 8, [&](auto& errors) {
        std::atomic<size_t> total{0};
        ParallelFor(8, options.concurrency, [&](size_t k) {
          s3db::ListOptions by_country;
          by_country.partition = "byCountry";
          by_country.partition_values = {{"address.country", kCountries[k]}};
          by_country.verify = verify;
          size_t got = users.ListIds(by_country).size();
          expect(got == n / 8 + (k < n % 8 ? 1 : 0), std::string("listIds of ") + kCountries[k], errors);
          total += got;
        });
        return total.load();
      });
    }
    step("query", 1, [&](auto& errors) {
      auto active = users.Query({{"active", true}});
      expect(active.size() == n - (n + 2) / 3, "query {active:true} returned " + std::to_string(active.size()), errors);
      return active.size();
    });
    step("delete", n, [&](auto& errors) { return each(errors, [&](size_t i) { users.Delete(RecordId(i)); }); });
  };

  step("insert", n, [&](auto& errors) { return each(errors, [&](size_t i) { users.Insert(BenchRecord(i)); }); });
  if (cached_get) {
    // get: uncached (the plain database); get_fill: the cache's misses, each filling its
    // entry; get_cached: every get a hit (kCachedPasses over all records, so the step is long
    // enough to time), checked by the cache's own counters.
    get_step("get", plain_db->resource(name));
    get_step("get_fill", users);
    const s3db::CacheStats before = cache->stats();
    get_step("get_cached", users, kCachedPasses);
    const s3db::CacheStats after = cache->stats();
    Step& cached = steps.back();
    std::atomic<size_t> errors{0};
    expect(after.hits - before.hits == n * kCachedPasses && after.misses == before.misses,
           "get_cached: " + std::to_string(after.hits - before.hits) + " hits and " +
               std::to_string(after.misses - before.misses) + " misses for " + std::to_string(n * kCachedPasses) +
               " gets",
           errors);
    expect(cached.requests == 0, "get_cached made " + std::to_string(cached.requests) + " store requests", errors);
    cached.errors += errors;
  } else {
    get_step("get", users);
    crud_steps();
  }
  db->DropResource(name);

  s3db::Json line = s3db::Json::object();
  size_t errors = 0;
  for (const Step& s : steps) {
    line[s.name + "_ops_s"] = std::round(static_cast<double>(s.calls) / s.seconds * 10) / 10;
    line[s.name + "_cpu_s"] = std::round(s.cpu_seconds * 1000) / 1000;
    line[s.name + "_threads"] = s.threads;
    if (s.calls != s.records || s.name == "list" || s.name == "getAll" || s.name == "query" || s.name == "getMany" ||
        s.name == "export") {
      line[s.name + "_records_s"] = std::round(static_cast<double>(s.records) / s.seconds * 10) / 10;
    }
    line[s.name + "_seconds"] = std::round(s.seconds * 10000) / 10000;
    line[s.name + "_requests"] = s.requests;
    if (s.errors) line[s.name + "_errors"] = s.errors;
    errors += s.errors;
  }
  line["n"] = n;
  line["concurrency"] = options.concurrency;
  // Connect parsed it already: this only prints it, the secret masked.
  const s3db::Result<s3db::StoreUri> printed = s3db::ParseStoreUri(options.uri);
  line["uri"] = printed.ok() ? printed->ToString() : std::string();
  line["impl"] = "s3db";
  if (cached_get) {
    line["workload"] = kCachedGetWorkload;
    line["cache"] = cache->options().driver;
  }
  {
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    line["max_rss_mb"] = std::round(static_cast<double>(usage.ru_maxrss) / 1024 * 10) / 10;  // ru_maxrss is KiB
  }
  line["version"] = "0.1.0";
  line["errors"] = errors;
  out << line.dump() << "\n";
  if (errors) {
    diagnostics.Line("bench: " + std::to_string(errors) + " failures, first: " + first_failure);
    return ExitCode::kStorage;
  }
  return ExitCode::kOk;
}

}  // namespace s3db_cli

// The transport at a distance (issue 21): N signed GETs of small objects, through an endpoint
// that answers late (bench/latency_proxy.cc), sent two ways at the same concurrency C:
//
//  - threads: HttpClient (a pool of C easy handles) called from C threads (util::ParallelFor),
//    the way every bulk call of the store sends today;
//  - engine:  HttpEngine (libcurl multi, one loop thread) with C places, fed from one thread.
//
// Prints one JSON line per mode: requests/s, the bound C / latency when --latency-ms is given
// and the share of it reached, client CPU seconds, peak threads of the process (sampled from
// /proc/self/task every 5 ms, the sampler itself not counted) and peak RSS.
//
//   build/default/bench/s3db_engine_bench --endpoint http://127.0.0.1:PROXY --setup-endpoint
//       http://127.0.0.1:7480 --bucket B --n N --concurrency C [--latency-ms MS] [--mode both]
//
// Credentials from $S3DB_TEST_S3_ACCESS_KEY and $S3DB_TEST_S3_SECRET_KEY (scripts/rgw.sh env).
// The objects are written through --setup-endpoint (not delayed) under a prefix of their own
// and deleted at the end.
#include <dirent.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "s3/http_client.h"
#include "s3/http_engine.h"
#include "s3/s3_addressing.h"
#include "s3/sigv4.h"
#include "util/parallel.h"

namespace {

using namespace s3db::s3;
using Clock = std::chrono::steady_clock;

[[noreturn]] void Die(const std::string& why) {
  std::fprintf(stderr, "engine bench: %s\n", why.c_str());
  std::exit(1);
}

struct BenchOptions {
  std::string endpoint;
  std::string setup_endpoint;
  std::string bucket;
  size_t n = 2000;
  int concurrency = 64;
  double latency_ms = 0;
  std::string mode = "both";
};

// Signs a request for `key` as it will reach the server through `endpoint`.
class Signer {
 public:
  Signer(const std::string& endpoint, const std::string& bucket) {
    auto addressing = MakeAddressing(endpoint, bucket, true);
    if (!addressing.ok()) Die(addressing.status().ToString());
    addressing_ = std::move(addressing).value();
    const char* key = std::getenv("S3DB_TEST_S3_ACCESS_KEY");
    const char* secret = std::getenv("S3DB_TEST_S3_SECRET_KEY");
    if (key == nullptr || secret == nullptr) Die("set S3DB_TEST_S3_ACCESS_KEY and S3DB_TEST_S3_SECRET_KEY");
    context_.credentials.access_key_id = key;
    context_.credentials.secret_access_key = secret;
    if (const char* region = std::getenv("S3DB_TEST_S3_REGION")) context_.region = region;
  }

  HttpRequest Make(const std::string& method, const std::string& key, const std::string& body = "") const {
    const RequestTarget target = BuildTarget(addressing_, key, {});
    SigningRequest signing;
    signing.method = method;
    signing.host = target.host;
    signing.path = target.path;
    signing.payload_hash = PayloadHash(body);
    SigningContext context = context_;
    context.time = std::chrono::system_clock::now();
    auto signed_request = SignV4(signing, context);
    if (!signed_request.ok()) Die(signed_request.status().ToString());
    HttpRequest request;
    request.method = method;
    request.url = target.url;
    request.headers.emplace_back("Host", target.host);
    for (const auto& header : signed_request->headers_to_add) request.headers.push_back(header);
    request.body = body;
    return request;
  }

 private:
  Addressing addressing_;
  SigningContext context_;
};

int ThreadsNow() {
  int count = 0;
  if (DIR* dir = ::opendir("/proc/self/task")) {
    while (dirent* entry = ::readdir(dir)) count += entry->d_name[0] != '.';
    ::closedir(dir);
  }
  return count;
}

// Samples the process's thread count while it lives.
class ThreadSampler {
 public:
  ThreadSampler()
      : thread_([this] {
          while (!stop_) {
            peak_ = std::max(peak_.load(), ThreadsNow() - 1);  // not counting the sampler
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
          }
        }) {}
  ~ThreadSampler() {
    stop_ = true;
    thread_.join();
  }
  int peak() const { return peak_.load(); }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int> peak_{0};
  std::thread thread_;
};

double CpuSeconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

long PeakRssKb() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

std::string KeyOf(const std::string& prefix, size_t i) { return prefix + "/o" + std::to_string(i); }

// Sends every request through the engine and waits; returns the number that failed.
size_t RunOnEngine(HttpEngine& engine, const std::vector<HttpRequest>& requests, int expected_status) {
  std::mutex mutex;
  std::condition_variable all_done;
  size_t done = 0, failed = 0;
  for (const HttpRequest& request : requests) {
    engine.Submit({request, 0, {}, [&](s3db::Result<HttpResponse> response) {
                     std::lock_guard<std::mutex> lock(mutex);
                     if (!response.ok() || response->status != expected_status) ++failed;
                     if (++done == requests.size()) all_done.notify_one();
                   }});
  }
  std::unique_lock<std::mutex> lock(mutex);
  all_done.wait(lock, [&] { return done == requests.size(); });
  return failed;
}

void Report(const BenchOptions& options, const std::string& mode, double seconds, double cpu, int threads,
            size_t failed) {
  const double rate = static_cast<double>(options.n) / seconds;
  std::string bound = "null", share = "null";
  if (options.latency_ms > 0) {
    const double bound_rate = options.concurrency / (options.latency_ms / 1000.0);
    bound = std::to_string(bound_rate);
    share = std::to_string(rate / bound_rate);
  }
  std::printf(
      "{\"mode\":\"%s\",\"n\":%zu,\"concurrency\":%d,\"seconds\":%.3f,\"requests_per_s\":%.1f,\"bound_per_s\":%s,"
      "\"share_of_bound\":%s,\"cpu_s\":%.3f,\"peak_threads\":%d,\"peak_rss_kb\":%ld,\"failed\":%zu}\n",
      mode.c_str(), options.n, options.concurrency, seconds, rate, bound.c_str(), share.c_str(), cpu, threads,
      PeakRssKb(), failed);
  std::fflush(stdout);
}

BenchOptions ParseOptions(int argc, char** argv) {
  BenchOptions options;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--endpoint")
      options.endpoint = value;
    else if (flag == "--setup-endpoint")
      options.setup_endpoint = value;
    else if (flag == "--bucket")
      options.bucket = value;
    else if (flag == "--n")
      options.n = std::strtoul(value.c_str(), nullptr, 10);
    else if (flag == "--concurrency")
      options.concurrency = std::atoi(value.c_str());
    else if (flag == "--latency-ms")
      options.latency_ms = std::atof(value.c_str());
    else if (flag == "--mode")
      options.mode = value;
    else
      Die("unknown option " + flag);
  }
  if (argc % 2 == 0) Die("every option takes a value");
  if (options.endpoint.empty() || options.bucket.empty()) Die("--endpoint and --bucket are required");
  if (options.setup_endpoint.empty()) options.setup_endpoint = options.endpoint;
  if (options.n == 0 || options.concurrency < 1 || options.concurrency > HttpEngine::kMaxInFlightLimit)
    Die("--n must be positive and --concurrency 1 to 1024");
  if (options.mode != "both" && options.mode != "engine" && options.mode != "threads")
    Die("--mode must be both, engine or threads");
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  const BenchOptions options = ParseOptions(argc, argv);
  const std::string prefix = "engine-bench-" + std::to_string(::getpid());
  const Signer setup_signer(options.setup_endpoint, options.bucket);
  const Signer signer(options.endpoint, options.bucket);
  HttpOptions http;
  http.max_connections = options.concurrency;

  auto setup_engine = HttpEngine::Create(http, 32);
  if (!setup_engine.ok()) Die(setup_engine.status().ToString());
  std::vector<HttpRequest> puts;
  for (size_t i = 0; i < options.n; ++i)
    puts.push_back(setup_signer.Make("PUT", KeyOf(prefix, i), "{\"w\":\"" + std::to_string(i) + "\"}"));
  if (size_t failed = RunOnEngine(**setup_engine, puts, 200); failed > 0)
    Die(std::to_string(failed) + " of the setup PUTs failed");

  // Signed before the clock starts, in both modes: the transport is what is measured.
  std::vector<HttpRequest> gets;
  for (size_t i = 0; i < options.n; ++i) gets.push_back(signer.Make("GET", KeyOf(prefix, i)));

  if (options.mode != "engine") {
    ThreadSampler sampler;
    auto client = HttpClient::Create(http);
    if (!client.ok()) Die(client.status().ToString());
    std::atomic<size_t> failed{0};
    const double cpu_before = CpuSeconds();
    const auto start = Clock::now();
    s3db::util::ParallelFor(options.n, options.concurrency, [&](size_t i) {
      auto response = (*client)->Send(gets[i]);
      if (!response.ok() || response->status != 200) ++failed;
    });
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    Report(options, "threads", seconds, CpuSeconds() - cpu_before, sampler.peak(), failed.load());
  }
  if (options.mode != "threads") {
    ThreadSampler sampler;
    auto engine = HttpEngine::Create(http, options.concurrency);
    if (!engine.ok()) Die(engine.status().ToString());
    const double cpu_before = CpuSeconds();
    const auto start = Clock::now();
    const size_t failed = RunOnEngine(**engine, gets, 200);
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    Report(options, "engine", seconds, CpuSeconds() - cpu_before, sampler.peak(), failed);
  }

  std::vector<HttpRequest> deletes;
  for (size_t i = 0; i < options.n; ++i) deletes.push_back(setup_signer.Make("DELETE", KeyOf(prefix, i)));
  RunOnEngine(**setup_engine, deletes, 204);
  return 0;
}

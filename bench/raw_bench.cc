// The ceiling for the database benchmark (issue 9): bare store requests with our S3 store,
// no schema, codec or catalog — PUT, GET, HEAD, LIST and DeleteObjects of N small objects
// at concurrency C. Prints one JSON line.
//
//   build/default/bench/s3db_raw_bench --uri URI [--n N] [--concurrency C]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "s3db/stores.h"
#include "util/crypto_hash.h"
#include "util/parallel.h"

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void Die(const std::string& why) {
  std::fprintf(stderr, "raw bench: %s\n", why.c_str());
  std::exit(1);
}

// About what a record of the benchmark's `users` resource sends: ten short metadata values
// and a small JSON body.
s3db::PutRequest ObjectFor(const std::string& key, size_t i) {
  s3db::PutRequest put;
  put.key = key;
  put.content_type = "application/json";
  put.body = "{\"w\":\"" + s3db::util::RandomAlnum(16) + "\"}";
  put.metadata["_v"] = "1";
  for (int f = 0; f < 10; ++f)
    put.metadata[std::to_string(f)] = "sfield " + std::to_string(f) + " of " + std::to_string(i);
  return put;
}

template <typename Fn>
double OpsPerSecond(size_t n, int concurrency, Fn&& fn) {
  auto start = Clock::now();
  s3db::util::ParallelFor(n, concurrency, fn);
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return static_cast<double>(n) / seconds;
}

}  // namespace

int main(int argc, char** argv) {
  std::string uri;
  size_t n = 500;
  int concurrency = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--uri"))
      uri = argv[i + 1];
    else if (!std::strcmp(argv[i], "--n"))
      n = std::stoul(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--concurrency"))
      concurrency = std::stoi(argv[i + 1]);
    else
      Die(std::string("unknown option ") + argv[i]);
  }
  if (uri.empty()) Die("--uri is required");
  s3db::Result<s3db::StoreUri> parsed = s3db::ParseStoreUri(uri);
  if (!parsed.ok()) Die(parsed.status().ToString());
  s3db::StoreUri target = *parsed;
  target.options.emplace("probe", "false");
  target.options.emplace("concurrency", std::to_string(concurrency));
  s3db::Result<std::unique_ptr<s3db::ObjectStore>> opened = s3db::OpenStore(target);
  if (!opened.ok()) Die(opened.status().ToString());
  s3db::ObjectStore& store = **opened;

  const std::string prefix =
      (target.prefix.empty() ? "" : target.prefix + "/") + "raw-bench-" + s3db::util::RandomAlnum(8) + "/";
  std::vector<std::string> keys(n);
  for (size_t i = 0; i < n; ++i) keys[i] = prefix + "id=u" + std::to_string(100000 + i);
  auto check = [](const s3db::Status& status) {
    if (!status.ok()) Die(status.ToString());
  };

  double put = OpsPerSecond(n, concurrency, [&](size_t i) {
    s3db::PutRequest request = ObjectFor(keys[i], i);
    request.if_none_match_star = true;  // as an insert does
    check(store.Put(request).status());
  });
  double get = OpsPerSecond(n, concurrency, [&](size_t i) { check(store.Get(keys[i]).status()); });
  double head = OpsPerSecond(n, concurrency, [&](size_t i) { check(store.Head(keys[i]).status()); });
  size_t listed = 0;
  auto list_start = Clock::now();
  s3db::ListRequest list;
  list.prefix = prefix;
  while (true) {
    s3db::Result<s3db::ListPage> page = store.List(list);
    check(page.status());
    listed += page->objects.size();
    if (!page->truncated) break;
    list.continuation_token = page->next_continuation_token;
  }
  double list_keys_s = static_cast<double>(listed) / std::chrono::duration<double>(Clock::now() - list_start).count();
  if (listed != n) Die("listed " + std::to_string(listed) + " of " + std::to_string(n));
  const size_t batches = (n + 999) / 1000;
  auto delete_start = Clock::now();
  s3db::util::ParallelFor(batches, concurrency, [&](size_t b) {
    std::vector<std::string> batch(keys.begin() + static_cast<std::ptrdiff_t>(b * 1000),
                                   keys.begin() + static_cast<std::ptrdiff_t>(std::min(n, (b + 1) * 1000)));
    s3db::Result<s3db::DeleteManyResult> deleted = store.DeleteMany(batch);
    check(deleted.status());
    if (!deleted->errors.empty()) check(deleted->errors.front().second);
  });
  double delete_keys_s = static_cast<double>(n) / std::chrono::duration<double>(Clock::now() - delete_start).count();

  std::printf(
      "{\"bench\":\"raw\",\"uri\":\"%s\",\"n\":%zu,\"concurrency\":%d,\"put_ops_s\":%.1f,\"get_ops_s\":%.1f,"
      "\"head_ops_s\":%.1f,\"list_keys_s\":%.1f,\"delete_keys_s\":%.1f}\n",
      parsed->ToString().c_str(), n, concurrency, put, get, head, list_keys_s, delete_keys_s);
  return 0;
}

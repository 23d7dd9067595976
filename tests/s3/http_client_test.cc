// The libcurl transport against a real HTTP peer on loopback (loopback_http_server.h says
// why that peer exists): headers sent as given, response headers captured, keep-alive,
// the pool bound, timeouts and resets as values.
#include "s3/http_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <latch>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "loopback_http_server.h"
#include "util/parallel.h"

namespace s3db::s3 {
namespace {

using s3db::testing::LoopbackHttpServer;
using s3db::testing::ReceivedRequest;
using s3db::testing::ScriptedReply;

std::unique_ptr<HttpClient> MakeClient(HttpOptions options = {}) {
  Result<std::unique_ptr<HttpClient>> client = HttpClient::Create(options);
  EXPECT_TRUE(client.ok()) << client.status().ToString();
  return client.ok() ? std::move(client).value() : nullptr;
}

TEST(HttpClientTest, SendsHeadersAndBodyExactlyAndCapturesTheResponse) {
  LoopbackHttpServer server([](const ReceivedRequest&) {
    ScriptedReply reply;
    reply.status = 200;
    reply.headers = {{"ETag", "\"abc\""},
                     {"Last-Modified", "Sun, 06 Nov 1994 08:49:37 GMT"},
                     {"X-Amz-Meta-Name", "  Ada  "},
                     {"Content-Type", "text/plain"}};
    reply.body = "response body";
    return reply;
  });
  auto client = MakeClient();
  HttpRequest request;
  request.method = "PUT";
  request.url = server.endpoint() + "/bucket/a%20b/..//c?x=1&delete=";
  request.headers = {{"Host", "custom.host:1234"},
                     {"x-amz-meta-empty", ""},
                     {"Content-Type", "application/json"},
                     {"If-None-Match", "*"}};
  request.body = std::string("{\"a\":1}\0tail", 12);
  Result<HttpResponse> response = client->Send(request);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "response body");
  ASSERT_NE(response->Header("etag"), nullptr);
  EXPECT_EQ(*response->Header("etag"), "\"abc\"");
  ASSERT_NE(response->Header("x-amz-meta-name"), nullptr);
  EXPECT_EQ(*response->Header("x-amz-meta-name"), "Ada") << "values are trimmed";
  EXPECT_EQ(response->Header("nope"), nullptr);

  std::vector<ReceivedRequest> seen = server.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "PUT");
  EXPECT_EQ(seen[0].target, "/bucket/a%20b/..//c?x=1&delete=") << "path sent as is";
  EXPECT_EQ(seen[0].Header("host"), "custom.host:1234");
  bool found = false;
  EXPECT_EQ(seen[0].Header("x-amz-meta-empty", &found), "");
  EXPECT_TRUE(found) << "an empty header value is still sent";
  EXPECT_EQ(seen[0].Header("content-type"), "application/json");
  EXPECT_EQ(seen[0].Header("if-none-match"), "*");
  EXPECT_EQ(seen[0].Header("content-length"), "12");
  seen[0].Header("expect", &found);
  EXPECT_FALSE(found);
  EXPECT_EQ(seen[0].body, request.body) << "binary body with a NUL byte";
}

TEST(HttpClientTest, MethodsAndErrorStatusesAreResponsesNotFailures) {
  LoopbackHttpServer server([](const ReceivedRequest& request) {
    ScriptedReply reply;
    reply.status = request.method == "HEAD" ? 404 : request.method == "DELETE" ? 204 : 503;
    reply.headers = {{"Retry-After", "2"}};
    if (request.method == "HEAD") reply.headers.emplace_back("Content-Length", "42");
    reply.body = request.method == "GET" ? "<Error><Code>SlowDown</Code></Error>" : "";
    return reply;
  });
  auto client = MakeClient();
  for (std::string method : {"GET", "HEAD", "DELETE", "POST"}) {
    HttpRequest request;
    request.method = method;
    request.url = server.endpoint() + "/b/k";
    Result<HttpResponse> response = client->Send(request);
    ASSERT_TRUE(response.ok()) << method << ": " << response.status().ToString();
    EXPECT_EQ(response->status, method == "HEAD" ? 404 : method == "DELETE" ? 204 : 503) << method;
    if (method == "GET") {
      EXPECT_EQ(response->body, "<Error><Code>SlowDown</Code></Error>");
      ASSERT_NE(response->Header("retry-after"), nullptr);
    }
    if (method == "HEAD") {
      EXPECT_EQ(response->body, "") << "HEAD reads no body";
    }
  }
  std::vector<ReceivedRequest> seen = server.requests();
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[1].method, "HEAD");
  EXPECT_EQ(seen[2].method, "DELETE");
  EXPECT_EQ(seen[3].method, "POST");
  EXPECT_EQ(seen[3].Header("content-length"), "0");
}

TEST(HttpClientTest, ReusesConnections) {
  LoopbackHttpServer server([](const ReceivedRequest&) { return ScriptedReply{}; });
  auto client = MakeClient();
  for (int i = 0; i < 20; ++i) {
    HttpRequest request;
    request.url = server.endpoint() + "/b/k" + std::to_string(i);
    Result<HttpResponse> response = client->Send(request);
    ASSERT_TRUE(response.ok()) << response.status().ToString();
  }
  EXPECT_EQ(server.connections(), 1) << "sequential requests share one kept-alive connection";
  EXPECT_EQ(server.requests().back().connection, 1);
}

TEST(HttpClientTest, PoolBoundsConcurrentRequests) {
  std::atomic<int> in_flight{0};
  std::atomic<int> most{0};
  LoopbackHttpServer server([&](const ReceivedRequest&) {
    int now = ++in_flight;
    int seen = most.load();
    while (now > seen && !most.compare_exchange_weak(seen, now)) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    --in_flight;
    return ScriptedReply{};
  });
  HttpOptions options;
  options.max_connections = 3;
  auto client = MakeClient(options);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 4; ++i) {
        HttpRequest request;
        request.url = server.endpoint() + "/b/k";
        if (!client->Send(request).ok()) ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_LE(most.load(), 3);
  EXPECT_GE(most.load(), 2) << "requests do run in parallel";
  EXPECT_LE(server.connections(), 3);
}

TEST(HttpClientTest, RequestTimeoutIsATimeout) {
  LoopbackHttpServer server([](const ReceivedRequest&) {
    ScriptedReply reply;
    reply.delay = std::chrono::milliseconds(3000);
    return reply;
  });
  HttpOptions options;
  options.request_timeout = std::chrono::milliseconds(300);
  auto client = MakeClient(options);
  HttpRequest request;
  request.url = server.endpoint() + "/b/slow";
  auto start = std::chrono::steady_clock::now();
  Result<HttpResponse> response = client->Send(request);
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(response.code(), ErrorCode::kTimeout) << response.status().ToString();
  EXPECT_TRUE(response.status().retryable());
  EXPECT_LT(elapsed, std::chrono::milliseconds(2500));
  EXPECT_NE(response.status().message().find("127.0.0.1"), std::string::npos) << response.status().message();
}

// ---- the seeds' httpClientOptions (keepAlive, keepAliveMsecs, maxFreeSockets) and deadlines --

HttpRequest GetOf(const LoopbackHttpServer& server, const std::string& path) {
  HttpRequest request;
  request.url = server.endpoint() + path;
  return request;
}

// Waits (up to 5 s) until the server sees `expected` connections open; returns what it saw.
int WaitForOpenConnections(const LoopbackHttpServer& server, int expected) {
  for (int i = 0; i < 500 && server.open_connections() != expected; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return server.open_connections();
}

TEST(HttpClientTest, WithoutKeepAliveEveryRequestHasItsOwnConnection) {
  LoopbackHttpServer server([](const ReceivedRequest&) { return ScriptedReply{}; });
  HttpOptions options;
  options.keep_alive = false;
  auto client = MakeClient(options);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(client->Send(GetOf(server, "/b/k")).ok());
  EXPECT_EQ(server.connections(), 5);
  EXPECT_EQ(WaitForOpenConnections(server, 0), 0) << "each connection is closed after its request";
}

TEST(HttpClientTest, IdleConnectionsBeyondTheBoundAreClosed) {
  std::atomic<int> arrived{0};
  LoopbackHttpServer server([&](const ReceivedRequest&) {
    ++arrived;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the burst overlaps
    return ScriptedReply{};
  });
  HttpOptions options;
  options.max_connections = 4;
  options.max_idle_connections = 1;
  auto client = MakeClient(options);
  auto burst = [&] {
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) threads.emplace_back([&] { EXPECT_TRUE(client->Send(GetOf(server, "/b/k")).ok()); });
    for (std::thread& t : threads) t.join();
  };
  burst();
  EXPECT_EQ(server.connections(), 4);
  EXPECT_EQ(WaitForOpenConnections(server, 1), 1) << "one idle connection is kept, three are closed";
  burst();
  EXPECT_EQ(server.connections(), 7) << "the kept one is reused, three are opened again";
  EXPECT_EQ(arrived.load(), 8);
}

// The kernel's keep-alive timer of our side of the connection to `port` (/proc/net/tcp: the
// local socket whose remote port is `port`), in hundredths of a second; -1 when there is no
// such socket or its timer is not the keep-alive one (timer kind 2).
int KeepAliveTimerCentiseconds(int port) {
  std::ifstream tcp("/proc/net/tcp");
  std::string line;
  std::getline(tcp, line);  // header
  while (std::getline(tcp, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state, queues, timer;
    fields >> slot >> local >> remote >> state >> queues >> timer;
    if (std::stoi(remote.substr(remote.find(':') + 1), nullptr, 16) != port || state != "01") continue;
    const size_t colon = timer.find(':');
    if (timer.substr(0, colon) != "02") return -1;
    return std::stoi(timer.substr(colon + 1), nullptr, 16);
  }
  return -1;
}

TEST(HttpClientTest, KeepAliveIntervalSetsTheProbeTimerOfIdleConnections) {
  if (!std::ifstream("/proc/net/tcp").good()) GTEST_SKIP() << "no /proc/net/tcp to read the timer from";
  LoopbackHttpServer server([](const ReceivedRequest&) { return ScriptedReply{}; });
  HttpOptions options;
  options.keep_alive_interval = std::chrono::milliseconds(3000);
  auto client = MakeClient(options);
  ASSERT_TRUE(client->Send(GetOf(server, "/b/k")).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the last ACKs settle: the socket is idle
  const int timer = KeepAliveTimerCentiseconds(server.port());
  EXPECT_GT(timer, 0);
  EXPECT_LE(timer, 300) << "the first probe is due within 3 s (curl's default is 60 s)";

  LoopbackHttpServer other([](const ReceivedRequest&) { return ScriptedReply{}; });
  auto defaulted = MakeClient();
  ASSERT_TRUE(defaulted->Send(GetOf(other, "/b/k")).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_GT(KeepAliveTimerCentiseconds(other.port()), 300) << "the default waits 60 s";
}

TEST(HttpClientTest, TheThreadsDeadlineCutsATransferAndTheWaitForAConnection) {
  LoopbackHttpServer server([](const ReceivedRequest&) {
    ScriptedReply reply;
    reply.delay = std::chrono::milliseconds(3000);
    return reply;
  });
  HttpOptions options;
  options.max_connections = 1;
  options.request_timeout = std::chrono::milliseconds(30000);
  auto client = MakeClient(options);
  std::thread holder;  // holds the only connection for 3 s
  {
    std::latch sending(1);
    holder = std::thread([&] {
      sending.count_down();
      (void)client->Send(GetOf(server, "/b/hold"));
    });
    sending.wait();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const auto start = std::chrono::steady_clock::now();
  util::ThreadRequestContext().deadline = start + std::chrono::milliseconds(300);
  Result<HttpResponse> waited = client->Send(GetOf(server, "/b/k"));
  util::ThreadRequestContext().deadline.reset();
  EXPECT_EQ(waited.code(), ErrorCode::kTimeout) << waited.status().ToString();
  EXPECT_NE(waited.status().message().find("waited for a connection"), std::string::npos) << waited.status().message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(2500));
  holder.join();

  // With a free connection: the transfer itself is cut at the deadline, well before 30 s.
  const auto sent = std::chrono::steady_clock::now();
  util::ThreadRequestContext().deadline = sent + std::chrono::milliseconds(300);
  Result<HttpResponse> cut = client->Send(GetOf(server, "/b/slow"));
  util::ThreadRequestContext().deadline.reset();
  EXPECT_EQ(cut.code(), ErrorCode::kTimeout) << cut.status().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - sent, std::chrono::milliseconds(2500));
}

TEST(HttpClientTest, ResetAndRefusedAreNetworkErrors) {
  LoopbackHttpServer server([](const ReceivedRequest&) {
    ScriptedReply reply;
    reply.drop = true;
    return reply;
  });
  auto client = MakeClient();
  HttpRequest request;
  request.url = server.endpoint() + "/b/k";
  Result<HttpResponse> dropped = client->Send(request);
  EXPECT_EQ(dropped.code(), ErrorCode::kNetwork) << dropped.status().ToString();
  EXPECT_TRUE(dropped.status().retryable());

  int port = 0;
  {
    LoopbackHttpServer closed([](const ReceivedRequest&) { return ScriptedReply{}; });
    port = closed.port();
  }
  request.url = "http://127.0.0.1:" + std::to_string(port) + "/b/k";
  Result<HttpResponse> refused = client->Send(request);
  EXPECT_EQ(refused.code(), ErrorCode::kNetwork) << refused.status().ToString();

  // The handle that failed is reused and works for the next request.
  LoopbackHttpServer fine([](const ReceivedRequest&) { return ScriptedReply{}; });
  request.url = fine.endpoint() + "/b/k";
  EXPECT_TRUE(client->Send(request).ok());
}

TEST(HttpClientTest, TlsIsVerifiedByDefault) {
  HttpOptions defaults;
  EXPECT_TRUE(defaults.verify_tls);
  // A plain-HTTP server spoken to as https fails the handshake: never a silent downgrade.
  LoopbackHttpServer server([](const ReceivedRequest&) { return ScriptedReply{}; });
  HttpOptions options;
  options.request_timeout = std::chrono::milliseconds(2000);
  auto client = MakeClient(options);
  HttpRequest request;
  request.url = "https://127.0.0.1:" + std::to_string(server.port()) + "/b/k";
  Result<HttpResponse> response = client->Send(request);
  EXPECT_FALSE(response.ok());
}

TEST(HttpClientTest, OptionsAreValidated) {
  HttpOptions options;
  options.max_connections = 0;
  EXPECT_EQ(HttpClient::Create(options).code(), ErrorCode::kInvalidArgument);
  options.max_connections = 1;
  options.request_timeout = std::chrono::milliseconds(0);
  EXPECT_EQ(HttpClient::Create(options).code(), ErrorCode::kInvalidArgument);
  options = HttpOptions();
  options.max_idle_connections = options.max_connections + 1;
  EXPECT_NE(HttpClient::Create(options).status().message().find("max_idle_connections"), std::string::npos);
  options = HttpOptions();
  options.keep_alive_interval = std::chrono::milliseconds(10);
  EXPECT_NE(HttpClient::Create(options).status().message().find("keep_alive_interval"), std::string::npos);
}

}  // namespace
}  // namespace s3db::s3

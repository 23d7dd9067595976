// The libcurl transport against a real HTTP peer on loopback (loopback_http_server.h says
// why that peer exists): headers sent as given, response headers captured, keep-alive,
// the pool bound, timeouts and resets as values.
#include "s3/http_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <latch>
#include <thread>
#include <vector>

#include "loopback_http_server.h"

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
}

}  // namespace
}  // namespace s3db::s3

// What the batch tests against a scripted S3 peer share (s3_store_get_each_test.cc,
// s3_store_put_each_test.cc): scripted replies, an S3 store opened on the peer with short
// retry delays, the key a request named, and a gauge of the requests at the peer at once.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "loopback_http_server.h"
#include "s3db/stores.h"

namespace s3db::s3 {

inline testing::ScriptedReply BatchPeerReply(int status, std::string body = "",
                                             std::vector<std::pair<std::string, std::string>> headers = {}) {
  testing::ScriptedReply reply;
  reply.status = status;
  reply.body = std::move(body);
  reply.headers = std::move(headers);
  return reply;
}

inline std::string BatchPeerErrorXml(const std::string& code) {
  return "<?xml version=\"1.0\"?><Error><Code>" + code + "</Code><Message>scripted</Message></Error>";
}

// `connections`: the store's bound on requests in flight (S3StoreOptions::concurrency).
inline std::unique_ptr<ObjectStore> OpenBatchPeerStore(const testing::LoopbackHttpServer& server,
                                                       RequestObserver observer = nullptr, int connections = 16) {
  S3StoreOptions options;
  options.concurrency = connections;
  options.uri = *ParseStoreUri("http://AKIDLOOP:loopSECRET@127.0.0.1:" + std::to_string(server.port()) + "/bucket");
  options.probe = false;
  options.retry_base_delay = std::chrono::milliseconds(5);
  options.retry_max_delay = std::chrono::milliseconds(20);
  options.environment = std::map<std::string, std::string>{};
  options.on_request = std::move(observer);
  Result<std::unique_ptr<ObjectStore>> store = NewS3Store(options);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

// The key a scripted request named: "/bucket/k12" -> "k12".
inline std::string BatchPeerKeyOf(const testing::ReceivedRequest& request) {
  const std::string prefix = "/bucket/";
  return request.target.rfind(prefix, 0) == 0 ? request.target.substr(prefix.size()) : request.target;
}

// Requests at the peer now, and the most at once so far.
struct BatchPeerGauge {
  std::atomic<int> now{0}, most{0};
  void Enter() {
    const int at = ++now;
    for (int seen = most.load(); seen < at && !most.compare_exchange_weak(seen, at);) {
    }
  }
  void Leave() { --now; }
};

}  // namespace s3db::s3

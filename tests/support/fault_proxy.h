// FaultProxy: a loopback HTTP proxy in front of a real S3 server (Ceph RGW) that injects the
// faults a real network and a real S3 have: 503 SlowDown and 500 InternalError answers, reset
// connections, delays, and, hardest of all, answers lost after the server acted (the request
// is forwarded and applied, then the client sees a reset or a 500 instead of the answer).
//
// Why it exists: RGW cannot be asked to fail, and a store-level fault wrapper cannot lose an
// answer after the server acted the way a network does: the retries, write tags and
// ambiguity checks under test live inside the S3 store, below any wrapper. Requests are
// forwarded byte for byte (the Host header included, so SigV4 signatures still verify) with
// our HTTP transport; the proxy's own side is the loopback server of tests/s3.
//
// Faults are drawn per request from a seeded generator, so a failing run names its seed.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

#include "s3/http_client.h"
#include "s3/loopback_http_server.h"

namespace s3db::testing {

enum class ProxyFault : int {
  kNone = 0,
  kSlowDownBefore,       // 503 SlowDown, not forwarded
  kInternalErrorBefore,  // 500 InternalError, not forwarded
  kResetBefore,          // connection closed, not forwarded
  kDelay,                // forwarded after a delay, answered normally
  kResetAfter,           // forwarded and applied, then the connection closed: the answer is lost
  kInternalErrorAfter,   // forwarded and applied, then answered 500: the answer is lost
  kCount
};

inline const char* ProxyFaultName(ProxyFault fault) {
  switch (fault) {
    case ProxyFault::kNone:
      return "none";
    case ProxyFault::kSlowDownBefore:
      return "503 before";
    case ProxyFault::kInternalErrorBefore:
      return "500 before";
    case ProxyFault::kResetBefore:
      return "reset before";
    case ProxyFault::kDelay:
      return "delay";
    case ProxyFault::kResetAfter:
      return "reset after (answer lost)";
    case ProxyFault::kInternalErrorAfter:
      return "500 after (answer lost)";
    case ProxyFault::kCount:
      break;
  }
  return "?";
}

struct FaultProxyOptions {
  double fault_rate = 0.10;  // the share of requests that get a fault, spread evenly over the kinds
  uint64_t seed = 1;
  std::chrono::milliseconds max_delay{40};  // kDelay waits up to this long
};

class FaultProxy {
 public:
  static constexpr int kKinds = static_cast<int>(ProxyFault::kCount);

  // `upstream`: "http://host:port" of the real server.
  FaultProxy(std::string upstream, FaultProxyOptions options)
      : upstream_(std::move(upstream)), options_(options), random_(options.seed) {
    s3::HttpOptions http;
    http.max_connections = 128;
    Result<std::unique_ptr<s3::HttpClient>> client = s3::HttpClient::Create(http);
    if (!client.ok()) throw std::runtime_error("fault proxy: " + client.status().ToString());
    client_ = std::move(client).value();
    server_ = std::make_unique<LoopbackHttpServer>([this](const ReceivedRequest& r) { return Handle(r); });
  }

  std::string endpoint() const { return server_->endpoint(); }
  int port() const { return server_->port(); }
  uint64_t requests() const { return requests_.load(); }
  uint64_t count(ProxyFault fault) const { return counts_[static_cast<int>(fault)].load(); }
  uint64_t faults() const {
    uint64_t total = 0;
    for (int k = 1; k < kKinds; ++k) total += counts_[k].load();
    return total;
  }
  // Faults off (true) or back on: the checks after a run read through the same proxy.
  void Pause(bool paused) { paused_ = paused; }

 private:
  ProxyFault Draw() {
    if (paused_) return ProxyFault::kNone;
    std::lock_guard<std::mutex> lock(mutex_);
    if (std::uniform_real_distribution<double>(0, 1)(random_) >= options_.fault_rate) return ProxyFault::kNone;
    return static_cast<ProxyFault>(std::uniform_int_distribution<int>(1, kKinds - 1)(random_));
  }

  std::chrono::milliseconds DrawDelay() {
    std::lock_guard<std::mutex> lock(mutex_);
    return std::chrono::milliseconds(
        std::uniform_int_distribution<int64_t>(1, std::max<int64_t>(1, options_.max_delay.count()))(random_));
  }

  static ScriptedReply S3Error(int status, const std::string& code) {
    ScriptedReply reply;
    reply.status = status;
    reply.headers = {{"Content-Type", "application/xml"}};
    reply.body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>" + code +
                 "</Code><Message>injected by the fault proxy</Message></Error>";
    return reply;
  }

  ScriptedReply Handle(const ReceivedRequest& request) {
    requests_++;
    const ProxyFault fault = Draw();
    counts_[static_cast<int>(fault)]++;
    ScriptedReply dropped;
    dropped.drop = true;
    switch (fault) {
      case ProxyFault::kSlowDownBefore:
        return S3Error(503, "SlowDown");
      case ProxyFault::kInternalErrorBefore:
        return S3Error(500, "InternalError");
      case ProxyFault::kResetBefore:
        return dropped;
      case ProxyFault::kDelay:
        std::this_thread::sleep_for(DrawDelay());
        break;
      default:
        break;
    }
    ScriptedReply reply = Forward(request);
    if (fault == ProxyFault::kResetAfter) return dropped;
    if (fault == ProxyFault::kInternalErrorAfter) return S3Error(500, "InternalError");
    return reply;
  }

  ScriptedReply Forward(const ReceivedRequest& request) {
    s3::HttpRequest forward;
    forward.method = request.method;
    forward.url = upstream_ + request.target;
    for (const auto& [name, value] : request.headers) {
      if (name == "content-length" || name == "connection") continue;  // the transport sets these
      forward.headers.emplace_back(name, value);
    }
    forward.body = request.body;
    Result<s3::HttpResponse> response = client_->Send(forward);
    if (!response.ok()) {
      ScriptedReply dropped;  // the upstream failed: the client sees what a proxy's client would
      dropped.drop = true;
      return dropped;
    }
    ScriptedReply reply;
    reply.status = response->status;
    for (const auto& [name, value] : response->headers) {
      if (name == "transfer-encoding" || name == "connection") continue;
      // A HEAD answer's length is the object's: pass it on; other bodies are measured again.
      if (name == "content-length" && request.method != "HEAD") continue;
      reply.headers.emplace_back(name, value);
    }
    reply.body = std::move(response->body);
    return reply;
  }

  const std::string upstream_;
  const FaultProxyOptions options_;
  std::mutex mutex_;  // guards random_
  std::mt19937_64 random_;
  std::atomic<bool> paused_{false};
  std::atomic<uint64_t> requests_{0};
  std::array<std::atomic<uint64_t>, kKinds> counts_{};
  std::unique_ptr<s3::HttpClient> client_;
  std::unique_ptr<LoopbackHttpServer> server_;  // last: its threads call Handle until it is gone
};

}  // namespace s3db::testing

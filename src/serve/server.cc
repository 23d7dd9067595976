#include "server.h"

#include <arpa/inet.h>
#include <csignal>

#include "problem.h"

namespace s3db::serve {

bool IsLoopbackAddress(const std::string& host) {
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    static const in6_addr kLoopback = IN6ADDR_LOOPBACK_INIT;
    return std::equal(std::begin(v6.s6_addr), std::end(v6.s6_addr), std::begin(kLoopback.s6_addr));
  }
  return false;
}

bool ParseListenAddress(const std::string& text, std::string& host, uint16_t& port) {
  size_t colon;
  if (!text.empty() && text[0] == '[') {
    const size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') return false;
    host = text.substr(1, close - 1);
    colon = close + 1;
  } else {
    colon = text.rfind(':');
    if (colon == std::string::npos) return false;
    host = text.substr(0, colon);
  }
  if (host == "localhost") host = "127.0.0.1";
  const std::string digits = text.substr(colon + 1);
  if (digits.empty() || digits.size() > 5 || digits.find_first_not_of("0123456789") != std::string::npos) return false;
  const unsigned long value = std::stoul(digits);
  if (value > 65535) return false;
  port = static_cast<uint16_t>(value);
  in_addr v4{};
  in6_addr v6{};
  return inet_pton(AF_INET, host.c_str(), &v4) == 1 || inet_pton(AF_INET6, host.c_str(), &v6) == 1;
}

Server::Server(Database& database, ServeOptions options) : database_(database), options_(std::move(options)) {
  if (!options_.auth.enabled() && !IsLoopbackAddress(options_.listen.host) && !options_.insecure) {
    throw InvalidArgument("refusing to serve without authentication on " + options_.listen.host +
                          ", which is not a loopback address: configure --auth-file, or give --insecure");
  }
  api_ = std::make_unique<Api>(database_, options_.api, options_.auth, options_.costs, options_.cache);
  listener_ = std::make_unique<HttpListener>(
      options_.listen, [this](HttpRequest& request) { return api_->Handle(request); },
      [](int status, const std::string& detail) { return ServerProblem(status, detail); });
}

Server::~Server() { Shutdown(); }

uint16_t Server::Start() { return listener_->Start(); }

std::vector<PartitionFailure> Server::Shutdown() {
  if (shut_down_) return {};
  shut_down_ = true;
  listener_->Shutdown();
  std::vector<PartitionFailure> failures;
  try {
    for (const std::string& name : database_.ResourceNames()) {
      PartitionFlushResult flushed = database_.resource(name).FlushPartitions();
      failures.insert(failures.end(), flushed.failures.begin(), flushed.failures.end());
    }
  } catch (const Error&) {
    // The catalog could not be read: there is nothing this process queued that it can name.
  }
  return failures;
}

void BlockTerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int WaitForTerminationSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  int signal = 0;
  sigwait(&set, &signal);
  return signal;
}

}  // namespace s3db::serve

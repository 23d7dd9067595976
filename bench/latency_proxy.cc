// latency_proxy: a TCP proxy that puts S3 "at a distance" for benchmarks (issue 21).
//
//   s3db_latency_proxy --upstream 127.0.0.1:7480 [--listen 127.0.0.1:0] [--delay-ms 20]
//                      [--jitter-ms 5] [--seed N]
//
// Every byte the upstream server sends back is held for delay ± jitter milliseconds (uniform)
// before it goes to the client; what the client sends goes upstream at once. A request thus
// waits one "round trip" for its answer, as it would from a machine far from the bucket, while
// a real server (RGW) does the work behind. Within a connection, answers keep their order: a
// chunk is never released before the one read before it, so jitter delays, never reorders.
// The proxy is protocol-blind (it never parses HTTP), so keep-alive, chunked bodies and
// pipelined requests pass as they are.
//
// On start it prints `listening on HOST:PORT` on stdout (with --listen ...:0 the kernel picks
// the port), then serves until killed. Boost.Asio, one thread: a few hundred connections at
// tens of MB/s is far below what one core forwards.
// Boost 1.74's asio/awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

struct ProxyOptions {
  std::string listen_host = "127.0.0.1";
  std::string listen_port = "0";
  std::string upstream_host;
  std::string upstream_port;
  std::chrono::microseconds delay{20'000};
  std::chrono::microseconds jitter{0};
  std::uint64_t seed = 1;
};

// The delay of one chunk: delay ± jitter, never negative.
class DelayDrawer {
 public:
  explicit DelayDrawer(const ProxyOptions& options)
      : delay_(options.delay), jitter_(options.jitter), random_(options.seed) {}

  std::chrono::microseconds Draw() {
    if (jitter_.count() == 0) return delay_;
    std::uniform_int_distribution<std::int64_t> offset(-jitter_.count(), jitter_.count());
    const auto drawn = delay_.count() + offset(random_);
    return std::chrono::microseconds(drawn < 0 ? 0 : drawn);
  }

 private:
  std::chrono::microseconds delay_;
  std::chrono::microseconds jitter_;
  std::mt19937_64 random_;
};

// One client connection and its upstream twin.
class ProxiedConnection : public std::enable_shared_from_this<ProxiedConnection> {
 public:
  ProxiedConnection(tcp::socket client, DelayDrawer& delays)
      : client_(std::move(client)),
        upstream_(client_.get_executor()),
        release_timer_(client_.get_executor()),
        delays_(delays) {}

  void Start(const tcp::resolver::results_type& upstream_address) {
    auto self = shared_from_this();
    asio::async_connect(upstream_, upstream_address, [self](boost::system::error_code error, const tcp::endpoint&) {
      if (error) {
        std::cerr << "latency_proxy: cannot reach the upstream: " << error.message() << "\n";
        self->CloseBoth();
        return;
      }
      boost::system::error_code ignored;
      self->client_.set_option(tcp::no_delay(true), ignored);
      self->upstream_.set_option(tcp::no_delay(true), ignored);
      self->PumpClientToUpstream();
      self->ReadUpstream();
    });
  }

 private:
  // A chunk of the answer and the moment it may go to the client; an empty chunk marks the
  // upstream's end of stream, passed on (as a shutdown) after the data before it.
  struct HeldChunk {
    Clock::time_point release_at;
    std::string bytes;
  };

  static constexpr std::size_t kReadSize = 64 * 1024;
  // Past this much held data the proxy stops reading upstream until the client catches up.
  static constexpr std::size_t kMaxHeldBytes = 16 * 1024 * 1024;

  void PumpClientToUpstream() {
    auto self = shared_from_this();
    client_.async_read_some(asio::buffer(request_buffer_), [self](boost::system::error_code error, std::size_t n) {
      if (error) {
        // The client is done sending (or gone): pass the half-close on, keep the answer path.
        boost::system::error_code ignored;
        self->upstream_.shutdown(tcp::socket::shutdown_send, ignored);
        if (error != asio::error::eof) self->CloseBoth();
        return;
      }
      asio::async_write(self->upstream_, asio::buffer(self->request_buffer_.data(), n),
                        [self](boost::system::error_code write_error, std::size_t) {
                          if (write_error) return self->CloseBoth();
                          self->PumpClientToUpstream();
                        });
    });
  }

  void ReadUpstream() {
    if (held_bytes_ >= kMaxHeldBytes) {
      reading_paused_ = true;
      return;
    }
    auto self = shared_from_this();
    upstream_.async_read_some(asio::buffer(answer_buffer_), [self](boost::system::error_code error, std::size_t n) {
      if (error) {
        self->Hold(std::string());  // end of stream (or error): shut the client down after the data
        return;
      }
      self->Hold(std::string(self->answer_buffer_.data(), n));
      self->ReadUpstream();
    });
  }

  void Hold(std::string bytes) {
    auto release_at = Clock::now() + delays_.Draw();
    if (!held_.empty() && release_at < held_.back().release_at) release_at = held_.back().release_at;
    held_bytes_ += bytes.size();
    held_.push_back(HeldChunk{release_at, std::move(bytes)});
    if (!releasing_) ReleaseNext();
  }

  void ReleaseNext() {
    if (held_.empty()) {
      releasing_ = false;
      return;
    }
    releasing_ = true;
    auto self = shared_from_this();
    release_timer_.expires_at(held_.front().release_at);
    release_timer_.async_wait([self](boost::system::error_code error) {
      if (error) return self->CloseBoth();
      HeldChunk& chunk = self->held_.front();
      if (chunk.bytes.empty()) {
        boost::system::error_code ignored;
        self->client_.shutdown(tcp::socket::shutdown_send, ignored);
        self->held_.clear();
        self->releasing_ = false;
        return;
      }
      asio::async_write(self->client_, asio::buffer(chunk.bytes),
                        [self](boost::system::error_code write_error, std::size_t) {
                          if (write_error) return self->CloseBoth();
                          self->held_bytes_ -= self->held_.front().bytes.size();
                          self->held_.pop_front();
                          if (self->reading_paused_ && self->held_bytes_ < kMaxHeldBytes) {
                            self->reading_paused_ = false;
                            self->ReadUpstream();
                          }
                          self->ReleaseNext();
                        });
    });
  }

  void CloseBoth() {
    boost::system::error_code ignored;
    client_.close(ignored);
    upstream_.close(ignored);
    release_timer_.cancel();
  }

  tcp::socket client_;
  tcp::socket upstream_;
  asio::steady_timer release_timer_;
  DelayDrawer& delays_;
  std::array<char, kReadSize> request_buffer_{};
  std::array<char, kReadSize> answer_buffer_{};
  std::deque<HeldChunk> held_;
  std::size_t held_bytes_ = 0;
  bool releasing_ = false;
  bool reading_paused_ = false;
};

class LatencyProxy {
 public:
  LatencyProxy(asio::io_context& io, const ProxyOptions& options) : acceptor_(io), delays_(options) {
    tcp::resolver resolver(io);
    upstream_address_ = resolver.resolve(options.upstream_host, options.upstream_port);
    const auto listen_address = *resolver.resolve(options.listen_host, options.listen_port).begin();
    acceptor_.open(listen_address.endpoint().protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(listen_address.endpoint());
    acceptor_.listen(asio::socket_base::max_listen_connections);
  }

  tcp::endpoint LocalEndpoint() const { return acceptor_.local_endpoint(); }

  void Accept() {
    acceptor_.async_accept([this](boost::system::error_code error, tcp::socket client) {
      if (!error) std::make_shared<ProxiedConnection>(std::move(client), delays_)->Start(upstream_address_);
      Accept();
    });
  }

 private:
  tcp::acceptor acceptor_;
  tcp::resolver::results_type upstream_address_;
  DelayDrawer delays_;
};

[[noreturn]] void Usage(const std::string& problem) {
  std::cerr << "latency_proxy: " << problem << "\n"
            << "usage: s3db_latency_proxy --upstream HOST:PORT [--listen HOST:PORT] [--delay-ms MS] "
               "[--jitter-ms MS] [--seed N]\n";
  std::exit(2);
}

void SplitHostPort(std::string_view text, std::string& host, std::string& port, const char* flag) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size())
    Usage(std::string(flag) + " wants HOST:PORT, got '" + std::string(text) + "'");
  host = std::string(text.substr(0, colon));
  port = std::string(text.substr(colon + 1));
}

std::chrono::microseconds ParseMilliseconds(const std::string& text, const char* flag) {
  char* end = nullptr;
  const double ms = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !(ms >= 0) || ms > 600'000)
    Usage(std::string(flag) + " wants milliseconds between 0 and 600000, got '" + text + "'");
  return std::chrono::microseconds(static_cast<std::int64_t>(ms * 1000));
}

ProxyOptions ParseOptions(int argc, char** argv) {
  ProxyOptions options;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) Usage(flag + " needs a value");
    const std::string value = argv[++i];
    if (flag == "--upstream") {
      SplitHostPort(value, options.upstream_host, options.upstream_port, "--upstream");
    } else if (flag == "--listen") {
      SplitHostPort(value, options.listen_host, options.listen_port, "--listen");
    } else if (flag == "--delay-ms") {
      options.delay = ParseMilliseconds(value, "--delay-ms");
    } else if (flag == "--jitter-ms") {
      options.jitter = ParseMilliseconds(value, "--jitter-ms");
    } else if (flag == "--seed") {
      options.seed = std::strtoull(value.c_str(), nullptr, 10);
    } else {
      Usage("unknown option " + flag);
    }
  }
  if (options.upstream_host.empty()) Usage("--upstream is required");
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  const ProxyOptions options = ParseOptions(argc, argv);
  try {
    asio::io_context io(1);
    LatencyProxy proxy(io, options);
    const auto local = proxy.LocalEndpoint();
    std::cout << "listening on " << local.address().to_string() << ":" << local.port() << std::endl;
    proxy.Accept();
    io.run();
  } catch (const std::exception& error) {
    std::cerr << "latency_proxy: " << error.what() << "\n";
    return 1;
  }
  return 0;
}

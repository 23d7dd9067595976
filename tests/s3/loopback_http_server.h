// A tiny HTTP/1.1 server on 127.0.0.1 for transport and retry tests.
//
// Why it exists: a real S3 server (Ceph RGW, AWS) cannot be made to fail on demand: we
// cannot ask it for a 503 with Retry-After, a response that never comes, a connection
// reset after it committed a write, or a 409. This is a real HTTP peer on a real socket
// (not a mock of the client): curl connects to it, sends real bytes, and reads what the
// test's handler answers. Each connection gets its own thread and is kept alive across
// requests, so tests can also count connections to check keep-alive.
//
// Handlers run on the connection threads; they must be thread-safe when the test sends
// concurrent requests.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace s3db::testing {

struct ReceivedRequest {
  std::string method;
  std::string target;                                        // path and query, as sent
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  int connection = 0;  // which accepted connection carried it (1, 2, ...)

  // The first header of that lower-case name, or "" (and `found` false).
  std::string Header(const std::string& name, bool* found = nullptr) const {
    for (const auto& [n, v] : headers) {
      if (n == name) {
        if (found != nullptr) *found = true;
        return v;
      }
    }
    if (found != nullptr) *found = false;
    return "";
  }
};

struct ScriptedReply {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Wait this long before answering (a hang past the client's timeout).
  std::chrono::milliseconds delay{0};
  // Close the connection without answering (a reset after the request arrived).
  bool drop = false;
};

class LoopbackHttpServer {
 public:
  using Handler = std::function<ScriptedReply(const ReceivedRequest&)>;

  explicit LoopbackHttpServer(Handler handler) : handler_(std::move(handler)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (listener_ < 0) throw std::runtime_error("socket failed");
    int one = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(listener_, 64) != 0) {
      ::close(listener_);
      throw std::runtime_error("bind/listen failed");
    }
    socklen_t length = sizeof address;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }

  ~LoopbackHttpServer() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
      for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
    }
    wake_.notify_all();
    acceptor_.join();
    for (std::thread& t : workers_) t.join();
    ::close(listener_);
  }

  LoopbackHttpServer(const LoopbackHttpServer&) = delete;
  LoopbackHttpServer& operator=(const LoopbackHttpServer&) = delete;

  int port() const { return port_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int connections() const { return connections_.load(); }
  // Connections open now (the server notices a client's close when it reads the end).
  int open_connections() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return static_cast<int>(open_fds_.size());
  }
  std::vector<ReceivedRequest> requests() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }

 private:
  void AcceptLoop() {
    while (true) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopping_) return;
      }
      pollfd p{listener_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0) continue;
      int id = ++connections_;
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) {
        ::close(fd);
        return;
      }
      open_fds_.push_back(fd);
      workers_.emplace_back([this, fd, id] { Serve(fd, id); });
    }
  }

  // Reads until `buffer` holds "\r\n\r\n"; false on EOF or error.
  static bool ReadMore(int fd, std::string* buffer) {
    char chunk[16384];
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buffer->append(chunk, static_cast<size_t>(n));
    return true;
  }

  static std::string Lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
  }

  void Serve(int fd, int id) {
    std::string buffer;
    while (true) {
      size_t end;
      while ((end = buffer.find("\r\n\r\n")) == std::string::npos) {
        if (!ReadMore(fd, &buffer)) return Close(fd);
      }
      ReceivedRequest request;
      request.connection = id;
      std::string head = buffer.substr(0, end);
      buffer.erase(0, end + 4);
      size_t line_end = head.find("\r\n");
      std::string request_line = head.substr(0, line_end);
      size_t sp1 = request_line.find(' ');
      size_t sp2 = request_line.rfind(' ');
      request.method = request_line.substr(0, sp1);
      request.target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
      size_t content_length = 0;
      size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
      while (pos < head.size()) {
        size_t next = head.find("\r\n", pos);
        if (next == std::string::npos) next = head.size();
        std::string line = head.substr(pos, next - pos);
        pos = next + 2;
        size_t colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string name = Lower(line.substr(0, colon));
        std::string value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(' '));
        if (name == "content-length") content_length = std::stoul(value);
        request.headers.emplace_back(name, value);
      }
      while (buffer.size() < content_length) {
        if (!ReadMore(fd, &buffer)) return Close(fd);
      }
      request.body = buffer.substr(0, content_length);
      buffer.erase(0, content_length);
      {
        std::lock_guard<std::mutex> lock(mutex_);
        requests_.push_back(request);
      }
      ScriptedReply reply = handler_(request);
      if (reply.delay.count() > 0) {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait_for(lock, reply.delay, [&] { return stopping_; });
        if (stopping_) return CloseLocked(fd);
      }
      if (reply.drop) return Close(fd);
      std::string response = "HTTP/1.1 " + std::to_string(reply.status) + " Scripted\r\n";
      bool has_length = false;
      for (const auto& [name, value] : reply.headers) {
        response += name + ": " + value + "\r\n";
        if (Lower(name) == "content-length") has_length = true;
      }
      if (!has_length) response += "Content-Length: " + std::to_string(reply.body.size()) + "\r\n";
      response += "\r\n";
      if (request.method != "HEAD") response += reply.body;
      if (!SendAll(fd, response)) return Close(fd);
    }
  }

  static bool SendAll(int fd, const std::string& data) {
    size_t sent = 0;
    while (sent < data.size()) {
      ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<size_t>(n);
    }
    return true;
  }

  void Close(int fd) {
    std::lock_guard<std::mutex> lock(mutex_);
    CloseLocked(fd);
  }
  void CloseLocked(int fd) {
    open_fds_.erase(std::remove(open_fds_.begin(), open_fds_.end(), fd), open_fds_.end());
    ::close(fd);
  }

  Handler handler_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<int> connections_{0};
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::vector<int> open_fds_;
  std::vector<ReceivedRequest> requests_;
  std::thread acceptor_;
  std::vector<std::thread> workers_;
};

}  // namespace s3db::testing

#include "http_listener.h"

#include <openssl/ssl.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "s3db/errors.h"

namespace s3db::serve {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using ErrorCodeT = beast::error_code;

}  // namespace

// Named, not anonymous: HttpListener::Impl (a class with linkage) holds them.
namespace listener_detail {

// Runs posted jobs on a fixed set of threads: the database calls, which block.
class WorkerPool {
 public:
  explicit WorkerPool(int threads) {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Loop(); });
  }
  ~WorkerPool() { Stop(); }
  void Post(std::function<void()> job) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      jobs_.push_back(std::move(job));
    }
    ready_.notify_one();
  }
  // Runs the jobs already posted, then joins.
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    ready_.notify_all();
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
    threads_.clear();
  }

 private:
  void Loop() {
    while (true) {
      std::function<void()> job;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        ready_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
    }
  }
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

class SessionBase {
 public:
  virtual ~SessionBase() = default;
  virtual void CloseIfIdle() = 0;
};

}  // namespace listener_detail

using listener_detail::SessionBase;
using listener_detail::WorkerPool;

class HttpListener::Impl {
 public:
  Impl(ListenOptions options, RequestHandler handler,
       std::function<HttpResponse(int, const std::string&)> error_response)
      : options(std::move(options)),
        handler(std::move(handler)),
        error_response(std::move(error_response)),
        acceptor(net::make_strand(io)) {}

  uint16_t Start();
  void Shutdown();
  void Accept();

  void Register(SessionBase* session, std::weak_ptr<SessionBase> weak) {
    std::lock_guard<std::mutex> lock(sessions_mutex);
    sessions[session] = std::move(weak);
  }
  void Unregister(SessionBase* session) {
    std::lock_guard<std::mutex> lock(sessions_mutex);
    sessions.erase(session);
    sessions_changed.notify_all();
  }

  ListenOptions options;
  RequestHandler handler;
  std::function<HttpResponse(int, const std::string&)> error_response;
  // Before io: sessions its destructor still holds unregister themselves here, and use tls.
  mutable std::mutex sessions_mutex;
  std::condition_variable sessions_changed;
  std::map<SessionBase*, std::weak_ptr<SessionBase>> sessions;
  std::optional<net::ssl::context> tls;
  net::io_context io;
  // Keeps io.run() from returning when, during Shutdown, no operation is pending for a moment
  // (the acceptor closed, every connection in a worker): the I/O threads must still be there to
  // write the answers the workers post and to close the connections. Reset by Shutdown.
  std::optional<net::executor_work_guard<net::io_context::executor_type>> keep_running;
  tcp::acceptor acceptor;
  std::vector<std::thread> io_threads;
  std::unique_ptr<WorkerPool> workers;
  std::atomic<bool> draining{false};
  bool started = false;
  bool stopped = false;
  std::mutex shutdown_mutex;
};

namespace {

std::string LowerCase(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// One connection: reads requests one after the other (HTTP/1.1 keep-alive), each answered
// before the next is read.
template <class Stream>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  template <class... Args>
  explicit Session(HttpListener::Impl* server, Args&&... args)
      : server_(server), stream_(std::forward<Args>(args)...) {}
  ~Session() override { server_->Unregister(this); }

  void Run() {
    ErrorCodeT ignored;
    const auto remote = Lowest().socket().remote_endpoint(ignored);
    if (!ignored) remote_address_ = remote.address().to_string();
    if constexpr (kPlain) {
      // Lets a worker try its answer's write without blocking (AnswerFromWorker); the
      // asynchronous operations work the same on a non-blocking socket.
      Lowest().socket().non_blocking(true, ignored);
    }
    server_->Register(this, this->weak_from_this());
    net::dispatch(stream_.get_executor(), [self = this->shared_from_this()] { self->Begin(); });
  }

  void CloseIfIdle() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] {
      if (!self->busy_) self->Close();
    });
  }

 private:
  static constexpr bool kPlain = std::is_same_v<Stream, beast::tcp_stream>;

  auto& Lowest() { return beast::get_lowest_layer(stream_); }

  void Begin() {
    if constexpr (std::is_same_v<Stream, beast::ssl_stream<beast::tcp_stream>>) {
      Lowest().expires_after(server_->options.read_timeout);
      stream_.async_handshake(net::ssl::stream_base::server, [self = this->shared_from_this()](ErrorCodeT ec) {
        if (ec) return self->Close();
        self->ReadHeader();
      });
    } else {
      ReadHeader();
    }
  }

  void ReadHeader() {
    if (server_->draining) return Close();
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(server_->options.max_header_bytes));
    parser_->body_limit(server_->options.max_body_bytes);
    Lowest().expires_after(server_->options.read_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = this->shared_from_this()](ErrorCodeT ec, size_t) { self->OnHeader(ec); });
  }

  // A failure to read a request: answered when it is the client's mistake, else the
  // connection is closed.
  bool Refused(ErrorCodeT ec) {
    if (!ec) return false;
    if (ec == http::error::header_limit) {
      Answer(server_->error_response(431, "the request line and headers are over " +
                                              std::to_string(server_->options.max_header_bytes) + " bytes"),
             false, true);
    } else if (ec == http::error::body_limit) {
      Answer(server_->error_response(
                 413, "the request body is over " + std::to_string(server_->options.max_body_bytes) + " bytes"),
             false, true);
    } else if (ec.category() == make_error_code(http::error::bad_target).category() &&
               ec != http::error::end_of_stream && ec != http::error::partial_message) {
      Answer(server_->error_response(400, "malformed HTTP request: " + ec.message()), false, true);
    } else {
      Close();  // end of stream, timeout, reset
    }
    return true;
  }

  void OnHeader(ErrorCodeT ec) {
    if (Refused(ec)) return;
    busy_ = true;
    const auto& header = parser_->get();
    const auto length = parser_->content_length();
    if (length && *length > server_->options.max_body_bytes) {
      return Answer(server_->error_response(
                        413, "the request body is over " + std::to_string(server_->options.max_body_bytes) + " bytes"),
                    false, true);
    }
    auto expect = header.find(http::field::expect);
    if (expect != header.end() && beast::iequals(expect->value(), "100-continue")) {
      auto go_on = std::make_shared<http::response<http::empty_body>>(http::status::continue_, 11);
      http::async_write(stream_, *go_on, [self = this->shared_from_this(), go_on](ErrorCodeT written, size_t) {
        if (written) return self->Close();
        self->ReadBody();
      });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](ErrorCodeT ec, size_t) { self->OnRequest(ec); });
  }

  void OnRequest(ErrorCodeT ec) {
    if (Refused(ec)) return;
    Lowest().expires_never();
    http::request<http::string_body> message = parser_->release();
    auto request = std::make_shared<HttpRequest>();
    request->method = std::string(message.method_string());
    request->target = std::string(message.target());
    const size_t question = request->target.find('?');
    request->path = request->target.substr(0, question);
    for (const auto& field : message) {
      std::string name = LowerCase(std::string_view(field.name_string().data(), field.name_string().size()));
      auto [it, inserted] = request->headers.emplace(name, std::string(field.value()));
      if (!inserted) it->second += ", " + std::string(field.value());
    }
    request->body = std::move(message.body());
    request->tls = !std::is_same_v<Stream, beast::tcp_stream>;
    request->remote_address = remote_address_;
    keep_alive_ = message.keep_alive();
    const bool query_ok = question == std::string::npos ||
                          ParseQueryString(std::string_view(request->target).substr(question + 1), request->query);
    server_->workers->Post([self = this->shared_from_this(), request, query_ok] {
      HttpResponse response;
      if (!query_ok) {
        response = self->server_->error_response(400, "malformed percent-escape in the query string");
      } else {
        try {
          response = self->server_->handler(*request);
        } catch (const std::exception& error) {
          response = self->server_->error_response(500, std::string("internal error: ") + error.what());
        }
      }
      if (request->method == "HEAD") {
        response.stream = nullptr;
        response.body.clear();
      }
      if (response.stream) return self->StreamAnswer(std::move(response));
      if constexpr (kPlain) {
        self->AnswerFromWorker(response);
      } else {
        net::post(self->stream_.get_executor(), [self, response = std::move(response)]() mutable {
          self->Answer(std::move(response), self->keep_alive_, false);
        });
      }
    });
  }

  template <class Message>
  void SetHeaders(Message& message, const HttpResponse& response, bool keep_alive) {
    for (const auto& [name, value] : response.headers) message.set(name, value);
    message.keep_alive(keep_alive);
  }

  bool KeepAlive(bool wanted, const HttpResponse& response) const {
    return wanted && !response.close_connection && !server_->draining;
  }

  // On the connection's strand.
  void Answer(HttpResponse response, bool keep_alive_wanted, bool refused) {
    busy_ = true;
    auto message = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(response.status), 11);
    const bool keep_alive = !refused && KeepAlive(keep_alive_wanted, response);
    SetHeaders(*message, response, keep_alive);
    message->body() = std::move(response.body);
    message->prepare_payload();
    Lowest().expires_after(server_->options.write_timeout);
    http::async_write(stream_, *message,
                      [self = this->shared_from_this(), message, keep_alive, refused](ErrorCodeT ec, size_t) {
                        self->busy_ = false;
                        if (!ec && refused) return self->LingerAndClose();
                        if (ec || !keep_alive) return self->Close();
                        self->ReadHeader();
                      });
  }

  // After refusing a request whose body may still be coming (413, 431, 400): stop sending,
  // read and drop what the client still sends for up to 2 s, then close. Closing a socket
  // with unread data makes the kernel send a reset, which can destroy the refusal in the
  // client's receive buffer before it reads it (a 17 MB upload saw no answer at all).
  void LingerAndClose() {
    ErrorCodeT ignored;
    Lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
    Lowest().expires_after(std::chrono::seconds(2));
    Discard(std::make_shared<std::array<char, 16 * 1024>>());
  }
  void Discard(std::shared_ptr<std::array<char, 16 * 1024>> sink) {
    Lowest().async_read_some(net::buffer(*sink), [self = this->shared_from_this(), sink](ErrorCodeT ec, size_t) {
      if (ec) return self->Close();  // the client's end of stream, the 2 s, or a reset
      self->Discard(sink);
    });
  }

  // On the worker, plain TCP only: writes the answer with non-blocking sends, sparing the
  // hop of the whole answer to an I/O thread and its write timer (BENCHMARKS.md, "s3db
  // serve"). Nothing else touches the socket meanwhile: no operation is pending on it, and
  // CloseIfIdle leaves a busy session alone. A send that would block hands what is left to
  // the strand, which writes it under the write timeout; the next read starts on the strand.
  void AnswerFromWorker(HttpResponse& response) {
    const bool keep_alive = KeepAlive(keep_alive_, response);
    auto message = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(response.status), 11);
    SetHeaders(*message, response, keep_alive);
    message->body() = std::move(response.body);
    message->prepare_payload();
    auto serializer = std::make_shared<http::response_serializer<http::string_body>>(*message);
    ErrorCodeT ec;
    while (!serializer->is_done() && !ec) http::write_some(Lowest().socket(), *serializer, ec);
    if (ec == net::error::would_block || ec == net::error::try_again) {
      net::post(stream_.get_executor(), [self = this->shared_from_this(), message, serializer, keep_alive] {
        self->Lowest().expires_after(self->server_->options.write_timeout);
        http::async_write(self->stream_, *serializer,
                          [self, message, serializer, keep_alive](ErrorCodeT written, size_t) {
                            self->busy_ = false;
                            if (written || !keep_alive) return self->Close();
                            self->ReadHeader();
                          });
      });
      return;
    }
    // The next read (or the close) starts on the strand, as every other operation on the
    // stream does: beast's stream and its timers are not safe to touch from two threads.
    net::post(stream_.get_executor(), [self = this->shared_from_this(), failed = static_cast<bool>(ec), keep_alive] {
      self->busy_ = false;
      if (failed || !keep_alive) return self->Close();
      self->ReadHeader();
    });
  }

  // Runs on the worker thread: each write is posted to the strand and waited for, so the body
  // is made no faster than the client takes it, and a client that stops reading is cut off by
  // the write timeout.
  class Sink : public ChunkSink {
   public:
    explicit Sink(Session* session) : session_(session) {}
    bool Write(std::string_view bytes) override {
      if (failed_ || bytes.empty()) return !failed_;
      failed_ = !session_->WaitFor([&](auto done) {
        net::async_write(session_->stream_, http::make_chunk(net::const_buffer(bytes.data(), bytes.size())),
                         [done](ErrorCodeT ec, size_t) { done(ec); });
      });
      return !failed_;
    }
    bool failed_ = false;

   private:
    Session* session_;
  };

  // Starts an asynchronous operation on the strand and blocks this (worker) thread until it
  // completes; true on success.
  template <class Start>
  bool WaitFor(Start start) {
    auto outcome = std::make_shared<std::promise<ErrorCodeT>>();
    std::future<ErrorCodeT> done = outcome->get_future();
    net::post(stream_.get_executor(), [this, start, outcome] {
      Lowest().expires_after(server_->options.write_timeout);
      start([outcome](ErrorCodeT ec) { outcome->set_value(ec); });
    });
    return !done.get();
  }

  void StreamAnswer(HttpResponse response) {
    http::response<http::empty_body> head(static_cast<http::status>(response.status), 11);
    const bool keep_alive = KeepAlive(keep_alive_, response);
    SetHeaders(head, response, keep_alive);
    head.chunked(true);
    http::response_serializer<http::empty_body> serializer(head);
    bool ok = WaitFor(
        [&](auto done) { http::async_write_header(stream_, serializer, [done](ErrorCodeT ec, size_t) { done(ec); }); });
    Sink sink(this);
    if (ok) {
      try {
        response.stream(sink);
      } catch (const std::exception&) {
        sink.failed_ = true;  // the status line is gone: the only way to tell the client is to cut the body short
      }
      ok = !sink.failed_;
    }
    if (ok) {
      ok = WaitFor([&](auto done) {
        net::async_write(stream_, http::make_chunk_last(), [done](ErrorCodeT ec, size_t) { done(ec); });
      });
    }
    net::post(stream_.get_executor(), [self = this->shared_from_this(), ok, keep_alive] {
      self->busy_ = false;
      if (!ok || !keep_alive) return self->Close();
      self->ReadHeader();
    });
  }

  void Close() {
    busy_ = false;
    ErrorCodeT ignored;
    Lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    Lowest().close();
  }

  HttpListener::Impl* server_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::atomic<bool> busy_{false};  // set and cleared on the strand; a worker's write runs while it is set
  bool keep_alive_ = true;
  std::string remote_address_;
};

}  // namespace

uint16_t HttpListener::Impl::Start() {
  if (!options.tls_cert_file.empty() || !options.tls_key_file.empty()) {
    if (options.tls_cert_file.empty() || options.tls_key_file.empty()) {
      throw InvalidArgument("TLS needs both a certificate (--tls-cert) and its private key (--tls-key)");
    }
    tls.emplace(net::ssl::context::tls_server);
    SSL_CTX_set_min_proto_version(tls->native_handle(), TLS1_2_VERSION);
    tls->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                     net::ssl::context::no_sslv3 | net::ssl::context::single_dh_use);
    ErrorCodeT ec;
    tls->use_certificate_chain_file(options.tls_cert_file, ec);
    if (ec) throw InvalidArgument("TLS certificate " + options.tls_cert_file + ": " + ec.message());
    tls->use_private_key_file(options.tls_key_file, net::ssl::context::pem, ec);
    if (ec) throw InvalidArgument("TLS private key " + options.tls_key_file + ": " + ec.message());
  }
  ErrorCodeT ec;
  const auto address = net::ip::make_address(options.host, ec);
  if (ec) throw InvalidArgument("listen address '" + options.host + "' is not an IP address");
  const tcp::endpoint endpoint(address, options.port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    throw StorageError(ErrorCode::kIOError,
                       "cannot listen on " + options.host + ":" + std::to_string(options.port) + ": " + ec.message());
  }
  const uint16_t port = acceptor.local_endpoint().port();
  workers = std::make_unique<WorkerPool>(std::max(1, options.workers));
  keep_running.emplace(io.get_executor());
  Accept();
  for (int i = 0; i < std::max(1, options.io_threads); ++i) io_threads.emplace_back([this] { io.run(); });
  started = true;
  return port;
}

void HttpListener::Impl::Accept() {
  acceptor.async_accept(net::make_strand(io), [this](ErrorCodeT ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
    if (!ec && !draining) {
      socket.set_option(tcp::no_delay(true), ec);
      if (tls) {
        std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(this, std::move(socket), *tls)->Run();
      } else {
        std::make_shared<Session<beast::tcp_stream>>(this, std::move(socket))->Run();
      }
    }
    Accept();  // a failed accept (too many files, say) does not stop the server
  });
}

void HttpListener::Impl::Shutdown() {
  std::lock_guard<std::mutex> guard(shutdown_mutex);
  if (stopped) return;
  stopped = true;
  if (!started) return;
  draining = true;
  std::promise<void> closed;
  net::post(acceptor.get_executor(), [&] {
    ErrorCodeT ignored;
    acceptor.close(ignored);
    closed.set_value();
  });
  closed.get_future().wait();
  const auto deadline = std::chrono::steady_clock::now() + options.shutdown_grace;
  std::unique_lock<std::mutex> lock(sessions_mutex);
  while (!sessions.empty()) {
    std::vector<std::shared_ptr<SessionBase>> live;
    for (auto& [raw, weak] : sessions) {
      if (auto session = weak.lock()) live.push_back(std::move(session));
    }
    lock.unlock();
    for (auto& session : live) session->CloseIfIdle();
    live.clear();
    lock.lock();
    if (std::chrono::steady_clock::now() >= deadline) break;
    sessions_changed.wait_for(lock, std::chrono::milliseconds(50));
  }
  lock.unlock();
  workers->Stop();  // requests already handed over finish
  keep_running.reset();
  io.stop();
  for (auto& t : io_threads) t.join();
  io_threads.clear();
}

HttpListener::HttpListener(ListenOptions options, RequestHandler handler,
                           std::function<HttpResponse(int, const std::string&)> error_response)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler), std::move(error_response))) {}

HttpListener::~HttpListener() { Shutdown(); }

uint16_t HttpListener::Start() { return impl_->Start(); }

void HttpListener::Shutdown() { impl_->Shutdown(); }

size_t HttpListener::open_connections() const {
  std::lock_guard<std::mutex> lock(impl_->sessions_mutex);
  return impl_->sessions.size();
}

}  // namespace s3db::serve

#include "s3/http_client.h"

#include <algorithm>
#include <mutex>

#include "s3/http_easy.h"
#include "util/parallel.h"

namespace s3db::s3 {

struct HttpClient::Handle {
  CURL* curl = nullptr;
  ~Handle() {
    if (curl != nullptr) curl_easy_cleanup(curl);
  }
};

const std::string* HttpResponse::Header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return &value;
  }
  return nullptr;
}

Status HttpOptions::Validate() const {
  auto invalid = [](const std::string& why) { return Status(ErrorCode::kInvalidArgument, "HTTP options: " + why); };
  if (max_connections < 1 || max_connections > 1024) {
    return invalid("max_connections must be 1 to 1024, got " + std::to_string(max_connections));
  }
  if (connect_timeout.count() <= 0 || request_timeout.count() <= 0) {
    return invalid("timeouts must be positive");
  }
  if (max_idle_connections < 0 || max_idle_connections > max_connections) {
    return invalid("max_idle_connections must be 0 (all) to max_connections (" + std::to_string(max_connections) +
                   "), got " + std::to_string(max_idle_connections));
  }
  if (keep_alive_interval.count() < 1000 || keep_alive_interval.count() > 7200000) {
    return invalid("keep_alive_interval must be 1 s to 2 h, got " + std::to_string(keep_alive_interval.count()) +
                   " ms");
  }
  return Status::Ok();
}

Result<std::unique_ptr<HttpClient>> HttpClient::Create(const HttpOptions& options) {
  if (Status status = options.Validate(); !status.ok()) return status;
  if (CurlGlobalInit() != CURLE_OK) {
    return Status(ErrorCode::kInternal, "curl_global_init failed");
  }
  return std::unique_ptr<HttpClient>(new HttpClient(options));
}

HttpClient::HttpClient(const HttpOptions& options) : options_(options) {}

HttpClient::~HttpClient() = default;

std::unique_ptr<HttpClient::Handle> HttpClient::Acquire(std::optional<std::chrono::milliseconds> wait) {
  std::unique_lock<std::mutex> lock(mutex_);
  auto ready = [&] { return !idle_.empty() || created_ < options_.max_connections; };
  if (!wait) {
    available_.wait(lock, ready);
  } else if (!available_.wait_for(lock, *wait, ready)) {
    return nullptr;
  }
  if (!idle_.empty()) {
    std::unique_ptr<Handle> handle = std::move(idle_.back());
    idle_.pop_back();
    return handle;
  }
  ++created_;
  lock.unlock();
  auto handle = std::make_unique<Handle>();
  handle->curl = curl_easy_init();
  return handle;
}

void HttpClient::Release(std::unique_ptr<Handle> handle) {
  std::unique_ptr<Handle> closing;  // closed outside the lock
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const bool keep =
        options_.max_idle_connections == 0 || static_cast<int>(idle_.size()) < options_.max_idle_connections;
    if (handle->curl != nullptr && keep) {
      idle_.push_back(std::move(handle));
    } else if (handle->curl != nullptr) {
      closing = std::move(handle);  // over the idle bound: its connection closes
      --created_;
    } else {
      --created_;  // a handle that could not be created: let another try
    }
  }
  available_.notify_one();
}

Result<HttpResponse> HttpClient::Send(const HttpRequest& request) {
  // The thread's deadline (util/parallel.h) bounds the wait for a connection and the transfer.
  const std::optional<std::chrono::milliseconds> left = util::TimeLeft();
  auto out_of_time = [&] {
    return Status(ErrorCode::kTimeout, "HTTP " + request.method + " " + UrlOrigin(request.url) +
                                           " not sent: the request's timeout passed while it waited for a connection");
  };
  if (left && left->count() == 0) return out_of_time();
  std::unique_ptr<Handle> handle = Acquire(left);
  if (!handle) return out_of_time();
  struct Returner {
    HttpClient* client;
    std::unique_ptr<Handle>* handle;
    ~Returner() { client->Release(std::move(*handle)); }
  } returner{this, &handle};
  CURL* curl = handle->curl;
  if (curl == nullptr) return Status(ErrorCode::kInternal, "curl_easy_init failed");

  EasyTransfer transfer;
  if (Status prepared = PrepareEasyTransfer(curl, request, options_, left, transfer); !prepared.ok()) return prepared;
  return FinishEasyTransfer(curl, curl_easy_perform(curl), request, transfer);
}

}  // namespace s3db::s3

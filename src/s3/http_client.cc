#include "s3/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>

#include "util/parallel.h"
#include "util/text.h"

namespace s3db::s3 {
namespace {

std::once_flag global_init_once;
CURLcode global_init_result = CURLE_OK;

CURLcode GlobalInit() {
  std::call_once(global_init_once, [] { global_init_result = curl_global_init(CURL_GLOBAL_DEFAULT); });
  return global_init_result;
}

// What a transfer collects; the callbacks write into it.
struct Transfer {
  HttpResponse response;
};

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  transfer->response.body.append(data, size * count);
  return size * count;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  std::string_view line(data, size * count);
  if (util::StartsWith(line, "HTTP/")) {
    // A new status line: an interim response (100 Continue) is over; start afresh.
    transfer->response.headers.clear();
    return line.size();
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return line.size();
  transfer->response.headers.emplace_back(util::ToLower(util::TrimAsciiWhitespace(line.substr(0, colon))),
                                          std::string(util::TrimAsciiWhitespace(line.substr(colon + 1))));
  return line.size();
}

// scheme://host[:port] of a URL, for messages (a URL never carries a secret here, but the
// path can be long).
std::string Origin(const std::string& url) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return "(bad URL)";
  size_t path = url.find('/', scheme_end + 3);
  return url.substr(0, path);
}

ErrorCode MapCurlError(CURLcode code) {
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return ErrorCode::kTimeout;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_ISSUER_ERROR:
      return ErrorCode::kInvalidArgument;
    default:
      return ErrorCode::kNetwork;
  }
}

struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

}  // namespace

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
  if (GlobalInit() != CURLE_OK) {
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
    return Status(ErrorCode::kTimeout, "HTTP " + request.method + " " + Origin(request.url) +
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

  // Reset forgets the previous request's options but keeps the live connection.
  curl_easy_reset(curl);
  Transfer transfer;
  char error_buffer[CURL_ERROR_SIZE] = {0};

  std::unique_ptr<curl_slist, SlistDeleter> header_list;
  auto append = [&](const std::string& line) {
    curl_slist* appended = curl_slist_append(header_list.get(), line.c_str());
    if (appended != nullptr) {
      (void)header_list.release();
      header_list.reset(appended);
    }
    return appended != nullptr;
  };
  bool has_content_type = false;
  for (const auto& [name, value] : request.headers) {
    if (util::ToLower(name) == "content-type") has_content_type = true;
    // "Name:" would remove a curl default header; "Name;" sends it with an empty value.
    if (!append(value.empty() ? name + ";" : name + ": " + value)) {
      return Status(ErrorCode::kInternal, "out of memory building HTTP headers");
    }
  }
  // No Expect: 100-continue round trip, no default form Content-Type, no Accept.
  bool ok = append("Expect:") && append("Accept:");
  if (!has_content_type) ok = ok && append("Content-Type:");
  if (!ok) return Status(ErrorCode::kInternal, "out of memory building HTTP headers");

  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt(curl, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  if (options_.keep_alive) {
    // TCP keep-alive probes on idle connections, first after keep_alive_interval (whole
    // seconds: the kernel's unit), so a connection a NAT or load balancer dropped is found.
    const long probe_seconds = static_cast<long>((options_.keep_alive_interval.count() + 999) / 1000);
    curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(curl, CURLOPT_TCP_KEEPIDLE, probe_seconds);
    curl_easy_setopt(curl, CURLOPT_TCP_KEEPINTVL, probe_seconds);
  } else {
    curl_easy_setopt(curl, CURLOPT_FORBID_REUSE, 1L);  // a new connection for every request
  }
  curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
  auto bounded = [&](std::chrono::milliseconds timeout) {
    if (left && *left < timeout) timeout = std::max(*left, std::chrono::milliseconds(1));
    return static_cast<long>(timeout.count());
  };
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, bounded(options_.connect_timeout));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, bounded(options_.request_timeout));
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, options_.verify_tls ? 1L : 0L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, options_.verify_tls ? 2L : 0L);
  if (!options_.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options_.ca_file.c_str());
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, header_list.get());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);

  if (request.method == "GET") {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method == "PUT" || request.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.c_str());
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  } else {
    if (!request.body.empty()) {
      return Status(ErrorCode::kInvalidArgument, "HTTP " + request.method + " cannot carry a body here");
    }
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }

  CURLcode code = curl_easy_perform(curl);
  if (code != CURLE_OK) {
    std::string detail = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(code);
    return Status(MapCurlError(code), "HTTP " + request.method + " " + Origin(request.url) + " failed: " + detail);
  }
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  transfer.response.status = static_cast<int>(status);
  return std::move(transfer.response);
}

}  // namespace s3db::s3

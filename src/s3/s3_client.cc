#include "s3/s3_client.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <thread>
#include <utility>

#include "s3/s3_headers.h"
#include "s3/s3_xml.h"
#include "util/parallel.h"

namespace s3db::s3 {

namespace {

// The S3 error codes that mean "these temporary credentials are no longer good".
bool IsExpiredToken(const HttpResponse& response) {
  if (response.status != 400 && response.status != 403) return false;
  std::optional<S3Error> error = ParseErrorBody(response.body);
  return error &&
         (error->code == "ExpiredToken" || error->code == "InvalidToken" || error->code == "TokenRefreshRequired");
}

}  // namespace

S3Client::S3Client(Addressing addressing, std::shared_ptr<CredentialProvider> credentials, std::string region,
                   std::unique_ptr<HttpClient> http, exec::RetryPolicy retry, RequestObserver on_request)
    : addressing_(std::move(addressing)),
      credentials_(std::move(credentials)),
      region_(std::move(region)),
      http_(std::move(http)),
      retry_(std::move(retry)),
      on_request_(std::move(on_request)) {}

Status S3Client::Masked(Status status) const {
  if (status.ok()) return status;
  return Status(status.code(), credentials_->Mask(status.message()));
}

void S3Client::Report(const S3Call& call, const Result<HttpResponse>& response) const {
  if (!on_request_) return;
  SentRequest sent;
  sent.method = call.method;
  for (const auto& [name, value] : call.query) sent.list |= name == "list-type";
  sent.key = call.key;
  for (const auto& [name, value] : call.query) {
    if (name == "prefix") sent.key = value;
  }
  sent.bytes_out = call.body.size();
  for (const auto& [name, value] : call.headers) {
    if (name.rfind(kMetaPrefix, 0) == 0) sent.bytes_out += value.size();
  }
  sent.bytes_in = response.ok() ? response->body.size() : 0;
  on_request_(sent);
}

Result<HttpRequest> S3Client::Sign(const S3Call& call, const Credentials& credentials) const {
  const RequestTarget target = BuildTarget(addressing_, call.key, call.query);
  SigningRequest signing;
  signing.method = call.method;
  signing.host = target.host;
  signing.path = target.path;
  signing.query = call.query;
  signing.headers = call.headers;
  signing.payload_hash = PayloadHash(call.body);
  SigningContext context;
  context.region = region_;
  context.credentials = credentials;
  // Signed afresh for each attempt: x-amz-date must be the time of sending.
  context.time = std::chrono::system_clock::now();
  Result<SignedRequest> signed_request = SignV4(signing, context);
  if (!signed_request.ok()) {
    return Masked(Status(signed_request.code(), call.what + ": " + signed_request.status().message()));
  }
  HttpRequest http;
  http.method = call.method;
  http.url = target.url;
  http.headers.emplace_back("Host", target.host);
  for (const auto& header : call.headers) http.headers.push_back(header);
  for (const auto& header : signed_request->headers_to_add) http.headers.push_back(header);
  http.body = call.body;
  return http;
}

Result<Reply> S3Client::Execute(const S3Call& call) { return Execute(call, std::nullopt); }

Result<Reply> S3Client::Execute(const S3Call& call, SentAttempt first) {
  return Execute(call, std::optional<SentAttempt>(std::move(first)));
}

Result<Reply> S3Client::Execute(const S3Call& call, std::optional<SentAttempt> first) {
  Reply reply;
  Status last_failure;
  bool refreshed = false;  // at most one refresh per call
  std::optional<Credentials> refreshed_credentials;
  for (int attempt = 1;; ++attempt) {
    reply.attempts = attempt;
    Credentials used;
    Result<HttpResponse> response = HttpResponse{};
    if (attempt == 1 && first) {
      used = std::move(first->credentials);
      response = std::move(first->response);
    } else {
      // The request's deadline (the executor's timeout, a call's timeout) bounds the retries.
      if (std::optional<std::chrono::milliseconds> left = util::TimeLeft(); left && left->count() == 0) {
        std::string message = call.what + ": timed out before attempt " + std::to_string(attempt);
        if (attempt > 1) message += " (the last failure: " + last_failure.message() + ")";
        return Masked(Status(ErrorCode::kTimeout, std::move(message)));
      }
      // Taken per attempt: a refresh meanwhile gives the next attempt the new credentials.
      Result<Credentials> credentials =
          refreshed_credentials ? Result<Credentials>(*refreshed_credentials) : credentials_->Get();
      refreshed_credentials.reset();
      if (!credentials.ok()) {
        return Masked(Status(credentials.code(), call.what + ": " + credentials.status().message()));
      }
      used = std::move(credentials).value();
      Result<HttpRequest> http = Sign(call, used);
      if (!http.ok()) return http.status();
      response = http_->Send(*http);
      Report(call, response);
    }
    Status failure;
    std::optional<std::chrono::milliseconds> retry_after;
    if (!response.ok()) {
      failure = response.status();
    } else if (response->status < 300) {
      reply.response = std::move(response).value();
      return reply;
    } else if (!refreshed && IsExpiredToken(*response)) {
      refreshed = true;
      Result<Credentials> fresh = credentials_->Refresh(used);
      if (!fresh.ok()) return Masked(Status(fresh.code(), call.what + ": " + fresh.status().message()));
      refreshed_credentials = std::move(fresh).value();
      continue;  // one more attempt with the new credentials, outside the retry budget's sleep
    } else {
      failure = StatusFromS3Response(response->status, response->body);
      if (const std::string* header = response->Header("retry-after")) {
        retry_after = exec::ParseRetryAfter(*header);
      }
      if (!retry_.ShouldRetry(failure, attempt)) {
        reply.response = std::move(response).value();
        return reply;
      }
    }
    if (!retry_.ShouldRetry(failure, attempt)) {
      std::string message = call.what + ": " + failure.message();
      if (attempt > 1) message += " (after " + std::to_string(attempt) + " attempts)";
      return Masked(Status(failure.code(), std::move(message)));
    }
    const std::chrono::milliseconds delay = retry_.Delay(attempt, retry_after);
    if (std::optional<std::chrono::milliseconds> left = util::TimeLeft(); left && delay >= *left) {
      return Masked(Status(failure.code(), call.what + ": " + failure.message() + " (after " + std::to_string(attempt) +
                                               " attempts; no time left for another)"));
    }
    last_failure = failure;
    std::this_thread::sleep_for(delay);
  }
}

bool S3Client::NeedsAnotherAttempt(const Result<HttpResponse>& response) const {
  if (!response.ok()) return retry_.ShouldRetry(response.status(), 1);
  if (response->status < 300) return false;
  if (IsExpiredToken(*response)) return true;
  return retry_.ShouldRetry(StatusFromS3Response(response->status, response->body), 1);
}

HttpEngine* S3Client::Engine() {
  std::call_once(engine_->once, [&] {
    // As many in flight as the blocking pool has connections (maxSockets): the same bound.
    Result<std::unique_ptr<HttpEngine>> made = HttpEngine::Create(
        http_->options(), std::clamp(http_->options().max_connections, 1, HttpEngine::kMaxInFlightLimit));
    if (made.ok()) {
      engine_->engine = std::move(made).value();
    } else {
      engine_->failure = made.status();
    }
  });
  return engine_->engine.get();
}

void S3Client::Submit(const S3Call& call, int priority, std::optional<std::chrono::steady_clock::time_point> deadline,
                      std::function<void(SentAttempt)> done) {
  SentAttempt attempt;
  auto fail = [&](Status status) {
    attempt.response = Masked(std::move(status));
    done(std::move(attempt));
  };
  HttpEngine* engine = Engine();
  if (engine == nullptr) return fail(Status(engine_->failure.code(), call.what + ": " + engine_->failure.message()));
  Result<Credentials> credentials = credentials_->Get();
  if (!credentials.ok()) return fail(Status(credentials.code(), call.what + ": " + credentials.status().message()));
  attempt.credentials = std::move(credentials).value();
  Result<HttpRequest> http = Sign(call, attempt.credentials);
  if (!http.ok()) return fail(http.status());
  engine->Submit(HttpEngine::Submission{std::move(http).value(), priority, deadline,
                                        [this, call_copy = call, attempt = std::move(attempt),
                                         done = std::move(done)](Result<HttpResponse> response) mutable {
                                          Report(call_copy, response);
                                          attempt.response = std::move(response);
                                          done(std::move(attempt));
                                        }});
}

Status S3Client::Failure(const S3Call& call, const Reply& reply) const {
  Status mapped = StatusFromS3Response(reply.response.status, reply.response.body);
  std::string message = call.what + ": " + mapped.message();
  if (reply.attempts > 1) message += " (after " + std::to_string(reply.attempts) + " attempts)";
  return Masked(Status(mapped.code(), std::move(message)));
}

}  // namespace s3db::s3

// S3Client: sends S3 calls for one bucket. It addresses each call (s3/s3_addressing.h),
// signs it afresh for every attempt (SigV4) with the credentials the CredentialProvider
// holds then, sends it over the pooled HttpClient, retries
// retryable failures under the shared retry policy (exec/retry_policy.h, honouring
// Retry-After), reports every attempt to the request observer, and masks the credentials'
// secrets out of every message. An ExpiredToken, InvalidToken or TokenRefreshRequired answer
// makes the provider fetch new credentials once and the call is sent once more with them. What a reply means for an
// object is the S3Store's business (s3/s3_store.h).
//
// Thread-safety: Execute may be called from many threads at once.
//
// May call: exec/ (the retry policy), store/, util/, libcurl, pugixml, OpenSSL.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "exec/retry_policy.h"
#include "s3/credential_provider.h"
#include "s3/http_client.h"
#include "s3/http_engine.h"
#include "s3/s3_addressing.h"
#include "s3/sigv4.h"
#include "s3db/object_store.h"
#include "s3db/stores.h"

namespace s3db::s3 {

// One S3 operation, before signing.
struct S3Call {
  std::string method = "GET";
  std::string key;  // empty: the bucket
  QueryParams query;
  HeaderList headers;  // signed and sent
  std::string body;
  std::string what;  // "PUT 'key'", for messages
};

struct Reply {
  HttpResponse response;
  int attempts = 0;
};

// The first attempt of a call, sent through the engine (S3Client::Submit): the credentials
// it was signed with and what came back.
struct SentAttempt {
  Credentials credentials;
  Result<HttpResponse> response{HttpResponse{}};
};

class S3Client {
 public:
  S3Client(Addressing addressing, std::shared_ptr<CredentialProvider> credentials, std::string region,
           std::unique_ptr<HttpClient> http, exec::RetryPolicy retry, RequestObserver on_request);

  // Signs and sends `call`, retrying retryable failures. An HTTP error status comes back as
  // a response (the caller maps it); a transport failure that outlasted the retries as a
  // Status.
  Result<Reply> Execute(const S3Call& call);
  // The same, taking `first` (already sent and reported) as the first attempt's outcome:
  // what the engine's answer needs (NeedsAnotherAttempt) is done here, blocking.
  Result<Reply> Execute(const S3Call& call, SentAttempt first);

  // Sends the first attempt of `call` through the engine (one event loop for every call of
  // this client, created at the first Submit): signs it on this thread, reports it to the
  // observer, and calls `done` on the engine's loop thread (short, non-blocking). A failure
  // before sending (credentials, signing, the engine) comes to `done` at once, on this thread.
  void Submit(const S3Call& call, int priority, std::optional<std::chrono::steady_clock::time_point> deadline,
              std::function<void(SentAttempt)> done);
  // True when Execute would not return `response` as the call's answer as it stands: a
  // transport failure or status it retries, or credentials it refreshes.
  bool NeedsAnotherAttempt(const Result<HttpResponse>& response) const;
  // The Status for a non-2xx reply, naming the operation, masked.
  Status Failure(const S3Call& call, const Reply& reply) const;
  // `status` with the credentials' secrets masked.
  Status Masked(Status status) const;

 private:
  void Report(const S3Call& call, const Result<HttpResponse>& response) const;
  // The HTTP request of one attempt, signed now with `credentials`.
  Result<HttpRequest> Sign(const S3Call& call, const Credentials& credentials) const;
  Result<Reply> Execute(const S3Call& call, std::optional<SentAttempt> first);
  HttpEngine* Engine();

  const Addressing addressing_;
  const std::shared_ptr<CredentialProvider> credentials_;
  const std::string region_;
  std::unique_ptr<HttpClient> http_;
  const exec::RetryPolicy retry_;
  const RequestObserver on_request_;
  // Created at the first Submit; a holder so the client stays movable.
  struct EngineHolder {
    std::once_flag once;
    std::unique_ptr<HttpEngine> engine;
    Status failure;  // why it could not be created
  };
  std::unique_ptr<EngineHolder> engine_ = std::make_unique<EngineHolder>();
};

}  // namespace s3db::s3

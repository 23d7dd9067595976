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

#include <memory>
#include <string>

#include "exec/retry_policy.h"
#include "s3/credential_provider.h"
#include "s3/http_client.h"
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

class S3Client {
 public:
  S3Client(Addressing addressing, std::shared_ptr<CredentialProvider> credentials, std::string region,
           std::unique_ptr<HttpClient> http, exec::RetryPolicy retry, RequestObserver on_request);

  // Signs and sends `call`, retrying retryable failures. An HTTP error status comes back as
  // a response (the caller maps it); a transport failure that outlasted the retries as a
  // Status.
  Result<Reply> Execute(const S3Call& call);
  // The Status for a non-2xx reply, naming the operation, masked.
  Status Failure(const S3Call& call, const Reply& reply) const;
  // `status` with the credentials' secrets masked.
  Status Masked(Status status) const;

 private:
  void Report(const S3Call& call, const Result<HttpResponse>& response) const;

  const Addressing addressing_;
  const std::shared_ptr<CredentialProvider> credentials_;
  const std::string region_;
  std::unique_ptr<HttpClient> http_;
  const exec::RetryPolicy retry_;
  const RequestObserver on_request_;
};

}  // namespace s3db::s3

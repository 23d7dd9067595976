// What the serve tests share: a real server on a loopback port over a real database (memory,
// or the real S3 server when S3DB_TEST_S3_URI names one), a libcurl client, and OpenSSL-made
// keys, certificates and tokens. Nothing is mocked: every request goes through a socket.
#pragma once

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "serve/server.h"
#include "serve/text_codec.h"
#include "support/test_stores.h"

namespace s3db::serve_testing {

struct Reply {
  long status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  CURLcode error = CURLE_OK;

  Json json() const { return Json::parse(body, nullptr, false); }
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

inline size_t CollectBody(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

inline size_t CollectHeader(char* data, size_t size, size_t count, void* out) {
  std::string line(data, size * count);
  const size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
    (*static_cast<std::map<std::string, std::string>*>(out))[name] = value;
  }
  return size * count;
}

// One HTTP client (one keep-alive connection, reused). Not thread-safe: one per thread.
class HttpClient {
 public:
  explicit HttpClient(std::string base) : base_(std::move(base)), curl_(curl_easy_init()) {}
  ~HttpClient() { curl_easy_cleanup(curl_); }
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  Reply Call(const std::string& method, const std::string& path, const std::string& body = "",
             const std::vector<std::string>& headers = {}) {
    Reply reply;
    curl_easy_reset(curl_);
    const std::string url = base_ + path;
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl_, CURLOPT_CUSTOMREQUEST, method.c_str());
    if (method == "HEAD") curl_easy_setopt(curl_, CURLOPT_NOBODY, 1L);
    if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body.data());
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    }
    curl_slist* list = nullptr;
    list = curl_slist_append(list, "Expect:");  // no 100-continue round trip unless a test asks
    for (const std::string& header : headers) list = curl_slist_append(list, header.c_str());
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, CollectBody);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &reply.body);
    curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, CollectHeader);
    curl_easy_setopt(curl_, CURLOPT_HEADERDATA, &reply.headers);
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(curl_, CURLOPT_SSL_VERIFYPEER, 0L);  // the tests' self-signed certificate
    curl_easy_setopt(curl_, CURLOPT_SSL_VERIFYHOST, 0L);
    reply.error = curl_easy_perform(curl_);
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &reply.status);
    curl_slist_free_all(list);
    return reply;
  }

 private:
  std::string base_;
  CURL* curl_;
};

inline std::string Base64UrlOf(const std::string& bytes) { return serve::Base64UrlEncode(bytes); }

inline std::string HmacJwt(const Json& header, const Json& payload, const std::string& secret) {
  const std::string signing = Base64UrlOf(header.dump()) + "." + Base64UrlOf(payload.dump());
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(signing.data()), signing.size(), mac, &length);
  return signing + "." + Base64UrlOf(std::string(reinterpret_cast<char*>(mac), length));
}

// An RSA key, its public half as PEM, and a self-signed certificate for 127.0.0.1.
class TestKeys {
 public:
  TestKeys() : key_(EVP_RSA_gen(2048)) {}
  ~TestKeys() { EVP_PKEY_free(key_); }

  std::string PublicPem() const {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, key_);
    return Drain(bio);
  }
  std::string PrivatePem() const {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, key_, nullptr, nullptr, 0, nullptr, nullptr);
    return Drain(bio);
  }
  std::string CertificatePem() const {
    X509* cert = X509_new();
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, key_);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1,
                               0);
    X509_set_issuer_name(cert, name);
    X509_sign(cert, key_, EVP_sha256());
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(bio, cert);
    X509_free(cert);
    return Drain(bio);
  }
  std::string SignJwt(const Json& header, const Json& payload) const {
    const std::string signing = Base64UrlOf(header.dump()) + "." + Base64UrlOf(payload.dump());
    EVP_MD_CTX* context = EVP_MD_CTX_new();
    size_t length = 0;
    EVP_DigestSignInit(context, nullptr, EVP_sha256(), nullptr, key_);
    EVP_DigestSign(context, nullptr, &length, reinterpret_cast<const unsigned char*>(signing.data()), signing.size());
    std::string signature(length, '\0');
    EVP_DigestSign(context, reinterpret_cast<unsigned char*>(signature.data()), &length,
                   reinterpret_cast<const unsigned char*>(signing.data()), signing.size());
    EVP_MD_CTX_free(context);
    signature.resize(length);
    return signing + "." + Base64UrlOf(signature);
  }

 private:
  static std::string Drain(BIO* bio) {
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio, &data);
    std::string text(data, static_cast<size_t>(length));
    BIO_free(bio);
    return text;
  }
  EVP_PKEY* key_;
};

inline void WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

inline int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// A database on one backend, served on a loopback port by a Server in this process.
class ServedDatabase {
 public:
  explicit ServedDatabase(testing::Backend backend, serve::ServeOptions options = {}) : factory_(backend) {
    costs_ = std::make_shared<CostsPlugin>();
    DatabaseOptions database_options;
    database_options.plugins.push_back(costs_);
    database_ = factory_.Connect("db", database_options);
    options.listen.host = "127.0.0.1";
    options.listen.port = 0;
    options.listen.io_threads = 2;
    options.costs = costs_;
    server_ = std::make_unique<serve::Server>(*database_, options);
    port_ = server_->Start();
  }
  ~ServedDatabase() {
    server_.reset();
    database_.reset();
  }

  std::string base(bool tls = false) const {
    return std::string(tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
  }
  uint16_t port() const { return port_; }
  Database& database() { return *database_; }
  serve::Server& server() { return *server_; }

 private:
  testing::StoreFactory factory_;
  std::shared_ptr<CostsPlugin> costs_;
  std::unique_ptr<Database> database_;
  std::unique_ptr<serve::Server> server_;
  uint16_t port_ = 0;
};

// The backends the HTTP tests run on: memory and the file store always, the real S3 server
// when one is configured.
inline std::vector<testing::Backend> ServeBackends() {
  std::vector<testing::Backend> backends{testing::Backend::kMemory, testing::Backend::kFile};
  if (!testing::TestS3Uri().empty()) backends.push_back(testing::Backend::kS3);
  return backends;
}

}  // namespace s3db::serve_testing

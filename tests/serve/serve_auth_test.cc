// Who may call: API keys and their scopes, HS256 and RS256 bearer tokens and every refusal,
// the loopback rule, CORS, TLS, and slow clients cut off by the read timeout.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "serve_fixture.h"

namespace s3db::serve_testing {
namespace {

const std::string kReaderKey = "reader-key-0123456789";
const std::string kWriterKey = "writer-key-0123456789";
const std::string kAdminKey = "admin-key-0123456789";
const std::string kHmacSecret = "an HS256 secret of at least thirty-two bytes";

class ServeAuthTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { keys_ = new TestKeys(); }
  static void TearDownTestSuite() {
    delete keys_;
    keys_ = nullptr;
  }

  serve::AuthConfig KeysAndHmac() {
    const Json document{{"apiKeys",
                         {{{"name", "reader"}, {"sha256", serve::Sha256Hex(kReaderKey)}, {"scopes", {"read:users"}}},
                          {{"name", "writer"}, {"sha256", serve::Sha256Hex(kWriterKey)}, {"scopes", {"write:users"}}},
                          {{"name", "admin"}, {"sha256", serve::Sha256Hex(kAdminKey)}, {"scopes", {"admin:*"}}}}},
                        {"jwt", {{"algorithm", "HS256"}, {"secretFile", "hs256.secret"}, {"audience", "s3db"}}}};
    WriteFile(dir_.path() / "hs256.secret", kHmacSecret + "\n");
    return serve::AuthConfig::FromJson(document, dir_.path().string());
  }

  static TestKeys* keys_;
  testing::TempDir dir_;
};
TestKeys* ServeAuthTest::keys_ = nullptr;

TEST_F(ServeAuthTest, ApiKeysCarryScopesPerResource) {
  serve::ServeOptions options;
  options.auth = KeysAndHmac();
  ServedDatabase served(testing::Backend::kMemory, options);
  HttpClient client(served.base());
  const std::string admin = "X-API-Key: " + kAdminKey;

  Reply anonymous = client.Call("GET", "/v1/resources");
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_EQ(anonymous.header("www-authenticate"), "Bearer");
  EXPECT_EQ(anonymous.json()["code"], "unauthenticated");
  EXPECT_EQ(client.Call("GET", "/v1/resources", "", {"X-API-Key: wrong"}).status, 401);
  EXPECT_EQ(client.Call("GET", "/v1/resources", "", {"Authorization: Basic YTpi"}).status, 401);
  EXPECT_EQ(client.Call("GET", "/healthz").status, 200);  // liveness needs no credentials

  EXPECT_EQ(client
                .Call("POST", "/v1/resources", R"({"name":"users","attributes":{"name":"string"}})",
                      {"X-API-Key: " + kWriterKey})
                .status,
            403);
  ASSERT_EQ(client.Call("POST", "/v1/resources", R"({"name":"users","attributes":{"name":"string"}})", {admin}).status,
            201);
  ASSERT_EQ(
      client.Call("POST", "/v1/resources", R"({"name":"secrets","attributes":{"name":"string"}})", {admin}).status,
      201);

  Reply written = client.Call("POST", "/v1/users", R"({"id":"a","name":"Ada"})", {"X-API-Key: " + kWriterKey});
  EXPECT_EQ(written.status, 201);
  Reply forbidden = client.Call("POST", "/v1/users", R"({"name":"Bob"})", {"X-API-Key: " + kReaderKey});
  EXPECT_EQ(forbidden.status, 403);
  EXPECT_EQ(forbidden.json()["code"], "forbidden");
  EXPECT_EQ(client.Call("GET", "/v1/users/a", "", {"Authorization: Bearer " + kReaderKey}).status, 200);
  EXPECT_EQ(client.Call("GET", "/v1/users/a", "", {"X-API-Key: " + kWriterKey}).status, 200);  // write reads
  EXPECT_EQ(client.Call("GET", "/v1/secrets", "", {"X-API-Key: " + kReaderKey}).status, 403);
  EXPECT_EQ(client.Call("DELETE", "/v1/resources/users", "", {"X-API-Key: " + kWriterKey}).status, 403);
  // The listing shows only what the caller may read.
  Reply listed = client.Call("GET", "/v1/resources", "", {"X-API-Key: " + kReaderKey});
  EXPECT_EQ(listed.json()["resources"], Json::parse(R"([{"name":"users","version":1}])"));
  // The OpenAPI document declares the schemes.
  Reply openapi = client.Call("GET", "/openapi.json", "", {admin});
  EXPECT_TRUE(openapi.json()["components"].contains("securitySchemes"));
}

TEST_F(ServeAuthTest, Hs256TokensAreCheckedForSignatureAlgorithmTimeAndAudience) {
  serve::ServeOptions options;
  options.auth = KeysAndHmac();
  ServedDatabase served(testing::Backend::kMemory, options);
  HttpClient client(served.base());
  ASSERT_EQ(client
                .Call("POST", "/v1/resources", R"({"name":"users","attributes":{"name":"string"}})",
                      {"X-API-Key: " + kAdminKey})
                .status,
            201);
  const Json header{{"alg", "HS256"}, {"typ", "JWT"}};
  const int64_t now = NowSeconds();
  const Json good{{"sub", "svc"}, {"exp", now + 600}, {"aud", "s3db"}, {"scope", "read:users write:users"}};
  auto call = [&](const std::string& token) {
    return client.Call("POST", "/v1/users", R"({"name":"Ann"})", {"Authorization: Bearer " + token});
  };
  EXPECT_EQ(call(HmacJwt(header, good, kHmacSecret)).status, 201);

  Json expired = good;
  expired["exp"] = now - 3600;
  Reply refused = call(HmacJwt(header, expired, kHmacSecret));
  EXPECT_EQ(refused.status, 401);
  EXPECT_NE(refused.json()["detail"].get<std::string>().find("expired"), std::string::npos);
  Json early = good;
  early["nbf"] = now + 3600;
  EXPECT_EQ(call(HmacJwt(header, early, kHmacSecret)).status, 401);
  Json no_exp = good;
  no_exp.erase("exp");
  EXPECT_EQ(call(HmacJwt(header, no_exp, kHmacSecret)).status, 401);
  Json other_audience = good;
  other_audience["aud"] = "someone-else";
  EXPECT_EQ(call(HmacJwt(header, other_audience, kHmacSecret)).status, 401);
  EXPECT_EQ(call(HmacJwt(header, good, kHmacSecret + "x")).status, 401);  // wrong key
  // alg none, and a token that names another algorithm, are refused whatever they carry.
  const std::string unsigned_token = Base64UrlOf(Json{{"alg", "none"}}.dump()) + "." + Base64UrlOf(good.dump()) + ".";
  EXPECT_EQ(call(unsigned_token).status, 401);
  EXPECT_EQ(call(HmacJwt({{"alg", "HS512"}}, good, kHmacSecret)).status, 401);
  // Tampered payload: the signature no longer verifies.
  std::string token = HmacJwt(header, good, kHmacSecret);
  const size_t dot = token.find('.');
  Json promoted = good;
  promoted["scope"] = "admin:*";
  token = token.substr(0, dot + 1) + Base64UrlOf(promoted.dump()) + token.substr(token.find('.', dot + 1));
  EXPECT_EQ(call(token).status, 401);
  EXPECT_EQ(call("a.b.c").status, 401);
  // Scopes from the token: read only cannot write.
  Json reader = good;
  reader["scope"] = "read:users";
  EXPECT_EQ(call(HmacJwt(header, reader, kHmacSecret)).status, 403);
}

TEST_F(ServeAuthTest, Rs256TokensVerifyWithThePublicKey) {
  WriteFile(dir_.path() / "public.pem", keys_->PublicPem());
  serve::ServeOptions options;
  options.auth = serve::AuthConfig::FromJson(
      Json{{"jwt", {{"algorithm", "RS256"}, {"publicKeyFile", "public.pem"}, {"issuer", "tests"}}}},
      dir_.path().string());
  ServedDatabase served(testing::Backend::kMemory, options);
  HttpClient client(served.base());
  const Json header{{"alg", "RS256"}};
  const Json claims{{"sub", "ops"}, {"iss", "tests"}, {"exp", NowSeconds() + 600}, {"scopes", {"admin:*"}}};
  const std::string token = keys_->SignJwt(header, claims);
  EXPECT_EQ(client.Call("GET", "/v1/resources", "", {"Authorization: Bearer " + token}).status, 200);
  Json other_issuer = claims;
  other_issuer["iss"] = "elsewhere";
  EXPECT_EQ(
      client.Call("GET", "/v1/resources", "", {"Authorization: Bearer " + keys_->SignJwt(header, other_issuer)}).status,
      401);
  // An HS256 token "signed" with the public key's text (the algorithm-confusion attack).
  EXPECT_EQ(client
                .Call("GET", "/v1/resources", "",
                      {"Authorization: Bearer " + HmacJwt({{"alg", "HS256"}}, claims, keys_->PublicPem())})
                .status,
            401);
  std::string tampered = token;
  tampered[tampered.size() - 5] = tampered[tampered.size() - 5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(client.Call("GET", "/v1/resources", "", {"Authorization: Bearer " + tampered}).status, 401);
  EXPECT_EQ(client.Call("GET", "/v1/resources", "", {"X-API-Key: anything"}).status, 401);
}

TEST_F(ServeAuthTest, BadAuthFilesAreRefusedBeforeServing) {
  EXPECT_THROW(serve::AuthConfig::FromJson(Json{{"apiKeys", {{{"name", "k"}, {"sha256", "abc"}}}}}, ""),
               InvalidArgument);
  EXPECT_THROW(serve::AuthConfig::FromJson(
                   Json{{"apiKeys", {{{"name", "k"}, {"sha256", serve::Sha256Hex("k")}, {"scopes", {"root"}}}}}}, ""),
               InvalidArgument);
  EXPECT_THROW(serve::AuthConfig::FromJson(Json{{"jwt", {{"algorithm", "none"}}}}, ""), InvalidArgument);
  WriteFile(dir_.path() / "short.secret", "short");
  EXPECT_THROW(serve::AuthConfig::FromJson(Json{{"jwt", {{"algorithm", "HS256"}, {"secretFile", "short.secret"}}}},
                                           dir_.path().string()),
               InvalidArgument);
  WriteFile(dir_.path() / "not-a-key.pem", "hello");
  EXPECT_THROW(serve::Authenticator(serve::AuthConfig::FromJson(
                   Json{{"jwt", {{"algorithm", "RS256"}, {"publicKeyFile", "not-a-key.pem"}}}}, dir_.path().string())),
               InvalidArgument);
}

TEST_F(ServeAuthTest, NoAuthenticationOnlyOnLoopbackUnlessInsecure) {
  testing::StoreFactory factory(testing::Backend::kMemory);
  std::unique_ptr<Database> database = factory.Connect();
  serve::ServeOptions open;
  open.listen.host = "0.0.0.0";
  open.listen.port = 0;
  EXPECT_THROW((serve::Server{*database, open}), InvalidArgument);
  open.insecure = true;
  EXPECT_NO_THROW((serve::Server{*database, open}));
  serve::ServeOptions secured;
  secured.listen.host = "0.0.0.0";
  secured.auth = KeysAndHmac();
  EXPECT_NO_THROW((serve::Server{*database, secured}));
  EXPECT_TRUE(serve::IsLoopbackAddress("127.0.0.1"));
  EXPECT_TRUE(serve::IsLoopbackAddress("127.8.9.10"));
  EXPECT_TRUE(serve::IsLoopbackAddress("::1"));
  EXPECT_FALSE(serve::IsLoopbackAddress("0.0.0.0"));
  EXPECT_FALSE(serve::IsLoopbackAddress("::"));
  EXPECT_FALSE(serve::IsLoopbackAddress("10.0.0.1"));
  std::string host;
  uint16_t port = 0;
  EXPECT_TRUE(serve::ParseListenAddress("localhost:8080", host, port));
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 8080);
  EXPECT_TRUE(serve::ParseListenAddress("[::1]:0", host, port));
  EXPECT_EQ(host, "::1");
  EXPECT_FALSE(serve::ParseListenAddress("example.com:80", host, port));
  EXPECT_FALSE(serve::ParseListenAddress("127.0.0.1:99999", host, port));
  EXPECT_FALSE(serve::ParseListenAddress("127.0.0.1", host, port));
}

TEST_F(ServeAuthTest, CorsAnswersPreflightsForAllowedOriginsOnly) {
  serve::ServeOptions options;
  options.api.cors_origins = {"https://app.example"};
  ServedDatabase served(testing::Backend::kMemory, options);
  HttpClient client(served.base());
  Reply preflight = client.Call("OPTIONS", "/v1/users/x", "",
                                {"Origin: https://app.example", "Access-Control-Request-Method: PATCH"});
  EXPECT_EQ(preflight.status, 204);
  EXPECT_EQ(preflight.header("access-control-allow-origin"), "https://app.example");
  EXPECT_NE(preflight.header("access-control-allow-methods").find("PATCH"), std::string::npos);
  EXPECT_NE(preflight.header("access-control-allow-headers").find("If-Match"), std::string::npos);
  Reply allowed = client.Call("GET", "/healthz", "", {"Origin: https://app.example"});
  EXPECT_EQ(allowed.header("access-control-allow-origin"), "https://app.example");
  EXPECT_NE(allowed.header("access-control-expose-headers").find("ETag"), std::string::npos);
  Reply other = client.Call("GET", "/healthz", "", {"Origin: https://evil.example"});
  EXPECT_EQ(other.header("access-control-allow-origin"), "");
}

TEST_F(ServeAuthTest, TlsServesHttpsWithTheGivenCertificate) {
  WriteFile(dir_.path() / "cert.pem", keys_->CertificatePem());
  WriteFile(dir_.path() / "key.pem", keys_->PrivatePem());
  serve::ServeOptions options;
  options.listen.tls_cert_file = (dir_.path() / "cert.pem").string();
  options.listen.tls_key_file = (dir_.path() / "key.pem").string();
  ServedDatabase served(testing::Backend::kMemory, options);
  HttpClient https(served.base(true));
  ASSERT_EQ(https.Call("POST", "/v1/resources", R"({"name":"users","attributes":{"name":"string"}})").status, 201);
  for (int i = 0; i < 30; ++i) {
    ASSERT_EQ(https.Call("POST", "/v1/users", Json{{"name", "n" + std::to_string(i)}}.dump()).status, 201);
  }
  Reply exported = https.Call("GET", "/v1/users/_export");
  EXPECT_EQ(exported.status, 200);
  EXPECT_EQ(std::count(exported.body.begin(), exported.body.end(), '\n'), 30);
  // Plain HTTP to the TLS port gets no answer.
  HttpClient plain(served.base(false));
  EXPECT_EQ(plain.Call("GET", "/healthz").status, 0);

  serve::ServeOptions half;
  half.listen.tls_cert_file = options.listen.tls_cert_file;
  EXPECT_THROW((ServedDatabase{testing::Backend::kMemory, half}), InvalidArgument);
  serve::ServeOptions wrong;
  wrong.listen.tls_cert_file = (dir_.path() / "key.pem").string();
  wrong.listen.tls_key_file = (dir_.path() / "key.pem").string();
  EXPECT_THROW((ServedDatabase{testing::Backend::kMemory, wrong}), InvalidArgument);
}

TEST_F(ServeAuthTest, SlowClientsAreCutOffAndOthersAreServedMeanwhile) {
  serve::ServeOptions options;
  options.listen.read_timeout = std::chrono::milliseconds(300);
  ServedDatabase served(testing::Backend::kMemory, options);
  // A client that sends half a request and stalls.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(served.port());
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  const std::string partial = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
  ASSERT_EQ(::send(fd, partial.data(), partial.size(), MSG_NOSIGNAL), static_cast<ssize_t>(partial.size()));
  HttpClient client(served.base());
  EXPECT_EQ(client.Call("GET", "/healthz").status, 200);  // served while the slow one stalls
  const auto started = std::chrono::steady_clock::now();
  pollfd p{fd, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 5000), 1);
  char byte;
  EXPECT_EQ(::recv(fd, &byte, 1, 0), 0);  // closed, without an answer
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3));
  ::close(fd);
}

}  // namespace
}  // namespace s3db::serve_testing

// Container credentials and EC2 IMDSv2 through the whole chain, against real HTTP servers on
// loopback that behave like the AWS ones in what matters: the IMDS server hands out a token
// on PUT and answers 401 to any GET without it; the container server checks the
// Authorization header. Nothing here reaches 169.254.169.254 or 169.254.170.2.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>

#include "loopback_http_server.h"
#include "s3/credentials.h"
#include "s3_test_helpers.h"

namespace s3db::s3 {
namespace {

using s3db::testing::LoopbackHttpServer;
using s3db::testing::ReceivedRequest;
using s3db::testing::ScriptedReply;

constexpr const char* kMetadataSecret = "metaSECRET/never+shown";
constexpr const char* kImdsToken = "imds-session-token-123";

ScriptedReply Answer(int status, std::string body = "") {
  ScriptedReply reply;
  reply.status = status;
  reply.body = std::move(body);
  return reply;
}

std::string CredentialsJson(const std::string& key, const std::string& token_field) {
  return "{\"Code\": \"Success\", \"AccessKeyId\": \"" + key + "\", \"SecretAccessKey\": \"" + kMetadataSecret +
         "\", \"" + token_field + "\": \"SESSION-" + key + "\", \"Expiration\": \"2999-01-01T00:00:00Z\"}";
}

// IMDSv2 as EC2 serves it: PUT /latest/api/token with a TTL header gives a token; every GET
// without that token is 401.
ScriptedReply Imds(const ReceivedRequest& r) {
  if (r.method == "PUT" && r.target == "/latest/api/token") {
    return r.Header("x-aws-ec2-metadata-token-ttl-seconds").empty() ? Answer(400) : Answer(200, kImdsToken);
  }
  if (r.Header("x-aws-ec2-metadata-token") != kImdsToken) return Answer(401);
  if (r.target == "/latest/meta-data/iam/security-credentials/") return Answer(200, "s3db-role\n");
  if (r.target == "/latest/meta-data/iam/security-credentials/s3db-role") {
    return Answer(200, CredentialsJson("AKIDIMDS", "Token"));
  }
  if (r.target == "/latest/meta-data/placement/region") return Answer(200, "eu-north-1");
  return Answer(404);
}

StoreUri ParsedUri(const std::string& text) { return *ParseStoreUri(text); }

ChainOptions NoFiles() {
  ChainOptions options;
  options.read_file = [](const std::string&) { return std::optional<std::string>(); };
  return options;
}

// A loopback port nothing listens on (bound, then closed).
int ClosedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

TEST(ImdsCredentialsTest, TokenThenRoleThenCredentials) {
  LoopbackHttpServer imds(Imds);
  Environment env = {{"AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.endpoint()}};
  Result<ResolvedCredentials> resolved = ResolveCredentials(ParsedUri("s3://bucket"), env, NoFiles());
  ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
  Result<Credentials> credentials = resolved->provider->Get();
  ASSERT_TRUE(credentials.ok());
  EXPECT_EQ(credentials->access_key_id, "AKIDIMDS");
  EXPECT_EQ(credentials->secret_access_key, kMetadataSecret);
  EXPECT_EQ(credentials->session_token, "SESSION-AKIDIMDS");
  EXPECT_TRUE(resolved->provider->expiration().has_value());
  EXPECT_EQ(resolved->source, "EC2 instance metadata (" + imds.endpoint() + ")");
  std::vector<ReceivedRequest> seen = imds.requests();
  // The region first (token, placement/region), then the credentials (token, role, keys).
  ASSERT_EQ(seen.size(), 5u);
  EXPECT_EQ(seen[1].target, "/latest/meta-data/placement/region");
  EXPECT_EQ(seen[2].method, "PUT");
  EXPECT_EQ(seen[3].target, "/latest/meta-data/iam/security-credentials/");
  EXPECT_EQ(seen[4].target, "/latest/meta-data/iam/security-credentials/s3db-role");
  EXPECT_EQ(seen[4].Header("x-aws-ec2-metadata-token"), kImdsToken);
  EXPECT_EQ(resolved->skipped.size(), 5u) << "every source before IMDS says why it was passed over";
  // No region configured: the instance's (placement/region) is asked for and used.
  EXPECT_EQ(resolved->instance_region, "eu-north-1");
  EXPECT_EQ(ResolveRegion(ParsedUri("s3://bucket"), env, nullptr, resolved->instance_region), "eu-north-1");
  const size_t asked = imds.requests().size();
  env["AWS_REGION"] = "ap-east-1";
  Result<ResolvedCredentials> configured = ResolveCredentials(ParsedUri("s3://bucket"), env, NoFiles());
  ASSERT_TRUE(configured.ok());
  EXPECT_EQ(configured->instance_region, "");
  for (size_t i = asked; i < imds.requests().size(); ++i) {
    EXPECT_NE(imds.requests()[i].target, "/latest/meta-data/placement/region") << "a configured region wins";
  }
}

TEST(ImdsCredentialsTest, AServerWithoutTokensIsNotAskedTheV1Way) {
  // An IMDSv1-only server: PUT is not allowed. IMDSv2 only: no tokenless GET follows.
  LoopbackHttpServer v1([](const ReceivedRequest& r) { return r.method == "PUT" ? Answer(405) : Imds(r); });
  Environment env = {{"AWS_EC2_METADATA_SERVICE_ENDPOINT", v1.endpoint()}};
  Result<ResolvedCredentials> resolved = ResolveCredentials(ParsedUri("s3://bucket"), env, NoFiles());
  ASSERT_FALSE(resolved.ok());
  EXPECT_NE(resolved.status().message().find("HTTP 405"), std::string::npos) << resolved.status().message();
  for (const ReceivedRequest& r : v1.requests()) EXPECT_EQ(r.method, "PUT");
}

TEST(ImdsCredentialsTest, NoImdsFailsFastAfterTwoAttemptsWithAClearMessage) {
  Environment env = {{"AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:" + std::to_string(ClosedPort())},
                     {"HOME", "/nonexistent-home"}};
  auto start = std::chrono::steady_clock::now();
  Result<ResolvedCredentials> resolved = ResolveCredentials(ParsedUri("s3://bucket"), env, NoFiles());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  ASSERT_EQ(resolved.code(), ErrorCode::kAccessDenied);
  const std::string& message = resolved.status().message();
  for (const char* part : {"EC2 instance metadata", "after 2 attempts", "AWS_EC2_METADATA_DISABLED=true",
                           "AWS_ACCESS_KEY_ID", "/nonexistent-home/.aws/config", "AWS_CONTAINER_CREDENTIALS"}) {
    EXPECT_NE(message.find(part), std::string::npos) << part << " in " << message;
  }
}

TEST(ImdsCredentialsTest, DisabledOrEarlierSourcesMeanNoRequest) {
  LoopbackHttpServer imds(Imds);
  Environment env = {{"AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.endpoint()}, {"AWS_EC2_METADATA_DISABLED", "TRUE"}};
  EXPECT_EQ(ResolveCredentials(ParsedUri("s3://bucket"), env, NoFiles()).code(), ErrorCode::kInvalidArgument);
  env.erase("AWS_EC2_METADATA_DISABLED");
  env["AWS_ACCESS_KEY_ID"] = "AKIDENV";
  env["AWS_SECRET_ACCESS_KEY"] = "s";
  EXPECT_TRUE(ResolveCredentials(ParsedUri("s3://bucket"), env, NoFiles()).ok());
  EXPECT_TRUE(imds.requests().empty());
}

TEST(ImdsCredentialsTest, RegionFromPlacement) {
  LoopbackHttpServer imds(Imds);
  Result<std::unique_ptr<ImdsCredentialSource>> source = ImdsCredentialSource::Create(imds.endpoint());
  ASSERT_TRUE(source.ok());
  Result<std::string> region = (*source)->Region();
  ASSERT_TRUE(region.ok()) << region.status().ToString();
  EXPECT_EQ(*region, "eu-north-1");
}

// The container agent: 401 unless Authorization is the expected token.
struct ContainerAgent {
  explicit ContainerAgent(std::string token)
      : expected(std::move(token)), server([this](const ReceivedRequest& r) {
          if (r.Header("authorization") != Expected()) return Answer(401);
          return Answer(200, CredentialsJson("AKIDCONTAINER" + std::to_string(++served), "Token"));
        }) {}
  std::string Expected() {
    std::lock_guard<std::mutex> lock(mutex);
    return expected;
  }
  void Expect(std::string token) {
    std::lock_guard<std::mutex> lock(mutex);
    expected = std::move(token);
  }
  std::mutex mutex;
  std::string expected;
  std::atomic<int> served{0};
  LoopbackHttpServer server;
};

TEST(ContainerCredentialsTest, FullUriWithAuthorizationToken) {
  ContainerAgent agent("Bearer pod-identity");
  Environment env = {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", agent.server.endpoint() + "/v1/credentials"},
                     {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer pod-identity"},
                     {"AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1"}};
  Result<ResolvedCredentials> resolved = ResolveCredentials(ParsedUri("s3://bucket"), env, NoFiles());
  ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
  EXPECT_EQ(resolved->provider->Get()->access_key_id, "AKIDCONTAINER1");
  EXPECT_EQ(resolved->provider->Get()->session_token, "SESSION-AKIDCONTAINER1");
  EXPECT_EQ(resolved->source, "container credentials (AWS_CONTAINER_CREDENTIALS_FULL_URI)");
  EXPECT_EQ(agent.server.requests()[0].target, "/v1/credentials");

  env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "Bearer wrong";
  Result<ResolvedCredentials> refused = ResolveCredentials(ParsedUri("s3://bucket"), env, NoFiles());
  ASSERT_EQ(refused.code(), ErrorCode::kAccessDenied);
  EXPECT_NE(refused.status().message().find("HTTP 401"), std::string::npos);
  EXPECT_EQ(refused.status().message().find("Bearer"), std::string::npos) << "the token is a secret too";
}

TEST(ContainerCredentialsTest, TheTokenFileIsReadAgainOnEveryFetch) {
  ScratchDir dir;
  ContainerAgent agent("token-one");
  std::string token_file = dir.Write("token", "token-one\n");
  Environment env = {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", agent.server.endpoint() + "/creds"},
                     {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", token_file},
                     {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "ignored-when-the-file-is-set"}};
  Result<ResolvedCredentials> resolved = ResolveCredentials(ParsedUri("s3://bucket"), env, NoFiles());
  ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
  // The agent rotates the token; the file follows; the next fetch must send the new one.
  agent.Expect("token-two");
  dir.Write("token", "token-two\n");
  Result<Credentials> refreshed = resolved->provider->Refresh(*resolved->provider->Get());
  ASSERT_TRUE(refreshed.ok()) << refreshed.status().ToString();
  EXPECT_EQ(refreshed->access_key_id, "AKIDCONTAINER2");
}

TEST(ContainerCredentialsTest, RelativeUriIsUnderTheEcsAgent) {
  ContainerAgent agent("");
  ChainOptions options = NoFiles();
  options.ecs_endpoint = agent.server.endpoint();  // stands in for 169.254.170.2
  Environment env = {{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc"},
                     {"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:1/ignored"}};
  Result<ResolvedCredentials> resolved = ResolveCredentials(ParsedUri("s3://bucket"), env, options);
  ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
  EXPECT_EQ(agent.server.requests()[0].target, "/v2/credentials/abc");
  EXPECT_EQ(resolved->source, "container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI)");
}

TEST(ContainerCredentialsTest, FullUriMustBeLoopbackOrAnAgentOrHttps) {
  for (const char* url : {"http://example.com/creds", "http://10.0.0.1/creds", "ftp://127.0.0.1/x"}) {
    Environment env = {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", url}};
    Result<ResolvedCredentials> refused = ResolveCredentials(ParsedUri("s3://bucket"), env, NoFiles());
    EXPECT_EQ(refused.code(), ErrorCode::kInvalidArgument) << url;
    EXPECT_NE(refused.status().message().find("AWS_CONTAINER_CREDENTIALS_FULL_URI"), std::string::npos);
  }
  // A custom-endpoint connection string never asks the agent.
  ContainerAgent agent("");
  Environment env = {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", agent.server.endpoint() + "/creds"}};
  EXPECT_FALSE(ResolveCredentials(ParsedUri("http://127.0.0.1:7480/bucket"), env, NoFiles()).ok());
  EXPECT_TRUE(agent.server.requests().empty());
}

}  // namespace
}  // namespace s3db::s3

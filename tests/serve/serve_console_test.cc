// The web console's files as HTTP serves them (docs/SERVE.md, "Web console"): embedded byte for
// byte, with their content types, an ETag that is their SHA-256 (304 on If-None-Match), no
// caching without revalidation, and a Content-Security-Policy that allows no inline script and
// nothing from another origin. What the page does in a browser is tests/serve/console/.
#include <openssl/sha.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "serve/console.h"
#include "serve_fixture.h"

namespace s3db::serve_testing {
namespace {

std::string ConsoleSourceFile(const std::string& name) {
  std::ifstream in(std::string(S3DB_SOURCE_DIR) + "/src/serve/console/" + name, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string QuotedSha256Hex(const std::string& bytes) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  static const char* hex = "0123456789abcdef";
  std::string out = "\"";
  for (unsigned char byte : digest) {
    out += hex[byte >> 4];
    out += hex[byte & 15];
  }
  return out + "\"";
}

TEST(ServeConsoleFilesTest, EachFileIsServedAsInTheSourceTreeWithItsTypeAndHeaders) {
  ServedDatabase served(testing::Backend::kMemory);
  HttpClient client(served.base());
  const std::vector<std::pair<std::string, std::string>> files{{"/", "index.html"},
                                                               {"/console/", "index.html"},
                                                               {"/console/index.html", "index.html"},
                                                               {"/console/app.js", "app.js"},
                                                               {"/console/style.css", "style.css"}};
  for (const auto& [path, name] : files) {
    SCOPED_TRACE(path);
    const std::string source = ConsoleSourceFile(name);
    ASSERT_FALSE(source.empty()) << "src/serve/console/" << name << " is missing";
    Reply reply = client.Call("GET", path);
    ASSERT_EQ(reply.status, 200) << reply.body;
    EXPECT_EQ(reply.body, source);
    EXPECT_EQ(reply.header("etag"), QuotedSha256Hex(source));
    EXPECT_EQ(reply.header("cache-control"), "no-cache");
    EXPECT_EQ(reply.header("content-security-policy"), serve::kConsoleContentSecurityPolicy);
    EXPECT_EQ(reply.header("x-content-type-options"), "nosniff");
    const std::map<std::string, std::string> types{{"index.html", "text/html; charset=utf-8"},
                                                   {"app.js", "text/javascript; charset=utf-8"},
                                                   {"style.css", "text/css; charset=utf-8"}};
    EXPECT_EQ(reply.header("content-type"), types.at(name));
  }
}

TEST(ServeConsoleFilesTest, TheEtagAnswers304AndHeadSendsNoBody) {
  ServedDatabase served(testing::Backend::kMemory);
  HttpClient client(served.base());
  const std::string etag = client.Call("GET", "/console/app.js").header("etag");
  ASSERT_FALSE(etag.empty());
  Reply same = client.Call("GET", "/console/app.js", "", {"If-None-Match: W/\"other\", " + etag});
  EXPECT_EQ(same.status, 304);
  EXPECT_EQ(same.body, "");
  EXPECT_EQ(same.header("etag"), etag);
  EXPECT_EQ(client.Call("GET", "/console/app.js", "", {"If-None-Match: \"" + std::string(64, '0') + "\""}).status, 200);
  Reply head = client.Call("HEAD", "/");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.body, "");
}

TEST(ServeConsoleFilesTest, ThePolicyAllowsNoInlineScriptAndThePageHasNone) {
  const std::string policy = serve::kConsoleContentSecurityPolicy;
  EXPECT_NE(policy.find("default-src 'none'"), std::string::npos);
  EXPECT_NE(policy.find("script-src 'self'"), std::string::npos);
  EXPECT_NE(policy.find("connect-src 'self'"), std::string::npos);
  EXPECT_EQ(policy.find("unsafe"), std::string::npos);
  EXPECT_EQ(policy.find("http"), std::string::npos) << "no other origin";
  // Every <script> of the page has a src on the server itself, and no element has an on* handler.
  const std::string page = ConsoleSourceFile("index.html");
  const std::regex script("<script([^>]*)>");
  size_t scripts = 0;
  for (auto it = std::sregex_iterator(page.begin(), page.end(), script); it != std::sregex_iterator(); ++it) {
    ++scripts;
    EXPECT_TRUE(std::regex_search((*it)[1].str(), std::regex("src=\"/console/[a-z]+\\.js\""))) << (*it)[0];
  }
  EXPECT_EQ(scripts, 1u);
  EXPECT_FALSE(std::regex_search(page, std::regex("\\son[a-z]+=", std::regex::icase)));
  // The script writes no markup from strings: data reaches the page as text only.
  const std::string script_text = ConsoleSourceFile("app.js");
  for (const char* sink : {"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("}) {
    EXPECT_EQ(script_text.find(sink), std::string::npos) << sink;
  }
}

TEST(ServeConsoleFilesTest, UnknownFilesAre404AndOnlyGetAndHeadAreAllowed) {
  ServedDatabase served(testing::Backend::kMemory);
  HttpClient client(served.base());
  Reply missing = client.Call("GET", "/console/nothing.js");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.header("content-type"), "application/problem+json");
  EXPECT_NE(missing.json().value("detail", "").find("'nothing.js'"), std::string::npos) << missing.body;
  EXPECT_EQ(client.Call("GET", "/console/a/b").status, 404);
  Reply post = client.Call("POST", "/", "{}");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.header("allow"), "GET, HEAD");
}

TEST(ServeConsoleFilesTest, ThePageNeedsNoCredentialsButTheApiItCallsDoes) {
  serve::ServeOptions options;
  options.auth = serve::AuthConfig::FromJson(
      Json{{"apiKeys",
            {{{"name", "console"}, {"sha256", serve::Sha256Hex("console-key-0123456789")}, {"scopes", {"read"}}}}}},
      "");
  ServedDatabase served(testing::Backend::kMemory, options);
  HttpClient client(served.base());
  EXPECT_EQ(client.Call("GET", "/").status, 200);
  EXPECT_EQ(client.Call("GET", "/console/app.js").status, 200);
  EXPECT_EQ(client.Call("GET", "/v1/resources").status, 401);
  EXPECT_EQ(client.Call("GET", "/v1/resources", "", {"Authorization: Bearer console-key-0123456789"}).status, 200);
}

}  // namespace
}  // namespace s3db::serve_testing

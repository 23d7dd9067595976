// The HTTP API end to end: every route and status code, problem documents, ETag semantics,
// limits, cursors, bulk, export, and 1,000 concurrent If-Match PATCHes of one counter.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <latch>
#include <mutex>
#include <set>
#include <thread>

#include "serve_fixture.h"
#include "support/test_scale.h"

namespace s3db::serve_testing {
namespace {

// Runs the OpenAPI 3.1 validator (openapi-spec-validator, Python, installed on the project's
// machines) on `document`; its verdict and output. `available` false when it is not installed.
struct OpenApiVerdictForServe {
  bool available = true;
  bool valid = false;
  std::string output;
};

OpenApiVerdictForServe ValidateOpenApi(const Json& document) {
  OpenApiVerdictForServe verdict;
  testing::TempDir dir;
  const std::filesystem::path file = dir.path() / "openapi.json";
  WriteFile(file, document.dump(2));
  const std::string command = "python3 -m openapi_spec_validator '" + file.string() + "' 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return {false, false, "popen failed"};
  char buffer[4096];
  for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) verdict.output.append(buffer, n);
  const int status = ::pclose(pipe);
  verdict.valid = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  verdict.available =
      verdict.output.find("No module named") == std::string::npos && !(WIFEXITED(status) && WEXITSTATUS(status) == 127);
  return verdict;
}

// Sends `bytes` on a fresh connection and returns what comes back before the server closes it
// (or `wait` passes).
std::string RawExchange(uint16_t port, const std::string& bytes, std::chrono::milliseconds wait,
                        bool* closed_by_server = nullptr) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return "";
  }
  if (!bytes.empty()) (void)!::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  std::string received;
  const auto deadline = std::chrono::steady_clock::now() + wait;
  if (closed_by_server) *closed_by_server = false;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    const int left = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count());
    if (::poll(&p, 1, std::max(left, 1)) <= 0) break;
    char buffer[4096];
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) {
      if (closed_by_server) *closed_by_server = true;
      break;
    }
    received.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return received;
}

const char* kUsersDefinition = R"({"name":"users","attributes":{"name":"string|min:2","email":"email",
  "age":"number|optional","region":"string|optional"},
  "partitions":{"byRegion":{"fields":{"region":"string"}}}})";

class ServeApiTest : public ::testing::TestWithParam<testing::Backend> {
 protected:
  void SetUp() override {
    served_ = std::make_unique<ServedDatabase>(GetParam());
    client_ = std::make_unique<HttpClient>(served_->base());
  }
  void CreateUsers() {
    Reply created = client_->Call("POST", "/v1/resources", kUsersDefinition);
    ASSERT_EQ(created.status, 201) << created.body;
  }
  Reply Insert(const Json& record) { return client_->Call("POST", "/v1/users", record.dump()); }

  std::unique_ptr<ServedDatabase> served_;
  std::unique_ptr<HttpClient> client_;
};

TEST_P(ServeApiTest, ResourcesAreCreatedListedVersionedAndDropped) {
  CreateUsers();
  Reply again = client_->Call("POST", "/v1/resources", kUsersDefinition);
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(again.header("content-type"), "application/problem+json");
  EXPECT_EQ(again.json()["code"], "already_exists");
  EXPECT_EQ(again.json()["exitCode"], 5);

  Reply list = client_->Call("GET", "/v1/resources");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.json()["resources"], Json::parse(R"([{"name":"users","version":1}])"));

  Reply shown = client_->Call("GET", "/v1/resources/users");
  ASSERT_EQ(shown.status, 200);
  EXPECT_EQ(shown.json()["version"], 1);
  EXPECT_EQ(shown.json()["attributes"]["email"], "email");

  Reply same = client_->Call("PUT", "/v1/resources/users", kUsersDefinition);
  EXPECT_EQ(same.status, 200) << same.body;
  EXPECT_EQ(same.json()["version"], 1);
  Reply changed = client_->Call("PUT", "/v1/resources/users", R"({"attributes":{"name":"string"}})");
  EXPECT_EQ(changed.status, 200) << changed.body;
  EXPECT_EQ(changed.json()["version"], 2);
  Reply fresh = client_->Call("PUT", "/v1/resources/orders", R"({"attributes":{"total":"number"}})");
  EXPECT_EQ(fresh.status, 201) << fresh.body;
  EXPECT_EQ(fresh.header("location"), "/v1/resources/orders");
  Reply wrong_name = client_->Call("PUT", "/v1/resources/orders", R"({"name":"other","attributes":{}})");
  EXPECT_EQ(wrong_name.status, 400);
  Reply bad_schema = client_->Call("POST", "/v1/resources", R"({"name":"bad","attributes":{"x":"nosuchtype"}})");
  EXPECT_EQ(bad_schema.status, 422) << bad_schema.body;
  EXPECT_EQ(bad_schema.json()["code"], "invalid_schema");

  EXPECT_EQ(client_->Call("DELETE", "/v1/resources/orders").status, 204);
  Reply gone = client_->Call("GET", "/v1/resources/orders");
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(gone.json()["exitCode"], 3);
  EXPECT_EQ(client_->Call("DELETE", "/v1/resources/orders").status, 404);
  EXPECT_EQ(client_->Call("GET", "/v1/nosuch/abc").status, 404);
}

TEST_P(ServeApiTest, RecordsFollowHttpConditionsOnTheLibrarysConditionalWrites) {
  CreateUsers();
  Reply inserted = Insert({{"id", "ada"}, {"name", "Ada"}, {"email", "ada@example.com"}, {"age", 36}});
  ASSERT_EQ(inserted.status, 201) << inserted.body;
  const std::string etag = inserted.header("etag");
  ASSERT_FALSE(etag.empty());
  EXPECT_EQ(inserted.header("location"), "/v1/users/ada");
  EXPECT_EQ(inserted.json()["name"], "Ada");
  // The HTTP ETag is the record's S3 ETag.
  EXPECT_EQ(etag, served_->database().resource("users").Get("ada").etag);

  Reply duplicate = Insert({{"id", "ada"}, {"name", "Ada"}, {"email", "ada@example.com"}});
  EXPECT_EQ(duplicate.status, 409);
  EXPECT_EQ(duplicate.json()["code"], "already_exists");
  EXPECT_EQ(duplicate.json()["id"], "ada");

  Reply got = client_->Call("GET", "/v1/users/ada");
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.header("etag"), etag);
  EXPECT_EQ(got.json(), Json::parse(R"({"id":"ada","name":"Ada","email":"ada@example.com","age":36})"));
  EXPECT_EQ(client_->Call("GET", "/v1/users/ada", "", {"If-None-Match: " + etag}).status, 304);
  EXPECT_TRUE(client_->Call("GET", "/v1/users/ada?meta=true").json().contains("_etag"));
  EXPECT_EQ(client_->Call("HEAD", "/v1/users/ada").status, 200);
  EXPECT_EQ(client_->Call("HEAD", "/v1/users/nobody").status, 404);
  Reply missing = client_->Call("GET", "/v1/users/nobody");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.json()["code"], "not_found");

  // PATCH merges, only at the ETag given.
  Reply patched = client_->Call("PATCH", "/v1/users/ada", R"({"age":37})", {"If-Match: " + etag});
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(patched.json()["age"], 37);
  EXPECT_EQ(patched.json()["name"], "Ada");
  const std::string etag2 = patched.header("etag");
  EXPECT_NE(etag2, etag);
  Reply stale = client_->Call("PATCH", "/v1/users/ada", R"({"age":99})", {"If-Match: " + etag});
  EXPECT_EQ(stale.status, 412);
  EXPECT_EQ(stale.json()["code"], "precondition_failed");
  EXPECT_EQ(stale.json()["exitCode"], 5);
  EXPECT_EQ(client_->Call("PATCH", "/v1/users/nobody", R"({"age":1})", {"If-Match: " + etag}).status, 412);
  EXPECT_EQ(client_->Call("PATCH", "/v1/users/nobody", R"({"age":1})").status, 404);
  EXPECT_EQ(client_->Call("PATCH", "/v1/users/ada", R"({"id":"other"})").status, 400);

  // PUT replaces the whole record; If-None-Match: * creates only.
  EXPECT_EQ(
      client_->Call("PUT", "/v1/users/ada", R"({"name":"Ada L","email":"a@example.com"})", {"If-None-Match: *"}).status,
      412);
  Reply replaced =
      client_->Call("PUT", "/v1/users/ada", R"({"name":"Ada L","email":"a@example.com"})", {"If-Match: " + etag2});
  ASSERT_EQ(replaced.status, 200) << replaced.body;
  EXPECT_EQ(replaced.json(), Json::parse(R"({"id":"ada","name":"Ada L","email":"a@example.com"})"));
  EXPECT_EQ(
      client_->Call("PUT", "/v1/users/ada", R"({"name":"Old","email":"o@example.com"})", {"If-Match: " + etag2}).status,
      412);
  Reply created =
      client_->Call("PUT", "/v1/users/bob", R"({"name":"Bob","email":"bob@example.com"})", {"If-None-Match: *"});
  EXPECT_EQ(created.status, 201) << created.body;
  Reply upserted = client_->Call("PUT", "/v1/users/bob", R"({"name":"Bobby","email":"bob@example.com"})");
  EXPECT_EQ(upserted.status, 200);
  EXPECT_EQ(client_->Call("PUT", "/v1/users/cy", R"({"name":"Cy","email":"cy@example.com"})").status, 201);

  // DELETE with a stale ETag changes nothing.
  Reply stale_delete = client_->Call("DELETE", "/v1/users/ada", "", {"If-Match: " + etag});
  EXPECT_EQ(stale_delete.status, 412);
  EXPECT_EQ(client_->Call("GET", "/v1/users/ada").status, 200);
  EXPECT_EQ(client_->Call("DELETE", "/v1/users/ada", "", {"If-Match: " + replaced.header("etag")}).status, 204);
  EXPECT_EQ(client_->Call("DELETE", "/v1/users/ada").status, 404);
  EXPECT_EQ(client_->Call("DELETE", "/v1/users/bob").status, 204);
}

TEST_P(ServeApiTest, ValidationProblemsListEveryField) {
  CreateUsers();
  Reply invalid = Insert({{"name", "A"}, {"email", "not-an-email"}, {"age", "old"}});
  ASSERT_EQ(invalid.status, 422) << invalid.body;
  const Json problem = invalid.json();
  EXPECT_EQ(problem["code"], "validation");
  EXPECT_EQ(problem["exitCode"], 4);
  EXPECT_EQ(problem["status"], 422);
  std::set<std::string> paths;
  for (const Json& field : problem["errors"]) paths.insert(field["path"].get<std::string>());
  EXPECT_EQ(paths, (std::set<std::string>{"name", "email", "age"}));
}

TEST_P(ServeApiTest, MalformedAndOversizedRequestsAreRefusedAndTheServerStaysUp) {
  CreateUsers();
  EXPECT_EQ(client_->Call("POST", "/v1/users", "{not json").status, 400);
  EXPECT_EQ(client_->Call("POST", "/v1/users", "[1,2]").status, 400);
  EXPECT_EQ(client_->Call("POST", "/v1/users", std::string(150, '[') + std::string(150, ']')).status, 400);
  EXPECT_EQ(client_->Call("POST", "/v1/users", std::string(17 * 1024 * 1024, ' ')).status, 413);
  Reply huge_header = client_->Call("GET", "/v1/users", "", {"X-Filler: " + std::string(20000, 'x')});
  EXPECT_EQ(huge_header.status, 431);
  EXPECT_EQ(client_->Call("GET", "/v1/users/%zz").status, 400);
  EXPECT_EQ(client_->Call("GET", "/nowhere").status, 404);
  Reply not_allowed = client_->Call("DELETE", "/v1/users");
  EXPECT_EQ(not_allowed.status, 405);
  EXPECT_EQ(not_allowed.header("allow"), "GET, HEAD, POST");
  EXPECT_EQ(client_->Call("GET", "/v1/users?limit=0").status, 400);
  EXPECT_EQ(client_->Call("GET", "/v1/users?limit=abc").status, 400);
  EXPECT_EQ(client_->Call("GET", "/v1/users?cursor=!!!").status, 400);
  EXPECT_EQ(client_->Call("POST", "/v1/users/query", R"({"filter":[1]})").status, 400);
  EXPECT_EQ(client_->Call("POST", "/v1/users/query", R"({"limit":"ten"})").status, 400);
  EXPECT_EQ(client_->Call("GET", "/v1/users?partition=nosuch").status, 400);
  EXPECT_EQ(client_->Call("GET", "/v1/users/_export?format=xml").status, 400);

  // Not HTTP at all: a 400, then the connection is closed.
  const std::string garbage = RawExchange(served_->port(), "HELLO\r\n\r\n", std::chrono::seconds(5));
  EXPECT_EQ(garbage.rfind("HTTP/1.1 400", 0), 0u) << garbage;
  // A header section that never ends is cut off by the size limit.
  const std::string endless =
      RawExchange(served_->port(), "GET / HTTP/1.1\r\nX: " + std::string(40000, 'a'), std::chrono::seconds(5));
  EXPECT_EQ(endless.rfind("HTTP/1.1 431", 0), 0u);
  // A 100-continue client gets its go-ahead.
  Reply continued =
      client_->Call("POST", "/v1/users", R"({"name":"Zed","email":"z@example.com"})", {"Expect: 100-continue"});
  EXPECT_EQ(continued.status, 201);
  EXPECT_EQ(client_->Call("GET", "/healthz").status, 200);
}

TEST_P(ServeApiTest, ListingPagesWithAnOpaqueCursorAndCountsQueries) {
  CreateUsers();
  std::set<std::string> expected;
  for (int i = 0; i < 25; ++i) {
    const std::string id = "u" + std::to_string(100 + i);
    expected.insert(id);
    ASSERT_EQ(Insert({{"id", id},
                      {"name", "User " + std::to_string(i)},
                      {"email", id + "@example.com"},
                      {"region", i % 5 == 0 ? "eu" : "us"}})
                  .status,
              201);
  }
  std::vector<std::string> seen;
  std::string cursor;
  int pages = 0;
  do {
    Reply page = client_->Call("GET", "/v1/users?limit=10" + (cursor.empty() ? "" : "&cursor=" + cursor));
    ASSERT_EQ(page.status, 200) << page.body;
    const Json listed = page.json();  // kept: a range-for over page.json()["items"] would dangle
    for (const Json& item : listed["items"]) seen.push_back(item["id"].get<std::string>());
    cursor = listed["next"].is_string() ? listed["next"].get<std::string>() : "";
    ++pages;
  } while (!cursor.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()), expected);
  EXPECT_EQ(seen.size(), expected.size());
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));

  // Through a partition: pages by offset, behind the same opaque cursor.
  const std::string values = "%7B%22region%22%3A%22eu%22%7D";  // {"region":"eu"}
  Reply first = client_->Call("GET", "/v1/users?limit=3&partition=byRegion&values=" + values);
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.json()["items"].size(), 3u);
  Reply second = client_->Call("GET", "/v1/users?limit=3&partition=byRegion&values=" + values +
                                          "&cursor=" + first.json()["next"].get<std::string>());
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(second.json()["items"].size(), 2u);
  // A cursor of one listing is refused by another.
  EXPECT_EQ(client_->Call("GET", "/v1/users?cursor=" + first.json()["next"].get<std::string>()).status, 400);

  Reply count = client_->Call("GET", "/v1/users/count");
  EXPECT_EQ(count.json()["count"], 25);
  EXPECT_EQ(client_->Call("GET", "/v1/users/count?partition=byRegion&values=" + values).json()["count"], 5);
  Reply query = client_->Call("POST", "/v1/users/query", R"({"filter":{"region":"eu"},"limit":2})");
  ASSERT_EQ(query.status, 200) << query.body;
  EXPECT_EQ(query.json()["items"].size(), 2u);
  EXPECT_EQ(client_->Call("POST", "/v1/users/query", R"({"filter":{"name":"User 7"}})").json()["items"][0]["id"],
            "u107");
}

TEST_P(ServeApiTest, BulkAnswersEveryLineAndExportStreamsEveryRecord) {
  CreateUsers();
  const std::string lines =
      "{\"id\":\"b1\",\"name\":\"B one\",\"email\":\"b1@example.com\"}\n"
      "not json\n"
      "\n"
      "{\"id\":\"b2\",\"name\":\"B\",\"email\":\"b2@example.com\"}\n"
      "{\"id\":\"b3\",\"name\":\"B three\",\"email\":\"b3@example.com\"}\r\n"
      "{\"id\":\"b1\",\"name\":\"B again\",\"email\":\"b1@example.com\"}\n";
  Reply bulk = client_->Call("POST", "/v1/users/_bulk", lines);
  ASSERT_EQ(bulk.status, 200) << bulk.body;
  EXPECT_EQ(bulk.header("content-type"), "application/x-ndjson");
  std::vector<Json> results;
  std::istringstream in(bulk.body);
  for (std::string line; std::getline(in, line);) results.push_back(Json::parse(line));
  ASSERT_EQ(results.size(), 5u);
  EXPECT_EQ(results[0]["line"], 1);
  EXPECT_EQ(results[1]["line"], 2);
  EXPECT_EQ(results[1]["status"], 400);
  EXPECT_EQ(results[2]["line"], 4);
  EXPECT_EQ(results[2]["status"], 422);  // name too short
  EXPECT_EQ(results[3]["line"], 5);
  EXPECT_EQ(results[3]["status"], 201);
  EXPECT_FALSE(results[3]["etag"].get<std::string>().empty());
  // Lines 1 and 6 race for b1: exactly one wins.
  EXPECT_EQ((results[0]["status"] == 201) + (results[4]["status"] == 201), 1) << bulk.body;
  EXPECT_EQ((results[0]["status"] == 409) + (results[4]["status"] == 409), 1) << bulk.body;

  Reply upserts = client_->Call("POST", "/v1/users/_bulk?mode=upsert",
                                "{\"id\":\"b3\",\"name\":\"B three!\",\"email\":\"b3@example.com\"}\n"
                                "{\"name\":\"no id\",\"email\":\"x@example.com\"}\n");
  ASSERT_EQ(upserts.status, 200);
  EXPECT_NE(upserts.body.find("\"status\":200"), std::string::npos);
  EXPECT_NE(upserts.body.find("\"status\":400"), std::string::npos);

  for (int i = 0; i < 40; ++i) {
    ASSERT_EQ(Insert({{"id", "e" + std::to_string(i)}, {"name", "Exported"}, {"email", "e@example.com"}}).status, 201);
  }
  Reply exported = client_->Call("GET", "/v1/users/_export");
  ASSERT_EQ(exported.status, 200);
  EXPECT_EQ(exported.header("transfer-encoding"), "chunked");
  std::set<std::string> ids;
  std::istringstream records(exported.body);
  for (std::string line; std::getline(records, line);) ids.insert(Json::parse(line)["id"].get<std::string>());
  EXPECT_EQ(ids.size(), 42u);
  EXPECT_TRUE(ids.count("b3") == 1 && ids.count("e39") == 1);

  Reply csv = client_->Call("GET", "/v1/users/_export?format=csv");
  ASSERT_EQ(csv.status, 200);
  EXPECT_EQ(csv.header("content-type"), "text/csv; charset=utf-8");
  EXPECT_EQ(csv.body.substr(0, csv.body.find('\n')).find("id"), 0u) << csv.body.substr(0, 200);
  EXPECT_EQ(std::count(csv.body.begin(), csv.body.end(), '\n'), 43);
}

TEST_P(ServeApiTest, HealthMetricsAndOpenApiDescribeTheServer) {
  CreateUsers();
  ASSERT_EQ(Insert({{"name", "Ada"}, {"email", "ada@example.com"}}).status, 201);
  Reply health = client_->Call("GET", "/healthz");
  EXPECT_EQ(health.json()["status"], "ok");
  Reply metrics = client_->Call("GET", "/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_EQ(metrics.header("content-type").rfind("text/plain; version=0.0.4", 0), 0u);
  EXPECT_NE(metrics.body.find("s3db_http_requests_total{route=\"/v1/{resource}\",method=\"POST\",code=\"201\"} 1"),
            std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find("s3db_http_request_duration_seconds_bucket{route=\"/v1/{resource}\",le=\"+Inf\"}"),
            std::string::npos);
  EXPECT_NE(metrics.body.find("s3db_s3_requests_total{kind=\"put\"}"), std::string::npos);
  EXPECT_NE(metrics.body.find("s3db_s3_cost_usd_total"), std::string::npos);

  Reply openapi = client_->Call("GET", "/openapi.json");
  ASSERT_EQ(openapi.status, 200);
  const Json document = openapi.json();
  EXPECT_EQ(document["openapi"], "3.1.0");
  EXPECT_TRUE(document["paths"].contains("/v1/users/{id}"));
  EXPECT_EQ(document["components"]["schemas"]["Record_users"]["properties"]["email"],
            Json::parse(R"({"type":"string","format":"email"})"));
  EXPECT_EQ(document["components"]["schemas"]["Record_users"]["properties"]["age"],
            Json::parse(R"({"type":"number"})"));

  // Valid per a real validator; and the validator is shown to refuse a broken copy, so a pass
  // means something. Once (on memory): the document does not depend on the store, and the
  // validator takes seconds to start.
  if (GetParam() != testing::Backend::kMemory) return;
  const OpenApiVerdictForServe verdict = ValidateOpenApi(document);
  if (!verdict.available) GTEST_SKIP() << "openapi-spec-validator is not installed: " << verdict.output;
  EXPECT_TRUE(verdict.valid) << verdict.output;
  Json broken = document;
  broken["info"].erase("version");
  broken["paths"]["/v1/users/{id}"]["get"]["responses"]["200"].erase("description");
  EXPECT_FALSE(ValidateOpenApi(broken).valid);
}

TEST_P(ServeApiTest, ConcurrentIfMatchPatchesOfOneCounterLoseNothing) {
  ASSERT_EQ(client_->Call("POST", "/v1/resources", R"({"name":"counters","attributes":{"n":"number"}})").status, 201);
  Reply created = client_->Call("POST", "/v1/counters", R"({"id":"c","n":0})");
  ASSERT_EQ(created.status, 201);
  const int attempts = testing::ScaledForSanitizers(1000, 100);
  const int threads = 32;
  std::atomic<int> next{0};
  std::atomic<int> successes{0};
  std::atomic<int> other{0};
  std::mutex mutex;
  std::map<std::string, int> wins_per_etag;
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      HttpClient client(served_->base());
      while (next++ < attempts) {
        Reply current = client.Call("GET", "/v1/counters/c");
        if (current.status != 200) {
          ++other;
          continue;
        }
        const std::string etag = current.header("etag");
        const int n = current.json()["n"].get<int>();
        Reply patched = client.Call("PATCH", "/v1/counters/c", Json{{"n", n + 1}}.dump(), {"If-Match: " + etag});
        if (patched.status / 100 == 2) {
          ++successes;
          std::lock_guard<std::mutex> lock(mutex);
          ++wins_per_etag[etag];
        } else if (patched.status != 412) {
          ++other;
        }
      }
    });
  }
  for (auto& thread : pool) thread.join();
  EXPECT_EQ(other.load(), 0);
  EXPECT_GT(successes.load(), 0);
  for (const auto& [etag, wins] : wins_per_etag) EXPECT_EQ(wins, 1) << etag;
  Reply final_value = client_->Call("GET", "/v1/counters/c");
  EXPECT_EQ(final_value.json()["n"].get<int>(), successes.load());
}

// PATCH and DELETE, both with If-Match at the ETag each round starts from, on two
// connections at once: one gets 2xx and the other 412 (the delete's loser: the record
// changed; the PATCH's: it is gone). Strict where the store deletes at an ETag in one
// request; on Ceph RGW 16, which ignores If-Match on DELETE, the delete falls back to
// read-then-delete and both may win (docs/SERVE.md), which the test allows there only.
TEST_P(ServeApiTest, PatchAndDeleteAtOneEtagHaveOneWinner) {
  ASSERT_EQ(client_->Call("POST", "/v1/resources", R"({"name":"notes","attributes":{"text":"string"}})").status, 201);
  const int rounds = GetParam() == testing::Backend::kS3 ? 20 : testing::ScaledForSanitizers(100, 20);
  HttpClient patcher(served_->base()), deleter(served_->base());
  int both_won = 0;
  for (int round = 0; round < rounds; ++round) {
    const std::string path = "/v1/notes/n" + std::to_string(round);
    Reply created = client_->Call("POST", "/v1/notes", Json{{"id", "n" + std::to_string(round)}, {"text", "a"}}.dump());
    ASSERT_EQ(created.status, 201) << created.body;
    const std::string etag = created.header("etag");
    std::latch start(2);
    Reply patched, deleted;
    std::thread patching([&] {
      start.arrive_and_wait();
      patched = patcher.Call("PATCH", path, R"({"text":"b"})", {"If-Match: " + etag});
    });
    std::thread deleting([&] {
      start.arrive_and_wait();
      deleted = deleter.Call("DELETE", path, "", {"If-Match: " + etag});
    });
    patching.join();
    deleting.join();
    SCOPED_TRACE("round " + std::to_string(round) + ": PATCH " + std::to_string(patched.status) + " " + patched.body +
                 "; DELETE " + std::to_string(deleted.status) + " " + deleted.body);
    const bool patch_won = patched.status == 200, delete_won = deleted.status == 204;
    ASSERT_TRUE(patch_won || delete_won);
    if (patch_won && delete_won) {
      both_won++;
      continue;
    }
    const Reply& loser = patch_won ? deleted : patched;
    EXPECT_EQ(loser.status, 412);
    EXPECT_EQ(loser.header("content-type"), "application/problem+json");
    EXPECT_EQ(client_->Call("GET", path).status, patch_won ? 200 : 404);
  }
  if (served_->database().store().capabilities().conditional_deletes) {
    EXPECT_EQ(both_won, 0);
  } else {
    EXPECT_EQ(GetParam(), testing::Backend::kS3) << "a local store without conditional deletes";
  }
}

// A worker writes a small answer itself and reads the connection's next request; an answer
// the socket does not take at once (here ~10 MB, over the 4 MiB a socket may buffer, to a
// client with a 4 KiB receive buffer that waits before reading) goes on from the I/O thread.
// Either way the answer arrives whole and the connection stays usable for the next request.
TEST_P(ServeApiTest, AnswersLargerThanTheSocketTakesAtOnceArriveWholeOnAKeptAliveConnection) {
  CreateUsers();
  Resource& users = served_->database().resource("users");
  constexpr size_t kRecords = 100;
  constexpr size_t kNameBytes = 100000;
  for (size_t i = 0; i < kRecords; ++i) {
    users.Insert(Json{{"id", "big" + std::to_string(1000 + i)},
                      {"name", std::string(kNameBytes, static_cast<char>('a' + i % 26))},
                      {"email", "big" + std::to_string(i) + "@example.com"}});
  }
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  const int small_buffer = 4096;
  ASSERT_EQ(::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small_buffer, sizeof small_buffer), 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(served_->port());
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  std::string pending;  // bytes received and not yet consumed
  // Sends one request and reads its answer (Content-Length framed): {head, body}.
  auto exchange = [&](const std::string& target, std::chrono::milliseconds pause) {
    const std::string request = "GET " + target + " HTTP/1.1\r\nHost: test\r\n\r\n";
    EXPECT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL), static_cast<ssize_t>(request.size()));
    std::this_thread::sleep_for(pause);  // the server meets a full socket
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    size_t head_end = std::string::npos;
    size_t length = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      if (head_end == std::string::npos && (head_end = pending.find("\r\n\r\n")) != std::string::npos) {
        const size_t field = pending.find("Content-Length: ");
        EXPECT_LT(field, head_end) << pending.substr(0, head_end);
        if (field < head_end) length = std::stoul(pending.substr(field + 16));
      }
      if (head_end != std::string::npos && pending.size() >= head_end + 4 + length) break;
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 1000) <= 0) continue;
      char buffer[65536];
      const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      pending.append(buffer, static_cast<size_t>(n));
    }
    if (head_end == std::string::npos || pending.size() < head_end + 4 + length) {
      ADD_FAILURE() << target << ": the answer did not arrive whole (" << pending.size() << " bytes)";
      return std::pair<std::string, std::string>();
    }
    std::pair<std::string, std::string> answer{pending.substr(0, head_end), pending.substr(head_end + 4, length)};
    pending.erase(0, head_end + 4 + length);
    return answer;
  };
  const auto [big_head, big_body] =
      exchange("/v1/users?limit=" + std::to_string(kRecords), std::chrono::milliseconds(300));
  EXPECT_EQ(big_head.rfind("HTTP/1.1 200", 0), 0u) << big_head;
  EXPECT_GT(big_body.size(), kRecords * kNameBytes);
  const Json listed = Json::parse(big_body, nullptr, false);
  ASSERT_TRUE(listed.is_object()) << big_body.substr(0, 200);
  ASSERT_EQ(listed["items"].size(), kRecords);
  std::set<std::string> seen;
  for (const Json& item : listed["items"]) {
    const std::string id = item["id"];
    seen.insert(id);
    const size_t i = std::stoul(id.substr(3)) - 1000;
    EXPECT_EQ(item["name"], std::string(kNameBytes, static_cast<char>('a' + i % 26))) << id;
  }
  EXPECT_EQ(seen.size(), kRecords);
  // Small answers on the same connection: written by the worker.
  for (int i = 0; i < 3; ++i) {
    const auto [head, body] = exchange("/v1/users/big1007", std::chrono::milliseconds(0));
    EXPECT_EQ(head.rfind("HTTP/1.1 200", 0), 0u) << head;
    EXPECT_EQ(Json::parse(body, nullptr, false)["name"], std::string(kNameBytes, 'h'));
  }
  ::close(fd);
}

INSTANTIATE_TEST_SUITE_P(Backends, ServeApiTest, ::testing::ValuesIn(ServeBackends()),
                         [](const auto& info) { return testing::BackendName(info.param); });

}  // namespace
}  // namespace s3db::serve_testing

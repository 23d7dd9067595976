// The s3db.js README's code examples, ported to our API: Quick Start, How it Works,
// Installation & Setup, Configuration (connection strings, advanced options) and Core
// Concepts "1. Database". Each test names the seed section it ports (docs/SEEDS.md maps every
// section) and asserts what the seed says the example prints or does, on every backend.
//
// The seeds' connection strings name AWS buckets or a MinIO on localhost that a test cannot
// reach, so those examples are ported as what our connection-string parser makes of them; the
// database they describe is then opened on the backend under test. Their placeholder
// BUCKET_NAME is not a valid bucket name (S3's are lower case, and the parser checks), so the
// tests write my-bucket in its place; ConnectionStringFormat shows the refusal.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>

#include "s3db/database.h"
#include "s3db/stores.h"
#include "seeds/seeds_core_fixture.h"
#include "support/definitions.h"

namespace s3db {
namespace {

using seeds::SeedsTest;
using testing::Def;

StoreUri Parsed(const std::string& uri) {
  Result<StoreUri> parsed = ParseStoreUri(uri);
  if (!parsed.ok()) throw std::runtime_error(parsed.status().ToString());
  return *parsed;
}

using SeedsCoreTest = SeedsTest;

// Seed "Quick Start": connect, create users, insert John Doe, get him back by his id.
TEST_P(SeedsCoreTest, QuickStart) {
  // uri: "s3://ACCESS_KEY:SECRET_KEY@my-bucket/databases/myapp"
  const StoreUri uri = Parsed("s3://ACCESS_KEY:SECRET_KEY@my-bucket/databases/myapp");
  EXPECT_EQ(uri.scheme, StoreScheme::kS3);
  EXPECT_EQ(uri.bucket, "my-bucket");
  EXPECT_EQ(uri.prefix, "databases/myapp");

  auto db = stores_.Connect("databases/myapp");
  Resource& users = db->CreateResource(Def("users", {{"name", "string|min:2|max:100"},
                                                     {"email", "email|unique"},
                                                     {"age", "number|integer|positive"},
                                                     {"isActive", "boolean"},
                                                     {"createdAt", "date"}}));
  // createdAt: new Date() is an ISO 8601 time in JSON.
  const Record user = users.Insert({{"name", "John Doe"},
                                    {"email", "john@example.com"},
                                    {"age", 30},
                                    {"isActive", true},
                                    {"createdAt", "2024-06-27T12:34:56.789Z"}});
  EXPECT_EQ(user.id.size(), 22u);  // generated (s3db.js: nanoid)

  const Record found = users.Get(user.id);
  EXPECT_EQ(found.data["name"], "John Doe");  // console.log(foundUser.name); // "John Doe"
  EXPECT_EQ(found.data["email"], "john@example.com");
  EXPECT_EQ(found.data["age"], 30);
  EXPECT_EQ(found.data["isActive"], true);
  EXPECT_EQ(found.data["createdAt"], "2024-06-27T12:34:56.789Z");
  // email|unique: a second John with the same email is refused.
  EXPECT_THROW(users.Insert({{"name", "John Two"},
                             {"email", "john@example.com"},
                             {"age", 31},
                             {"isActive", false},
                             {"createdAt", "2024-06-28"}}),
               AlreadyExists);
}

// Seed "How it Works" / "Data Storage Strategy": the document is one object, key users/user-123,
// its fields in the object's metadata.
TEST_P(SeedsCoreTest, DataStorageStrategy) {
  Resource& users = db_->CreateResource(Def("users", {{"name", "string"}, {"email", "email"}, {"age", "number"}}));
  users.Insert({{"id", "user-123"}, {"name", "John Doe"}, {"email", "john@example.com"}, {"age", 30}});

  // Our key layout (docs/FORMAT.md "Object keys") puts the record at
  // <prefix>/resource=users/data/id=user-123.
  Result<ObjectInfo> object = db_->store().Head("db/resource=users/data/id=user-123");
  ASSERT_TRUE(object.ok()) << object.status().ToString();
  // Every field is in the metadata (name, email, age and the version key _v); no field went
  // to the body (_o absent).
  EXPECT_EQ(object->metadata.size(), 4u);
  EXPECT_EQ(object->metadata.count("_o"), 0u);
  EXPECT_EQ(object->metadata.count("_v"), 1u);

  const Json stored = users.Get("user-123").ToJson();
  EXPECT_EQ(stored, Json::parse(R"({"id": "user-123", "name": "John Doe", "email": "john@example.com", "age": 30})"));
}

// Seed "Installation & Setup" / "Basic Setup": connect, and "Connected to S3 database!".
TEST_P(SeedsCoreTest, BasicSetup) {
  DatabaseOptions options;
  int connected = 0;
  Json payload;
  options.listeners.emplace("connected", [&](const Json& e) {
    ++connected;
    payload = e;
  });
  auto db = stores_.Connect("databases/myapp", options);
  EXPECT_EQ(connected, 1);
  EXPECT_EQ(payload["prefix"], "databases/myapp");
  EXPECT_TRUE(db->ResourceNames().empty());  // a new database has no resources yet
}

// Seed "Connection String Format": s3://[ACCESS_KEY:SECRET_KEY@]BUCKET_NAME[/PREFIX].
TEST_P(SeedsCoreTest, ConnectionStringFormat) {
  const StoreUri full = Parsed("s3://ACCESS_KEY:SECRET_KEY@my-bucket/PREFIX");
  EXPECT_EQ(full.access_key, "ACCESS_KEY");
  EXPECT_EQ(full.secret_key, "SECRET_KEY");
  EXPECT_EQ(full.bucket, "my-bucket");
  EXPECT_EQ(full.prefix, "PREFIX");
  EXPECT_EQ(full.ToString().find("SECRET_KEY"), std::string::npos);  // printed masked

  // The placeholder as written: S3 bucket names are lower case, so it is refused at once.
  EXPECT_FALSE(ParseStoreUri("s3://ACCESS_KEY:SECRET_KEY@BUCKET_NAME/PREFIX").ok());
  EXPECT_EQ(ParseStoreUri("s3://BUCKET_NAME").status().code(), ErrorCode::kInvalidArgument);

  const StoreUri bare = Parsed("s3://my-bucket");  // both optional parts left out
  EXPECT_EQ(bare.bucket, "my-bucket");
  EXPECT_EQ(bare.prefix, "");
  EXPECT_EQ(bare.access_key, "");
}

// Seed "1. AWS S3 with Access Keys".
TEST_P(SeedsCoreTest, AwsS3WithAccessKeys) {
  const StoreUri uri = Parsed("s3://ACCESS_KEY:SECRET_KEY@my-bucket/databases/myapp");
  EXPECT_EQ(uri.scheme, StoreScheme::kS3);
  EXPECT_EQ(uri.access_key, "ACCESS_KEY");
  EXPECT_EQ(uri.secret_key, "SECRET_KEY");
  EXPECT_EQ(uri.bucket, "my-bucket");
  EXPECT_EQ(uri.prefix, "databases/myapp");
  EXPECT_EQ(uri.endpoint, "");  // AWS itself: the region's endpoint is chosen at open
  EXPECT_EQ(MaskedUri("s3://ACCESS_KEY:SECRET_KEY@my-bucket/databases/myapp"),
            "s3://ACCESS_KEY:***@my-bucket/databases/myapp");
}

// Seed "2. AWS S3 with IAM Roles (EC2/EKS)": no credentials in the URI; they come from the
// credential chain when the store opens (docs/CREDENTIALS.md).
TEST_P(SeedsCoreTest, AwsS3WithIamRoles) {
  const StoreUri uri = Parsed("s3://my-bucket/databases/myapp");
  EXPECT_EQ(uri.bucket, "my-bucket");
  EXPECT_EQ(uri.prefix, "databases/myapp");
  EXPECT_EQ(uri.access_key, "");
  EXPECT_EQ(uri.secret_key, "");
}

// Seed "3. MinIO or S3-Compatible Services": the seeds' separate `endpoint` option is a URI
// option here, or the http(s):// form (always path style).
TEST_P(SeedsCoreTest, MinioOrS3CompatibleServices) {
  const StoreUri with_option =
      Parsed("s3://ACCESS_KEY:SECRET_KEY@my-bucket/databases/myapp?endpoint=http://localhost:9000");
  EXPECT_EQ(with_option.endpoint, "http://localhost:9000");
  EXPECT_EQ(with_option.bucket, "my-bucket");
  EXPECT_EQ(with_option.prefix, "databases/myapp");
  EXPECT_EQ(with_option.access_key, "ACCESS_KEY");

  const StoreUri http = Parsed("http://ACCESS_KEY:SECRET_KEY@localhost:9000/my-bucket/databases/myapp");
  EXPECT_EQ(http.scheme, StoreScheme::kHttp);
  EXPECT_EQ(http.endpoint, "http://localhost:9000");
  EXPECT_TRUE(http.force_path_style);
  EXPECT_EQ(http.bucket, "my-bucket");
  EXPECT_EQ(http.prefix, "databases/myapp");
  EXPECT_EQ(http.secret_key, "SECRET_KEY");
}

// Seed "Advanced Configuration": parallelism 25, a passphrase read from a file, cache with a
// one-hour TTL, the costs plugin.
TEST_P(SeedsCoreTest, AdvancedConfiguration) {
  const std::filesystem::path cert = stores_.dir() / "cert.pem";
  std::ofstream(cert) << "-----BEGIN KEY-----\nseed-example-key\n-----END KEY-----\n";

  auto costs = std::make_shared<CostsPlugin>();
  DatabaseOptions options;
  options.concurrency = 25;                                         // parallelism: 25
  options.passphrase = ReadPassphraseFile(cert.string());           // passphrase: fs.readFileSync("./cert.pem")
  options.kdf_iterations = 1000;                                    // (kept low so the test stays fast)
  options.cache = CacheOptions{.ttl = std::chrono::seconds(3600)};  // cache: true, ttl: 3600
  options.plugins = {costs};                                        // plugins: [CostsPlugin]
  auto db = stores_.Connect("databases/myapp", options);
  EXPECT_EQ(db->executor_stats().concurrency, 25);

  Resource& accounts = db->CreateResource(Def("accounts", {{"user", "string"}, {"apiKey", "secret"}}));
  accounts.Insert({{"id", "a1"}, {"user", "ada"}, {"apiKey", "sk-123"}});
  costs->Reset();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(accounts.Get("a1").data["apiKey"], "sk-123");  // opened with the file's key
  EXPECT_EQ(costs->Totals().count(RequestKind::kGet), 1u);  // one GET, then the cache answered

  // Another connection given the same file reads the secret (the same key); the costs plugin
  // counts only the requests of the database it was given to.
  DatabaseOptions again;
  again.passphrase = ReadPassphraseFile(cert.string());
  auto other = stores_.Connect("databases/myapp", again);
  EXPECT_EQ(other->resource("accounts").Get("a1").data["apiKey"], "sk-123");
  EXPECT_EQ(costs->Totals().count(RequestKind::kGet), 1u);
}

// Seed "Core Concepts" / "1. Database": the URI's prefix is where the database lives
// (s3://bucket/databases/myapp/).
TEST_P(SeedsCoreTest, CoreConceptsDatabase) {
  const StoreUri uri = Parsed("s3://ACCESS_KEY:SECRET_KEY@my-bucket/databases/myapp");
  EXPECT_EQ(uri.prefix, "databases/myapp");

  auto db = stores_.Connect(uri.prefix);
  db->CreateResource(Def("users", {{"name", "string"}}));
  // The catalog and every object of the database sit under the prefix.
  EXPECT_TRUE(db->store().Head("databases/myapp/s3db.json").ok());
  EXPECT_TRUE(stores_.Connect("databases/myapp")->ResourceExists("users"));
  EXPECT_FALSE(stores_.Connect("databases/other")->ResourceExists("users"));
}

S3DB_SEEDS_ON_EVERY_BACKEND(SeedsCoreTest);

}  // namespace
}  // namespace s3db

// Seed 000 (the s3db.js README), "Security & Encryption" (field-level encryption, a custom
// encryption key) and "AutoEncrypt / AutoDecrypt", on every backend of the run. Each checks
// the bucket itself: the secret values are nowhere in it, in metadata or body.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "s3db/database.h"
#include "seeds/seeds_examples_support.h"

namespace s3db::seeds {
namespace {

class SeedsSecurityTest : public SeedsExampleTest {};

// Seed 000, "Field-Level Encryption": password, apiKey and creditCard are "secret"; stored
// encrypted, read back decrypted.
TEST_P(SeedsSecurityTest, FieldLevelEncryption) {
  auto db = Connect({.uri = "", .passphrase = "field level"});
  Resource& users = db->CreateResource(Def("users", {{"username", "string"},
                                                     {"email", "email"},
                                                     {"password", "secret"},
                                                     {"apiKey", "secret"},
                                                     {"creditCard", "secret"}}));
  Record user = users.Insert({{"username", "john_doe"},
                              {"email", "john@example.com"},
                              {"password", "my_secure_password"},
                              {"apiKey", "sk_live_123456789"},
                              {"creditCard", "4111111111111111"}});
  Record retrieved = users.Get(user.id);
  EXPECT_EQ(retrieved.data["password"], "my_secure_password");
  EXPECT_EQ(retrieved.data["apiKey"], "sk_live_123456789");
  EXPECT_EQ(retrieved.data["creditCard"], "4111111111111111");
  EXPECT_EQ(retrieved.data["username"], "john_doe");
  auto raw = RawStore();
  EXPECT_TRUE(StoredAnywhere(*raw, "db/", "john_doe")) << "the scan below can see plain fields";
  for (const char* secret : {"my_secure_password", "sk_live_123456789", "4111111111111111"}) {
    EXPECT_FALSE(StoredAnywhere(*raw, "db/", secret)) << secret << " is stored in clear";
  }
}

// Seed 000, "Custom Encryption Key": `passphrase: fs.readFileSync("./private-key.pem")`. The
// file's bytes are the passphrase (ReadPassphraseFile); another connection given the same file
// reads the secrets, one given another passphrase is refused at connect.
TEST_P(SeedsSecurityTest, CustomEncryptionKey) {
  const std::string pem = (stores_.dir() / "private-key.pem").string();
  {
    std::ofstream out(pem);
    out << "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n";
  }
  {
    auto db = Connect({.uri = "", .passphrase = ReadPassphraseFile(pem)});
    db->CreateResource(Def("users", {{"username", "string"}, {"password", "secret"}}))
        .Insert({{"id", "john"}, {"username", "john_doe"}, {"password", "my_secure_password"}});
  }
  auto again = Connect({.uri = "", .passphrase = ReadPassphraseFile(pem)});
  EXPECT_EQ(again->resource("users").Get("john").data["password"], "my_secure_password");
  EXPECT_THROW(Connect({.uri = "", .passphrase = "another key"}), AccessDenied);
  EXPECT_THROW(ReadPassphraseFile((stores_.dir() / "missing.pem").string()), InvalidArgument);
}

// Seed 000, "Custom Encryption Key", from the shell: the CLI's --passphrase-file reads the
// same file the same way, so it opens what the program wrote (and a wrong file is refused).
TEST_P(SeedsSecurityTest, CustomEncryptionKeyFromTheShell) {
  const std::string uri = SharedUri();
  if (uri.empty()) GTEST_SKIP() << "a memory:// bucket lives in one process; the CLI is another";
  const std::string pem = (stores_.dir() / "private-key.pem").string();
  const std::string other = (stores_.dir() / "other.pem").string();
  std::ofstream(pem) << "-----BEGIN PRIVATE KEY-----\nseed-key\n-----END PRIVATE KEY-----\n";
  std::ofstream(other) << "not the key\n";
  {
    auto db = Database::Connect({.uri = uri, .passphrase = ReadPassphraseFile(pem), .kdf_iterations = 1000});
    db->CreateResource(Def("users", {{"username", "string"}, {"password", "secret"}}))
        .Insert({{"id", "john"}, {"username", "john_doe"}, {"password", "my_secure_password"}});
  }
  clitest::RunResult run = Cli({"--uri", uri, "--passphrase-file", pem, "get", "users", "john"});
  ASSERT_EQ(run.exit_code, 0) << clitest::Describe(run);
  EXPECT_EQ(Json::parse(run.out)["password"], "my_secure_password");
  run = Cli({"--uri", uri, "--passphrase-file", other, "get", "users", "john"});
  EXPECT_EQ(run.exit_code, clitest::kStorage) << clitest::Describe(run);
  EXPECT_EQ(run.out.find("my_secure_password"), std::string::npos);
}

// Seed 000, "AutoEncrypt / AutoDecrypt": a secret field is stored encrypted and read back
// decrypted. s3db.js falls back to a built-in passphrase; we do not (a key every install
// shares protects nothing): without a passphrase, creating the resource is AccessDenied,
// before any request, naming the cause.
TEST_P(SeedsSecurityTest, AutoEncryptAutoDecrypt) {
  auto db = Connect({.uri = "", .passphrase = "auto"});
  Resource& users = db->CreateResource(Def("users", {{"username", "string"}, {"password", "secret"}}));
  Record user = users.Insert({{"username", "john_doe"}, {"password", "my_secret_password"}});
  EXPECT_EQ(users.Get(user.id).data["password"], "my_secret_password");
  EXPECT_FALSE(StoredAnywhere(*RawStore(), "db/", "my_secret_password"));

  auto without = stores_.Connect("nokey");
  try {
    without->CreateResource(Def("users", {{"username", "string"}, {"password", "secret"}}));
    ADD_FAILURE() << "a secret field without a passphrase was accepted";
  } catch (const AccessDenied& e) {
    EXPECT_NE(std::string(e.what()).find("passphrase"), std::string::npos) << e.what();
  }
}

S3DB_SEEDS_EXAMPLES_ON_EVERY_BACKEND(SeedsSecurityTest);

}  // namespace
}  // namespace s3db::seeds

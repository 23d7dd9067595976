// Secret fields: the crypto primitives against published vectors, the key derivation and
// value format against vectors computed independently (Python hashlib + cryptography), and
// the database behaviour end to end on every local backend.
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <string>
#include <thread>

#include "record/keyring.h"
#include "record/record_codec.h"
#include "s3db/database.h"
#include "support/test_stores.h"
#include "util/crypto_hash.h"
#include "util/secret_cipher.h"

namespace s3db {
namespace {

using testing::Backend;
using testing::StoreFactory;

std::string Unhex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

// ---- primitives ------------------------------------------------------------------------------

// Test case 16 of the GCM specification: a 256-bit key, associated data, a partial block.
struct GcmCase16 {
  std::string key = Unhex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308");
  std::string nonce = Unhex("cafebabefacedbaddecaf888");
  std::string aad = Unhex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
  std::string plain = Unhex(
      "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657"
      "ba637b39");
};

TEST(SecretCipher, Pbkdf2MatchesRfc7914Vectors) {
  EXPECT_EQ(util::HexEncode(util::Pbkdf2HmacSha256("passwd", "salt", 1, 64)),
            "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
            "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783");
  EXPECT_EQ(util::HexEncode(util::Pbkdf2HmacSha256("Password", "NaCl", 80000, 64)),
            "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56"
            "a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d");
}

TEST(SecretCipher, AesGcmMatchesTheSpecificationTestCases) {
  const std::string zero_key(32, '\0'), zero_nonce(12, '\0');
  // Test case 13: empty plaintext, the tag alone.
  EXPECT_EQ(util::HexEncode(util::Aes256GcmSeal(zero_key, zero_nonce, "", "")), "530f8afbc74536b9a963b4f1c4cb738b");
  // Test case 14: one zero block.
  EXPECT_EQ(util::HexEncode(util::Aes256GcmSeal(zero_key, zero_nonce, "", std::string(16, '\0'))),
            "cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919");
  // Test case 16: associated data and a partial block.
  const GcmCase16 c;
  const std::string &key = c.key, &nonce = c.nonce, &aad = c.aad, &plain = c.plain;
  const std::string sealed = util::Aes256GcmSeal(key, nonce, aad, plain);
  EXPECT_EQ(util::HexEncode(sealed),
            "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393"
            "ba7a0abcc9f662"
            "76fc6ece0f4e1768cddf8853bb2d551b");
  EXPECT_EQ(util::Aes256GcmOpen(key, nonce, aad, sealed), plain);
}

TEST(SecretCipher, AKeysKeptContextsGiveTheOneShotResultsAcrossReuseFailureAndThreads) {
  // The spec's test case 16 through GcmKey, twice, so the second goes through a reused context.
  const GcmCase16 c;
  const std::string &key = c.key, &nonce = c.nonce, &aad = c.aad, &plain = c.plain;
  const util::GcmKey kept(key);
  const std::string expected = util::Aes256GcmSeal(key, nonce, aad, plain);
  for (int round = 0; round < 2; ++round) {
    EXPECT_EQ(kept.Seal(nonce, aad, plain), expected) << "round " << round;
    EXPECT_EQ(kept.Open(nonce, aad, expected), plain) << "round " << round;
  }
  // A failed open leaves its context fit for the next value.
  std::string bad = expected;
  bad[0] ^= 1;
  EXPECT_FALSE(kept.Open(nonce, aad, bad));
  EXPECT_FALSE(kept.Open(nonce, "other aad", expected));
  EXPECT_FALSE(kept.Open(nonce, aad, expected.substr(0, 15)));
  EXPECT_EQ(kept.Open(nonce, aad, expected), plain);
  // Many threads at once, each with its own nonces: every value opens to what was sealed.
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const std::string n = util::RandomBytes(util::kGcmNonceBytes);
        const std::string text = "value " + std::to_string(t) + "/" + std::to_string(i);
        const std::string sealed = kept.Seal(n, "aad", text);
        if (sealed != util::Aes256GcmSeal(key, n, "aad", text) || kept.Open(n, "aad", sealed) != text) ++wrong;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST(SecretCipher, OpenRefusesEveryChange) {
  const std::string key(32, 'k'), nonce(12, 'n');
  const std::string sealed = util::Aes256GcmSeal(key, nonce, "aad", "attack at dawn");
  ASSERT_EQ(util::Aes256GcmOpen(key, nonce, "aad", sealed), "attack at dawn");
  for (size_t i = 0; i < sealed.size(); ++i) {
    std::string bad = sealed;
    bad[i] ^= 1;
    EXPECT_FALSE(util::Aes256GcmOpen(key, nonce, "aad", bad)) << "byte " << i;
  }
  EXPECT_FALSE(util::Aes256GcmOpen(key, nonce, "aaD", sealed));
  EXPECT_FALSE(util::Aes256GcmOpen(std::string(32, 'K'), nonce, "aad", sealed));
  EXPECT_FALSE(util::Aes256GcmOpen(key, std::string(12, 'N'), "aad", sealed));
  EXPECT_FALSE(util::Aes256GcmOpen(key, nonce, "aad", sealed.substr(0, 15)));
}

// ---- key derivation and the sealed-value format (docs/FORMAT.md "Secret fields") ---------

TEST(Keyring, DerivationAndSealedTextMatchIndependentVectors) {
  const std::string salt = Unhex("000102030405060708090a0b0c0d0e0f");
  auto [key, check] = core::Keyring::Derive("correct horse battery staple", salt, 1000);
  EXPECT_EQ(util::HexEncode(key), "a97ae8d441fe68edfe71a1170541809d754c1802a328d10074b3aacc8a3054c3");
  EXPECT_EQ(util::HexEncode(check), "7943b9f95d0d171287ef48028105e8d2b80a52f24488e01fb2c0d28d80111c20");
  const std::string aad = core::SecretAad("users", "ada", "password");
  EXPECT_EQ(aad, std::string("s3db secret v1\0users\0ada\0password", 33));
  EXPECT_EQ(core::Keyring::SealWith(key, 1, Unhex("000102030405060708090a0b"), aad, "hunter2"),
            "E1:AAECAwQFBgcICQoLAOI97AzS99QkLRc8rb4DbqjamoL8zx4=");
}

TEST(Keyring, FreshNonceEveryValueAndWrongPassphraseIsNamed) {
  core::Keyring keys(std::string("pass-one"), 1000);
  core::NewKey first = keys.DeriveFirstKey(0);
  const Json crypto = core::Keyring::FirstSection(first);
  ASSERT_TRUE(keys.Unlock(crypto, true).ok());
  const std::string a = keys.Seal("same", "aad"), b = keys.Seal("same", "aad");
  EXPECT_NE(a, b);  // random 96-bit nonce per value
  EXPECT_EQ(*keys.Open(a, "aad"), "same");
  EXPECT_EQ(keys.Open(a, "other aad").code(), ErrorCode::kCorruption);

  core::Keyring wrong(std::string("pass-two"), 1000);
  Status s = wrong.Unlock(crypto, true);
  EXPECT_EQ(s.code(), ErrorCode::kAccessDenied);
  EXPECT_NE(s.message().find("wrong"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find("pass-two"), std::string::npos);
  EXPECT_EQ(wrong.Open(a, "aad").code(), ErrorCode::kAccessDenied);

  core::Keyring none(std::nullopt, 1000);
  EXPECT_EQ(none.Unlock(crypto, false).code(), ErrorCode::kAccessDenied);
  EXPECT_EQ(none.current_id(), 0u);
}

// ---- the database ---------------------------------------------------------------------------

DatabaseOptions WithPassphrase(const std::string& passphrase) {
  DatabaseOptions options;
  options.passphrase = passphrase;
  options.kdf_iterations = 1000;  // the suite stays fast; the default is 210,000
  return options;
}

ResourceDefinition Accounts() {
  ResourceDefinition def;
  def.name = "accounts";
  def.attributes = Json::parse(R"({
    "username": "string|min:3",
    "password": "secret|min:8",
    "apiKey": "secret|optional",
    "recovery": {"pin": "secret|optional", "hint": "string|optional"},
    "token": {"type": "secret", "nullable": true, "optional": true}
  })");
  return def;
}

class SecretTest : public ::testing::TestWithParam<Backend> {
 protected:
  std::unique_ptr<Database> Connect(const std::string& passphrase) {
    return stores_.Connect("db", WithPassphrase(passphrase));
  }
  std::unique_ptr<Database> ConnectWithout() { return stores_.Connect("db"); }
  Metadata RawMetadata(Database& db, const std::string& resource, const std::string& id) {
    auto got = db.store().Get("db/resource=" + resource + "/data/id=" + id);
    EXPECT_TRUE(got.ok());
    return got.ok() ? got->info.metadata : Metadata{};
  }
  std::string RawObject(Database& db, const std::string& resource, const std::string& id) {
    auto got = db.store().Get("db/resource=" + resource + "/data/id=" + id);
    EXPECT_TRUE(got.ok());
    std::string all = got->body;
    for (const auto& [k, v] : got->info.metadata) all += "\n" + k + ": " + v;
    return all;
  }

  StoreFactory stores_{GetParam()};
};

TEST_P(SecretTest, SealedAtRestOpenOnRead) {
  auto db = Connect("s3cret passphrase");
  Resource& accounts = db->CreateResource(Accounts());
  Record inserted = accounts.Insert(Json::parse(
      R"({"id": "ada", "username": "ada", "password": "my_secure_password", "apiKey": "sk_live_123456789",
          "recovery": {"pin": "4242-4242", "hint": "cat"}, "token": null})"));
  EXPECT_EQ(inserted.data["password"], "my_secure_password");
  const std::string raw = RawObject(*db, "accounts", "ada");
  for (const char* plain : {"my_secure_password", "sk_live_123456789", "4242-4242"}) {
    EXPECT_EQ(raw.find(plain), std::string::npos) << plain << " is stored in clear:\n" << raw;
  }
  EXPECT_NE(raw.find("cat"), std::string::npos);  // the hint is no secret
  int sealed = 0;
  for (const auto& [key, value] : RawMetadata(*db, "accounts", "ada")) sealed += value.rfind("E1:", 0) == 0;
  EXPECT_EQ(sealed, 3);
  EXPECT_EQ(accounts.Get("ada").data, inserted.data);
  // A second connection with the passphrase reads them too.
  EXPECT_EQ(Connect("s3cret passphrase")->resource("accounts").Get("ada").data["recovery"]["pin"], "4242-4242");
  // The catalog holds the KDF parameters and the check value, never the key.
  Json catalog = Json::parse(db->store().Get("db/s3db.json")->body);
  const Json& crypto = catalog["crypto"];
  EXPECT_EQ(crypto["kdf"], "pbkdf2-hmac-sha256");
  EXPECT_EQ(crypto["cipher"], "aes-256-gcm");
  EXPECT_EQ(crypto["current"], 1);
  EXPECT_EQ(crypto["keys"][0]["iterations"], 1000);
  EXPECT_EQ(crypto["keys"][0]["salt"].get<std::string>().size(), 24u);  // 16 bytes
  EXPECT_EQ(catalog.dump().find("s3cret"), std::string::npos);
}

TEST_P(SecretTest, EveryWriteUsesAFreshNonce) {
  auto db = Connect("pw-12345");
  Resource& accounts = db->CreateResource(Accounts());
  accounts.Insert(Json::parse(R"({"id": "a", "username": "ada", "password": "same password"})"));
  const Metadata before = RawMetadata(*db, "accounts", "a");
  accounts.Update("a", Json::object());
  const Metadata after = RawMetadata(*db, "accounts", "a");
  std::set<std::string> sealed_before, sealed_after;
  for (const auto& [k, v] : before)
    if (v[0] == 'E') sealed_before.insert(v);
  for (const auto& [k, v] : after)
    if (v[0] == 'E') sealed_after.insert(v);
  ASSERT_EQ(sealed_before.size(), 1u);
  EXPECT_NE(sealed_before, sealed_after);
  EXPECT_EQ(accounts.Get("a").data["password"], "same password");
}

TEST_P(SecretTest, LargeSecretsOverflowSealedIntoTheBody) {
  auto db = Connect("pw-12345");
  Resource& accounts = db->CreateResource(Accounts());
  const std::string big(3000, 'z');
  accounts.Insert(Json{{"id", "big"}, {"username", "big"}, {"password", big + "-tail"}});
  const std::string raw = RawObject(*db, "accounts", "big");
  EXPECT_EQ(raw.find("zzzzzzzzzz"), std::string::npos);
  EXPECT_EQ(accounts.Get("big").data["password"], big + "-tail");
}

TEST_P(SecretTest, WithoutAPassphraseSecretResourcesAreRefusedEarly) {
  auto db = ConnectWithout();
  try {
    db->CreateResource(Accounts());
    FAIL() << "expected AccessDenied";
  } catch (const AccessDenied& e) {
    EXPECT_NE(std::string(e.what()).find("passphrase"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(db->ResourceExists("accounts"));

  // Made by a connection that has the passphrase, then used by one that has not.
  auto keyed = Connect("pw-12345");
  keyed->CreateResource(Accounts()).Insert(Json::parse(R"({"id": "a", "username": "ada", "password": "password1"})"));
  ResourceDefinition plain;
  plain.name = "notes";
  plain.attributes = Json{{"text", "string"}};
  keyed->CreateResource(plain).Insert(Json{{"id", "n"}, {"text", "hello"}});

  auto bare = ConnectWithout();  // connecting needs no passphrase
  Resource& accounts = bare->resource("accounts");
  EXPECT_THROW(accounts.Get("a"), AccessDenied);
  EXPECT_THROW(accounts.List(), AccessDenied);
  EXPECT_THROW(accounts.Insert(Json::parse(R"({"username": "bob", "password": "password2"})")), AccessDenied);
  EXPECT_THROW(accounts.Update("a", Json{{"username", "adb"}}), AccessDenied);
  EXPECT_EQ(accounts.Count(), 1u);  // listing and deleting touch no secret
  EXPECT_TRUE(accounts.Exists("a"));
  EXPECT_EQ(bare->resource("notes").Get("n").data["text"], "hello");
  accounts.Delete("a");
  EXPECT_EQ(accounts.Count(), 0u);
}

TEST_P(SecretTest, WrongPassphraseFailsAtConnectWithoutEchoingIt) {
  Connect("right-passphrase")->CreateResource(Accounts());
  try {
    Connect("wrong-passphrase");
    FAIL() << "expected AccessDenied";
  } catch (const AccessDenied& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("passphrase is wrong"), std::string::npos) << what;
    EXPECT_EQ(what.find("wrong-passphrase"), std::string::npos) << what;
    EXPECT_EQ(what.find("right-passphrase"), std::string::npos) << what;
  }
  EXPECT_NO_THROW(Connect("right-passphrase"));
  EXPECT_NO_THROW(ConnectWithout());
}

TEST_P(SecretTest, BadSecretOptionsAreInvalidArgument) {
  DatabaseOptions empty = WithPassphrase("");
  EXPECT_THROW(stores_.Connect("db", empty), InvalidArgument);
  DatabaseOptions cheap = WithPassphrase("pw-12345");
  cheap.kdf_iterations = 10;
  EXPECT_THROW(stores_.Connect("db", cheap), InvalidArgument);
}

TEST_P(SecretTest, TamperedOrMovedCiphertextIsCorruptionNeverGarbage) {
  auto db = Connect("pw-12345");
  Resource& accounts = db->CreateResource(Accounts());
  accounts.Insert(Json::parse(R"({"id": "a", "username": "ada", "password": "password-a", "apiKey": "key-a"})"));
  accounts.Insert(Json::parse(R"({"id": "b", "username": "bob", "password": "password-b", "apiKey": "key-b"})"));
  auto rewrite = [&](const std::string& id, const std::function<void(Metadata&)>& change) {
    auto got = db->store().Get("db/resource=accounts/data/id=" + id);
    ASSERT_TRUE(got.ok());
    PutRequest put;
    put.key = "db/resource=accounts/data/id=" + id;
    put.metadata = got->info.metadata;
    put.body = got->body;
    change(put.metadata);
    ASSERT_TRUE(db->store().Put(put).ok());
  };
  Metadata a = RawMetadata(*db, "accounts", "a");
  std::string password_key, api_key;
  for (const auto& [k, v] : a) {
    if (v.rfind("E1:", 0) != 0) continue;
    (password_key.empty() ? password_key : api_key) = k;
  }
  ASSERT_FALSE(api_key.empty());
  // One flipped character of the ciphertext.
  rewrite("a", [&](Metadata& m) {
    std::string& v = m[password_key];
    v[10] = v[10] == 'A' ? 'B' : 'A';
  });
  try {
    accounts.Get("a");
    FAIL() << "expected Corruption";
  } catch (const Corruption& e) {
    EXPECT_NE(std::string(e.what()).find("fails authentication"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("password-a"), std::string::npos);
  }
  // b's values moved into a (same field): bound to record b, so a refuses them.
  Metadata b = RawMetadata(*db, "accounts", "b");
  rewrite("a", [&](Metadata& m) { m[password_key] = b[password_key]; });
  EXPECT_THROW(accounts.Get("a"), Corruption);
  // b's two secrets swapped with each other: bound to their fields.
  rewrite("b", [&](Metadata& m) { std::swap(m[password_key], m[api_key]); });
  EXPECT_THROW(accounts.Get("b"), Corruption);
  // A secret field holding plain text is not silently accepted either.
  rewrite("b", [&](Metadata& m) { m[password_key] = "splain"; });
  EXPECT_THROW(accounts.Get("b"), Corruption);
  // Nor a malformed one, and its text is not quoted back.
  rewrite("b", [&](Metadata& m) { m[password_key] = "Ehunter2-in-clear"; });
  try {
    accounts.Get("b");
    FAIL() << "expected Corruption";
  } catch (const Corruption& e) {
    EXPECT_EQ(std::string(e.what()).find("hunter2"), std::string::npos) << e.what();
  }
}

TEST_P(SecretTest, SecretsNeverAppearInValidationErrors) {
  auto db = Connect("pw-12345");
  Resource& accounts = db->CreateResource(Accounts());
  try {
    // The secret fails its own rule (min:8), another field fails too, and a mistyped field
    // name carries a secret-looking value.
    accounts.Insert(Json::parse(R"({"username": "x", "password": "hunter2", "recovery": {"pin": 1234},
                                    "pasword": "tr0ub4dor&3"})"));
    FAIL() << "expected ValidationError";
  } catch (const ValidationError& e) {
    const std::string what = e.what();
    for (const char* secret : {"hunter2", "1234", "tr0ub4dor"}) {
      EXPECT_EQ(what.find(secret), std::string::npos) << secret << " in: " << what;
    }
    std::set<std::string> failed;
    for (const auto& f : e.fields()) {
      failed.insert(f.path + ":" + f.rule);
      for (const char* secret : {"hunter2", "1234", "tr0ub4dor"}) {
        EXPECT_EQ(f.actual.find(secret), std::string::npos) << f.path;
        EXPECT_EQ(f.message.find(secret), std::string::npos) << f.path;
      }
    }
    EXPECT_EQ(failed, (std::set<std::string>{"username:min", "password:min", "recovery.pin:type", "pasword:unknown"}));
  }
  EXPECT_EQ(accounts.Count(), 0u);
}

TEST_P(SecretTest, RotationReSealsEverythingAndOldRecordsStayReadable) {
  auto db = Connect("old-passphrase");
  Resource& accounts = db->CreateResource(Accounts());
  for (int i = 0; i < 5; ++i) {
    accounts.Insert(Json{{"id", "u" + std::to_string(i)},
                         {"username", "user" + std::to_string(i)},
                         {"password", "password-" + std::to_string(i)}});
  }
  ResourceDefinition plain;
  plain.name = "notes";
  plain.attributes = Json{{"text", "string"}};
  db->CreateResource(plain).Insert(Json{{"id", "n"}, {"text", "x"}});
  // A connection opened before the rotation keeps the old key.
  auto stale = Connect("old-passphrase");

  RotateKeyResult rotated = db->RotateKey("new-passphrase");
  EXPECT_EQ(rotated.key_id, 2u);
  ASSERT_EQ(rotated.resources.size(), 1u);  // notes has no secret field
  EXPECT_EQ(rotated.resources[0].resource, "accounts");
  EXPECT_EQ(rotated.resources[0].records, 5u);
  EXPECT_EQ(rotated.resources[0].rewritten, 5u);
  EXPECT_TRUE(rotated.resources[0].errors.empty());
  for (const auto& [k, v] : RawMetadata(*db, "accounts", "u3")) EXPECT_NE(v.rfind("E1:", 0), 0u) << k;
  EXPECT_EQ(accounts.Get("u3").data["password"], "password-3");  // this connection moved on

  // The old passphrase is refused by name; the new one reads everything.
  try {
    Connect("old-passphrase");
    FAIL() << "expected AccessDenied";
  } catch (const AccessDenied& e) {
    EXPECT_NE(std::string(e.what()).find("key rotation"), std::string::npos) << e.what();
  }
  auto fresh = Connect("new-passphrase");
  EXPECT_EQ(fresh->resource("accounts").Get("u0").data["password"], "password-0");

  // The stale connection still writes with key 1; the new passphrase opens that (key 1 is
  // kept wrapped under key 2), and ReEncrypt moves it to key 2.
  stale->resource("accounts").Insert(Json{{"id", "late"}, {"username", "late"}, {"password", "password-late"}});
  EXPECT_EQ(RawObject(*db, "accounts", "late").find("E1:") != std::string::npos, true);
  EXPECT_EQ(fresh->resource("accounts").Get("late").data["password"], "password-late");
  EXPECT_THROW(stale->resource("accounts").Get("u0"), AccessDenied);  // key 2 is not its to open
  ReEncryptResult again = fresh->resource("accounts").ReEncrypt();
  EXPECT_EQ(again.records, 6u);
  EXPECT_EQ(again.rewritten, 1u);
  EXPECT_EQ(fresh->resource("accounts").ReEncrypt().rewritten, 0u);

  // A second rotation keeps every older key reachable.
  fresh->RotateKey("third-passphrase");
  auto third = Connect("third-passphrase");
  EXPECT_EQ(third->resource("accounts").Get("late").data["password"], "password-late");
  Json crypto = Json::parse(db->store().Get("db/s3db.json")->body)["crypto"];
  EXPECT_EQ(crypto["current"], 3);
  EXPECT_EQ(crypto["keys"].size(), 3u);
  EXPECT_TRUE(crypto["keys"][0].contains("wrapped"));
  EXPECT_TRUE(crypto["keys"][1].contains("wrapped"));
  EXPECT_FALSE(crypto["keys"][2].contains("wrapped"));
}

TEST_P(SecretTest, RotationNeedsAKeyAndTheCurrentPassphrase) {
  auto db = Connect("pw-12345");
  EXPECT_THROW(db->RotateKey("other"), InvalidArgument);  // no secret field yet: no key
  db->CreateResource(Accounts());
  EXPECT_THROW(db->RotateKey(""), InvalidArgument);
  auto bare = ConnectWithout();
  EXPECT_THROW(bare->RotateKey("other"), AccessDenied);
}

TEST_P(SecretTest, ChangingAFieldToSecretKeepsOldRecordsReadable) {
  auto db = Connect("pw-12345");
  ResourceDefinition v1;
  v1.name = "people";
  v1.attributes = Json{{"name", "string"}, {"ssn", "string|optional"}};
  Resource& people = db->CreateResource(v1);
  people.Insert(Json{{"id", "old"}, {"name", "A"}, {"ssn", "123-45-6789"}});
  ResourceDefinition v2 = v1;
  v2.attributes["ssn"] = "secret|optional";
  db->CreateResourceIfNotExists(v2);
  people.Insert(Json{{"id", "new"}, {"name", "B"}, {"ssn", "987-65-4321"}});
  EXPECT_EQ(people.Get("old").data["ssn"], "123-45-6789");
  EXPECT_EQ(people.Get("new").data["ssn"], "987-65-4321");
  EXPECT_EQ(RawObject(*db, "people", "new").find("987-65-4321"), std::string::npos);
  // An update rewrites the old record under version 2: sealed from then on.
  people.Update("old", Json::object());
  EXPECT_EQ(RawObject(*db, "people", "old").find("123-45-6789"), std::string::npos);
  EXPECT_EQ(people.Get("old").data["ssn"], "123-45-6789");
}

TEST_P(SecretTest, ATamperedIterationCountIsCorruptionNotHoursOfWork) {
  {
    auto db = Connect("pw-12345");
    db->CreateResource(Accounts());
  }
  auto raw = stores_.Open();
  Json catalog = Json::parse(raw->Get("db/s3db.json")->body);
  for (uint64_t count : {uint64_t{4000000000}, uint64_t{2000000000}}) {  // over int, and merely huge
    catalog["crypto"]["keys"][0]["iterations"] = count;
    PutRequest put;
    put.key = "db/s3db.json";
    put.body = catalog.dump();
    ASSERT_TRUE(raw->Put(put).ok());
    try {
      auto db = Connect("pw-12345");
      db->resource("accounts").Count();
      FAIL() << "a catalog asking for " << count << " iterations was accepted";
    } catch (const Corruption& e) {
      EXPECT_NE(std::string(e.what()).find("at most 10000000"), std::string::npos) << e.what();
    }
  }
  DatabaseOptions options = WithPassphrase("pw-12345");
  options.kdf_iterations = 10000001;
  EXPECT_THROW(stores_.Connect("db2", options), InvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(Backends, SecretTest, ::testing::ValuesIn(testing::TestBackends()),
                         [](const auto& info) { return testing::BackendName(info.param); });

}  // namespace
}  // namespace s3db

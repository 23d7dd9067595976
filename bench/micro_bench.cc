// CPU cost of the per-record hot paths: value codec, record encode/decode, validation,
// `pattern` rules, SigV4 signing. Run: build/default/bench/s3db_micro_bench
#include <benchmark/benchmark.h>

#include "format/value_codec.h"
#include "record/record_codec.h"
#include "s3/sigv4.h"
#include "s3db/database.h"
#include "schema/catalog.h"
#include "schema/schema_rules.h"
#include "util/crypto_hash.h"
#include "util/pattern.h"
#include "util/secret_cipher.h"

namespace s3db {
namespace {

Json UsersAttributes() {
  return Json::parse(R"({
    "name": "string|min:2|max:100", "email": "email", "age": "number|integer|positive|optional",
    "active": "boolean", "tags": "array|items:string|optional", "bio": "string|optional",
    "address": {"city": "string", "country": "string", "zip": "string|optional"}
  })");
}

Json SampleUser() {
  return Json::parse(R"({"name": "Ada Lovelace", "email": "ada@example.com", "age": 36, "active": true,
    "tags": ["math", "poetry", "engines"], "bio": "Wrote the first program. Olá, café!",
    "address": {"city": "London", "country": "UK", "zip": "N1 9GU"}})");
}

void BM_EncodeValueString(benchmark::State& state) {
  Json v = "Ada Lovelace, the first programmer";
  for (auto _ : state) benchmark::DoNotOptimize(format::EncodeValue(v));
}
BENCHMARK(BM_EncodeValueString);

void BM_DecodeValueString(benchmark::State& state) {
  std::string text = format::EncodeValue("Ada Lovelace, the first programmer");
  for (auto _ : state) benchmark::DoNotOptimize(format::DecodeValue(text));
}
BENCHMARK(BM_DecodeValueString);

void BM_EncodeValueArray(benchmark::State& state) {
  Json v = Json::array({"math", "poetry", "engines", 1, 2.5, nullptr});
  for (auto _ : state) benchmark::DoNotOptimize(format::EncodeValue(v));
}
BENCHMARK(BM_EncodeValueArray);

struct UsersSpec {
  UsersSpec() {
    Json catalog = core::EmptyCatalog();
    ResourceDefinition def;
    def.name = "users";
    def.attributes = UsersAttributes();
    core::AddResourceVersion(catalog, def, 0);
    state = core::BuildResourceState("users", catalog["resources"]["users"]);
  }
  std::shared_ptr<const core::ResourceState> state;
};

void BM_ValidateRecord(benchmark::State& state) {
  auto rules = core::ParseAttributes(UsersAttributes());
  Json user = SampleUser();
  for (auto _ : state) {
    Json copy = user;
    benchmark::DoNotOptimize(core::ValidateRecord(rules, copy));
  }
}
BENCHMARK(BM_ValidateRecord);

void BM_EncodeRecord(benchmark::State& state) {
  UsersSpec spec;
  Json user = SampleUser();
  for (auto _ : state) {
    benchmark::DoNotOptimize(core::EncodeRecord(user, spec.state->current(), 2000, "users", "ada"));
  }
}
BENCHMARK(BM_EncodeRecord);

void BM_DecodeRecord(benchmark::State& state) {
  UsersSpec spec;
  auto encoded = core::EncodeRecord(SampleUser(), spec.state->current(), 2000, "users", "ada");
  for (auto _ : state) {
    benchmark::DoNotOptimize(core::DecodeRecord(encoded.metadata, encoded.body, spec.state->current(), "users", "ada"));
  }
}
BENCHMARK(BM_DecodeRecord);

// A schema `pattern` rule on a typical value: compiled once with the schema, then matched
// per record. An email-like pattern over a 30-character address, and the seeds' phone rule.
void BM_PatternEmail(benchmark::State& state) {
  const util::Pattern p = util::Pattern::Compile(R"(^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}$)").value();
  const std::string text = "ada.lovelace@analytical-eng.uk";
  for (auto _ : state) benchmark::DoNotOptimize(p.Search(text));
}
BENCHMARK(BM_PatternEmail);

void BM_PatternPhone(benchmark::State& state) {
  const util::Pattern p = util::Pattern::Compile(R"(^\+?[1-9]\d{1,14}$)").value();
  const std::string text = "+1234567890";
  for (auto _ : state) benchmark::DoNotOptimize(p.Search(text));
}
BENCHMARK(BM_PatternPhone);

void BM_PatternCompileEmail(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(util::Pattern::Compile(R"(^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}$)"));
  }
}
BENCHMARK(BM_PatternCompileEmail);

void BM_SignV4Put(benchmark::State& state) {
  s3::SigningRequest request;
  request.method = "PUT";
  request.host = "127.0.0.1:7480";
  request.path = "/s3db-test/db/resource=users/data/id=ada";
  request.headers = {{"content-type", "application/json"},
                     {"if-none-match", "*"},
                     {"x-amz-meta-0", "sAda Lovelace"},
                     {"x-amz-meta-1", "sada@example.com"},
                     {"x-amz-meta-_v", "1"}};
  request.payload_hash = s3::PayloadHash("{\"w\":\"abcdefghijklmnop\"}");
  s3::SigningContext context;
  context.credentials = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
  context.time = std::chrono::system_clock::now();
  for (auto _ : state) benchmark::DoNotOptimize(s3::SignV4(request, context));
}
BENCHMARK(BM_SignV4Put);

// A secret field's value: AES-256-GCM with a fresh nonce per value (the key is derived once
// per database, so PBKDF2 is not in this path; s3db.js derived a key per value).
void BM_SealSecret(benchmark::State& state) {
  const std::string key = util::RandomBytes(util::kAes256KeyBytes);
  const std::string aad = std::string("s3db secret v1") + '\0' + "users" + '\0' + "ada" + '\0' + "password";
  for (auto _ : state) {
    benchmark::DoNotOptimize(util::Aes256GcmSeal(key, util::RandomBytes(util::kGcmNonceBytes), aad, "pw-9e3779b1"));
  }
}
BENCHMARK(BM_SealSecret);

void BM_OpenSecret(benchmark::State& state) {
  const std::string key = util::RandomBytes(util::kAes256KeyBytes);
  const std::string nonce = util::RandomBytes(util::kGcmNonceBytes);
  const std::string sealed = util::Aes256GcmSeal(key, nonce, "aad", "pw-9e3779b1");
  for (auto _ : state) benchmark::DoNotOptimize(util::Aes256GcmOpen(key, nonce, "aad", sealed));
}
BENCHMARK(BM_OpenSecret);

// What s3db.js pays per secret value (PBKDF2-HMAC-SHA256, 100,000 iterations), for scale.
void BM_Pbkdf2PerValueAsS3dbJs(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(util::Pbkdf2HmacSha256("secret", "0123456789abcdef", 100000, 32));
}
BENCHMARK(BM_Pbkdf2PerValueAsS3dbJs)->Unit(benchmark::kMillisecond);

// Whole calls on the memory store, the path `s3db bench` measures on memory: what the
// database adds around one request (catalog state, executor slot, codec, secret, events).
struct MemoryUsers {
  MemoryUsers() {
    DatabaseOptions options;
    options.uri = "memory://micro-bench-" + util::RandomAlnum(8);
    options.passphrase = "micro bench passphrase";
    options.kdf_iterations = 1000;  // the key is derived once; its cost is not measured here
    options.concurrency = 1;
    db = Database::Connect(options);
    ResourceDefinition def;
    def.name = "users";
    def.attributes = UsersAttributes();
    def.attributes["password"] = "secret";
    users = &db->CreateResource(def);
  }
  Json User(size_t i) const {
    Json user = SampleUser();
    user["id"] = "u" + std::to_string(i);
    user["password"] = "pw-" + std::to_string(i);
    return user;
  }
  std::unique_ptr<Database> db;
  Resource* users = nullptr;
};

void BM_ResourceGetMemory(benchmark::State& state) {
  MemoryUsers m;
  for (size_t i = 0; i < 1000; ++i) m.users->Insert(m.User(i));
  size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(m.users->Get("u" + std::to_string(i++ % 1000)));
}
BENCHMARK(BM_ResourceGetMemory);

void BM_ResourceInsertMemory(benchmark::State& state) {
  MemoryUsers m;
  size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(m.users->Insert(m.User(i++)));
}
BENCHMARK(BM_ResourceInsertMemory);

}  // namespace
}  // namespace s3db

BENCHMARK_MAIN();

// The s3db.js 21.6.2 value encodings, against values s3db.js itself stored (the research
// dump of the s3db.js research notes) and a secret sealed independently with node:crypto.
#include "s3dbjs/s3dbjs_codec.h"

#include <gtest/gtest.h>

#include "s3dbjs/s3dbjs_schema.h"

namespace s3db::s3dbjs {
namespace {

std::string Decoded(const std::string& stored) {
  JsValue v = DecodeMetadataValue(stored);
  EXPECT_TRUE(v.is_string()) << stored;
  return v.text;
}

TEST(S3dbJsCodec, MetadataLiteralsAndPrefixes) {
  EXPECT_EQ(DecodeMetadataValue("null").kind, JsValue::Kind::kNull);
  EXPECT_EQ(DecodeMetadataValue("undefined").kind, JsValue::Kind::kUndefined);
  EXPECT_EQ(Decoded("plain text | \"q\" \\"), "plain text | \"q\" \\");
  EXPECT_EQ(Decoded("u:Ol%C3%A1%2C%20caf%C3%A9"), "Olá, café");
  EXPECT_EQ(Decoded("u:tab%09here"), "tab\there");
  EXPECT_EQ(Decoded("b:w6fDo28="), "ção");
  EXPECT_EQ(Decoded("b:ZDpj"), "d:c");  // a value that merely starts with a prefix
  EXPECT_EQ(Decoded(""), "");
  // A malformed payload stays as written, as s3db.js leaves it.
  EXPECT_EQ(Decoded("u:%zz"), "u:%zz");
  EXPECT_EQ(Decoded("b:!!!"), "b:!!!");
}

TEST(S3dbJsCodec, Dictionary) {
  EXPECT_EQ(Decoded("d:j"), "application/json");
  EXPECT_EQ(Decoded("d:o"), "application/octet-stream");
  EXPECT_EQ(Decoded("d:c"), "completed");
  EXPECT_EQ(Decoded("d:f"), "failed");  // the status wins the letter it shares
  EXPECT_EQ(Decoded("d:@hexample.com/x"), "https://example.com/x");
  EXPECT_EQ(Decoded("d:@L8080/x"), "http://localhost:8080/x");
  EXPECT_EQ(Decoded("d:?"), "d:?");  // not in the dictionary
}

TEST(S3dbJsCodec, Base62Numbers) {
  EXPECT_EQ(*DecodeBase62("5ban"), 1234567);
  EXPECT_EQ(*DecodeBase62("0"), 0);
  EXPECT_EQ(*DecodeBase62("-5"), -5);
  EXPECT_EQ(*DecodeBase62(""), 0);
  EXPECT_FALSE(DecodeBase62("a.b"));
  EXPECT_EQ(*DecodeBase62Decimal("v.5"), 31.5);
  EXPECT_EQ(*DecodeBase62Decimal("1Z.456"), 123.456);
  EXPECT_EQ(*DecodeBase62Decimal("-c.25"), -12.25);
  EXPECT_EQ(*DecodeBase62Decimal("1"), 1);
  EXPECT_EQ(*DecodeBase62Decimal("1.5e+21"), 1.5e21);  // a JavaScript exponent kept as written
  EXPECT_EQ(NumberJson(7).dump(), "7");
  EXPECT_EQ(NumberJson(31.5).dump(), "31.5");
  EXPECT_EQ(NumberJson(-0.0).dump(), "0");
  EXPECT_TRUE(NumberJson(1e21).is_number_float());
}

TEST(S3dbJsCodec, ArraysSplitOnUnescapedBars) {
  EXPECT_EQ(SplitArray("a\\|b|c\\\\d|plain"), (std::vector<std::string>{"a|b", "c\\d", "plain"}));
  EXPECT_TRUE(SplitArray("").empty());
  EXPECT_EQ(SplitArray("|"), (std::vector<std::string>{"", ""}));
}

TEST(S3dbJsCodec, Times) {
  EXPECT_EQ(*IsoFromEpochMs(*DecodeBase62("u5LXUbj")), "2024-03-01T12:34:56.789Z");
  EXPECT_EQ(IsoFromEpochMs(*DecodeBase62("1W1") * 86400000.0)->substr(0, 10), "1990-05-17");
  EXPECT_FALSE(IsoFromEpochMs(1e300));
}

TEST(S3dbJsCodec, SecretOpensWithItsPassphraseOnly) {
  // salt 16x07, iv 12x09, sealed by node:crypto (pbkdf2Sync sha256 100000, aes-256-gcm).
  const std::string blob = "BwcHBwcHBwcHBwcHBwcHBwkJCQkJCQkJCQkJCTPbnGut0KFyY5Lw4e+4FLmkf3JkObW3ZcVUXzbmUoDi";
  EXPECT_EQ(DecryptSecret(blob, "fixture-pass"), std::optional<std::string>("sk-live-ключ"));
  EXPECT_FALSE(DecryptSecret(blob, "secret"));
  EXPECT_FALSE(DecryptSecret("not base64 !", "fixture-pass"));
  EXPECT_FALSE(DecryptSecret("AAAA", "fixture-pass"));  // too short to be a blob
}

TEST(S3dbJsSchema, TranslatesRulesAndReportsWhatItCannot) {
  Json attributes = Json::parse(R"({
    "name": "string|required", "age": "number|optional", "visits": "number|integer:true|optional",
    "active": "bool|optional", "seenAt": "datetime|optional", "tags": "array|items:string|optional",
    "counts": "array|items:number|integer:true", "profile": {"city": "string|optional"},
    "apiKey": "secret|optional", "pw": "password", "addr": "ip4|optional",
    "createdAt": "datetime|optional"})");
  TranslatedSchema t = TranslateAttributes(attributes, /*timestamps=*/true);
  EXPECT_EQ(t.fields.at("visits").kind, FieldKind::kInteger);
  EXPECT_EQ(t.fields.at("age").kind, FieldKind::kNumber);
  EXPECT_EQ(t.fields.at("active").kind, FieldKind::kBoolean);
  EXPECT_EQ(t.fields.at("counts").kind, FieldKind::kIntegerArray);
  EXPECT_EQ(t.fields.at("profile.city").kind, FieldKind::kPlain);
  EXPECT_EQ(t.fields.at("apiKey").kind, FieldKind::kSecret);
  EXPECT_EQ(t.fields.at("createdAt").kind, FieldKind::kDatetime);
  EXPECT_EQ(t.attributes["active"], "boolean|optional");
  EXPECT_EQ(t.attributes["seenAt"], "string|optional");
  EXPECT_EQ(t.attributes["counts"], "array|items:number");
  EXPECT_EQ(t.attributes["profile"]["city"], "string|optional");
  EXPECT_FALSE(t.attributes.contains("createdAt"));  // s3db's own timestamps
  EXPECT_FALSE(t.attributes.contains("pw"));
  EXPECT_FALSE(t.attributes.contains("addr"));
  ASSERT_EQ(t.untranslatable.size(), 2u);
  EXPECT_EQ(t.untranslatable[0].path, "addr");
  EXPECT_EQ(t.untranslatable[1].path, "pw");
}

}  // namespace
}  // namespace s3db::s3dbjs

#include "format/value_codec.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "support/json_lines.h"
#include "util/crypto_hash.h"
#include "util/time_format.h"

namespace s3db::format {
namespace {

using nlohmann::json;

using testing::IdenticalJson;
using testing::JsonLine;
using testing::ReadJsonLines;

// The rule every encoding must meet to survive an S3 header and our stores.
::testing::AssertionResult IsHeaderSafe(const std::string& text) {
  if (text.empty()) return ::testing::AssertionFailure() << "empty encoding";
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c > 0x7E) {
      return ::testing::AssertionFailure() << "byte " << static_cast<int>(c) << " at " << i << " in " << text;
    }
  }
  if (text.front() == ' ' || text.back() == ' ') {
    return ::testing::AssertionFailure() << "edge space in [" << text << "]";
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult RoundTrips(const json& value) {
  const std::string encoded = EncodeValue(value);
  if (auto safe = IsHeaderSafe(encoded); !safe) return safe << " for " << value.dump();
  Result<json> decoded = DecodeValue(encoded);
  if (!decoded.ok()) {
    return ::testing::AssertionFailure() << encoded << " does not decode: " << decoded.status().ToString();
  }
  return IdenticalJson(value, *decoded) << " (encoded " << encoded << ")";
}

TEST(ValueCodecVectors, EncodeAndDecodeEveryGoldenLine) {
  const std::vector<JsonLine> lines = ReadJsonLines("codec_vectors.jsonl");
  ASSERT_GE(lines.size(), 60u);
  std::set<char> tags;
  std::set<std::string> encodings;
  for (const auto& [line, vector] : lines) {
    SCOPED_TRACE("codec_vectors.jsonl:" + std::to_string(line));
    ASSERT_TRUE(vector.contains("value") && vector.contains("encoded"));
    const json& value = vector.at("value");
    const std::string& encoded = vector.at("encoded").get_ref<const std::string&>();
    EXPECT_EQ(EncodeValue(value), encoded);
    EXPECT_TRUE(IsHeaderSafe(encoded));
    Result<json> decoded = DecodeValue(encoded);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_TRUE(IdenticalJson(value, *decoded));
    EXPECT_EQ(decoded->dump(), value.dump());
    EXPECT_EQ(decoded->is_number_integer(), value.is_number_integer());
    EXPECT_EQ(decoded->is_number_unsigned(), value.is_number_unsigned());
    EXPECT_EQ(decoded->is_number_float(), value.is_number_float());
    EXPECT_TRUE(encodings.insert(encoded).second) << "duplicate vector " << encoded;
    tags.insert(encoded.front());
  }
  // The file must keep exercising every tag.
  EXPECT_EQ(tags, (std::set<char>{'s', 'b', 'd', 't', 'f', 'z', 'j'}));
}

TEST(ValueCodecVectors, EveryErrorLineIsCorruption) {
  const std::vector<JsonLine> lines = ReadJsonLines("codec_errors.jsonl");
  ASSERT_GE(lines.size(), 20u);
  for (const auto& [line, vector] : lines) {
    SCOPED_TRACE("codec_errors.jsonl:" + std::to_string(line));
    const std::string& encoded = vector.at("encoded").get_ref<const std::string&>();
    Result<json> decoded = DecodeValue(encoded);
    ASSERT_FALSE(decoded.ok()) << encoded << " decoded to " << decoded->dump();
    EXPECT_EQ(decoded.code(), ErrorCode::kCorruption);
    EXPECT_NE(decoded.status().message().find(vector.at("message_contains").get<std::string>()), std::string::npos)
        << decoded.status().message();
  }
}

TEST(ValueCodec, BriefExamples) {
  EXPECT_EQ(EncodeValue("hello world"), "shello world");
  EXPECT_EQ(EncodeValue(""), "s");
  EXPECT_EQ(EncodeValue(" x "), "s%20x%20");
  EXPECT_EQ(EncodeValue("50%"), "s50%25");
  EXPECT_EQ(EncodeValue("Olá"), "sOl%C3%A1");
  EXPECT_EQ(EncodeValue("日本語テキスト"), "b5pel5pys6Kqe44OG44Kt44K544OI");
  EXPECT_EQ(EncodeValue(json(std::numeric_limits<uint64_t>::max())), "d18446744073709551615");
  EXPECT_EQ(EncodeValue(-0.0), "d-0.0");
  EXPECT_EQ(EncodeValue(1e300), "d1e+300");
}

TEST(ValueCodec, ReadersAcceptOtherWellFormedSpellings) {
  // Lower-case hex, escapes that were not needed, a raw space after the tag.
  EXPECT_EQ(DecodeValue("sOl%c3%a1").value(), json("Olá"));
  EXPECT_EQ(DecodeValue("s%41%42").value(), json("AB"));
  EXPECT_EQ(DecodeValue("s x").value(), json(" x"));
  // Base64 where %-escapes would have been shorter, and the empty base64 string.
  EXPECT_EQ(DecodeValue("bYWJj").value(), json("abc"));
  EXPECT_EQ(DecodeValue("b").value(), json(""));
  // Any JSON number spelling; whitespace inside j.
  EXPECT_TRUE(IdenticalJson(json(100000.0), DecodeValue("d1E5").value()));
  EXPECT_TRUE(IdenticalJson(json(int64_t{0}), DecodeValue("d-0").value()));
  EXPECT_TRUE(IdenticalJson(json::parse("[1,2]"), DecodeValue("j[1, 2]").value()));
}

TEST(ValueCodec, IntegersComeBackTypedAsNlohmannParsesThem) {
  // nlohmann's parser gives unsigned for non-negative integers, signed for negative ones.
  Result<json> five = DecodeValue(EncodeValue(json(int64_t{5})));
  ASSERT_TRUE(five.ok());
  EXPECT_TRUE(five->is_number_unsigned());
  EXPECT_EQ(*five, json(int64_t{5}));
  Result<json> minus_five = DecodeValue(EncodeValue(json(int64_t{-5})));
  ASSERT_TRUE(minus_five.ok());
  EXPECT_TRUE(minus_five->is_number_integer() && !minus_five->is_number_unsigned());
  Result<json> float_five = DecodeValue(EncodeValue(json(5.0)));
  ASSERT_TRUE(float_five.ok());
  EXPECT_TRUE(float_five->is_number_float());
}

TEST(ValueCodec, IntegerFastPathAgreesWithTheJsonParserOnEveryShape) {
  // Canonical integers up to 18 digits skip the parser; everything else goes through it.
  // Either way the value and its type are what json::parse gives.
  for (const char* text : {"0", "7", "-7", "10", "-10", "123456789012345678", "-123456789012345678",
                           "999999999999999999", "1234567890123456789", "-9223372036854775808", "18446744073709551615",
                           "18446744073709551616", "-0", "1.5", "1e3", "-2E-2"}) {
    const json parsed = json::parse(text);
    Result<json> decoded = DecodeValue(std::string("d") + text);
    ASSERT_TRUE(decoded.ok()) << text << ": " << decoded.status().ToString();
    EXPECT_EQ(decoded->type(), parsed.type()) << text;
    EXPECT_EQ(*decoded, parsed) << text;
    EXPECT_EQ(decoded->dump(), parsed.dump()) << text;
  }
  for (const char* bad : {"d007", "d-", "d-01", "d+1", "d1a", "d--1"}) {
    EXPECT_EQ(DecodeValue(bad).code(), ErrorCode::kCorruption) << bad;
  }
}

TEST(ValueCodec, ValuesJsonCannotHoldAreEncodedAsNlohmannDumpsThem) {
  EXPECT_EQ(EncodeValue(std::numeric_limits<double>::quiet_NaN()), "z");
  EXPECT_EQ(EncodeValue(std::numeric_limits<double>::infinity()), "z");
  EXPECT_EQ(EncodeValue(json::array({std::numeric_limits<double>::infinity()})), "j[null]");
  // Invalid UTF-8 becomes U+FFFD, at the top level and nested alike, and still decodes.
  const std::string latin1 = "caf\xE9";
  EXPECT_EQ(DecodeValue(EncodeValue(latin1)).value(), json("caf\xEF\xBF\xBD"));
  EXPECT_EQ(DecodeValue(EncodeValue(json::array({latin1}))).value(), json::array({"caf\xEF\xBF\xBD"}));
  const json binary = json::binary({1, 2}, 7);
  EXPECT_EQ(EncodeValue(binary), R"(j{"bytes":[1,2],"subtype":7})");
}

TEST(ValueCodec, BaseSixtyFourOnlyWhenStrictlyShorterForTextThatNeedsEscapes) {
  EXPECT_EQ(EncodeValue("%%%"), "s%25%25%25");  // printable ASCII stays readable
  EXPECT_EQ(EncodeValue("  "), "s%20%20");
  EXPECT_EQ(EncodeValue("Olá"), "sOl%C3%A1");  // a tie goes to s
  EXPECT_EQ(EncodeValue("éé"), "bw6nDqQ==");
}

TEST(ValueCodec, ErrorMessagesQuoteAtMostFortyCharacters) {
  const std::string long_text = "Q" + std::string(1000, 'x');
  Result<json> decoded = DecodeValue(long_text);
  ASSERT_FALSE(decoded.ok());
  const std::string& message = decoded.status().message();
  EXPECT_NE(message.find("unknown type tag 'Q'"), std::string::npos) << message;
  EXPECT_NE(message.find("\"Q" + std::string(39, 'x') + "\"..."), std::string::npos) << message;
  EXPECT_LT(message.size(), 120u) << message;
  // Unprintable bytes are shown escaped, never raw.
  Result<json> raw = DecodeValue("s\xC3\xA9\n");
  ASSERT_FALSE(raw.ok());
  EXPECT_NE(raw.status().message().find(R"("s\xC3\xA9\x0A")"), std::string::npos) << raw.status().message();
  EXPECT_NE(raw.status().message().find("offset 1"), std::string::npos);
}

// Random JSON values: strings of code points from every UTF-8 length class (controls and
// edge spaces included), numbers from every corner of int64/uint64/double, random nesting.
class RandomJson {
 public:
  explicit RandomJson(uint32_t seed) : rng_(seed) {}

  json Value(int depth) {
    switch (Pick(depth > 0 ? 9 : 7)) {
      case 0:
        return nullptr;
      case 1:
        return Pick(2) == 0;
      case 2:
        return NegativeInteger();
      case 3:
        return NonNegativeInteger();
      case 4:
        return Float();
      case 5:
      case 6:
        return String();
      case 7: {
        json array = json::array();
        for (size_t n = Pick(6); n > 0; --n) array.push_back(Value(depth - 1));
        return array;
      }
      default: {
        json object = json::object();
        for (size_t n = Pick(6); n > 0; --n) object[String()] = Value(depth - 1);
        return object;
      }
    }
  }

  std::string String() {
    std::string s;
    if (Pick(8) == 0) s += ' ';
    for (size_t n = Pick(14); n > 0; --n) AppendUtf8(CodePoint(), &s);
    if (Pick(8) == 0) s += ' ';
    return s;
  }

 private:
  size_t Pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  uint64_t Bits() { return std::uniform_int_distribution<uint64_t>()(rng_); }

  // Negative integers are signed and non-negative ones unsigned, as nlohmann's parser types
  // them, so an exact type comparison is fair.
  json NegativeInteger() {
    switch (Pick(3)) {
      case 0:
        return std::numeric_limits<int64_t>::min();
      case 1:
        return -static_cast<int64_t>(Pick(1000)) - 1;
      default:
        return -static_cast<int64_t>(Bits() >> 1) - 1;
    }
  }
  json NonNegativeInteger() {
    switch (Pick(3)) {
      case 0:
        return std::numeric_limits<uint64_t>::max();
      case 1:
        return static_cast<uint64_t>(Pick(1000));
      default:
        return Bits() >> Pick(64);
    }
  }
  json Float() {
    static const double kCorners[] = {0.0,
                                      -0.0,
                                      1.0,
                                      -1.0,
                                      0.1,
                                      1e15,
                                      1e14,
                                      1e-5,
                                      std::numeric_limits<double>::min(),
                                      std::numeric_limits<double>::denorm_min(),
                                      std::numeric_limits<double>::max(),
                                      std::numeric_limits<double>::lowest(),
                                      std::numeric_limits<double>::epsilon(),
                                      9007199254740993.0};
    switch (Pick(4)) {
      case 0:
        return kCorners[Pick(std::size(kCorners))];
      case 1:
        return static_cast<double>(static_cast<int64_t>(Bits() >> Pick(64)));
      case 2:
        return std::uniform_real_distribution<double>(-1e6, 1e6)(rng_);
      default:
        for (;;) {  // any finite bit pattern: subnormals, huge exponents, both signs
          const double d = std::bit_cast<double>(Bits());
          if (std::isfinite(d)) return d;
        }
    }
  }

  char32_t CodePoint() {
    switch (Pick(6)) {
      case 0:
        return static_cast<char32_t>(0x20 + Pick(0x5F));  // printable ASCII, % and space
      case 1:
        return Pick(3) == 0 ? 0x7F : static_cast<char32_t>(Pick(0x20));  // controls
      case 2:
        return static_cast<char32_t>(0x80 + Pick(0x800 - 0x80));  // 2 bytes
      case 3: {                                                   // 3 bytes
        char32_t c = static_cast<char32_t>(0x800 + Pick(0x10000 - 0x800));
        return (c >= 0xD800 && c <= 0xDFFF) ? 0xFFFD : c;
      }
      case 4:
        return static_cast<char32_t>(0x10000 + Pick(0x110000 - 0x10000));  // 4 bytes
      default:
        return static_cast<char32_t>('a' + Pick(26));
    }
  }

  static void AppendUtf8(char32_t c, std::string* out) {
    if (c < 0x80) {
      out->push_back(static_cast<char>(c));
    } else if (c < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (c >> 6)));
      out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else if (c < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (c >> 12)));
      out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (c >> 18)));
      out->push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }

  std::mt19937 rng_;
};

TEST(ValueCodecProperty, TwoThousandRandomValuesRoundTripAndAreHeaderSafe) {
  RandomJson random(20240601);
  for (int i = 0; i < 2000; ++i) {
    const json value = random.Value(/*depth=*/4);
    ASSERT_TRUE(RoundTrips(value)) << "value #" << i << ": "
                                   << value.dump(-1, ' ', true, json::error_handler_t::replace);
  }
}

// The s/b choice, recomputed from the rule: b only for text with a byte outside 0x20..0x7E,
// and only when its base64 is strictly shorter than its %-escaped form.
TEST(ValueCodecProperty, StringTagFollowsTheLengthRule) {
  RandomJson random(7);
  for (int i = 0; i < 2000; ++i) {
    const std::string s = random.String();
    size_t escaped_size = 0;
    bool needs_escape_beyond_ascii = false;
    for (size_t k = 0; k < s.size(); ++k) {
      const auto c = static_cast<unsigned char>(s[k]);
      const bool outside = c < 0x20 || c > 0x7E;
      needs_escape_beyond_ascii |= outside;
      const bool edge_space = c == ' ' && (k == 0 || k + 1 == s.size());
      escaped_size += (outside || c == '%' || edge_space) ? 3 : 1;
    }
    const size_t base64_size = 4 * ((s.size() + 2) / 3);
    const bool expect_base64 = needs_escape_beyond_ascii && base64_size < escaped_size;
    const std::string encoded = EncodeValue(s);
    ASSERT_EQ(encoded.front(), expect_base64 ? 'b' : 's') << encoded;
    ASSERT_EQ(encoded.size(), 1 + (expect_base64 ? base64_size : escaped_size)) << encoded;
    if (expect_base64) {
      ASSERT_EQ(encoded.substr(1), util::Base64Encode(s));
    }
  }
}

// ---- Typed tags (dates and sealed secrets) ----------------------------------------------------

TEST(ValueCodecTyped, EveryGoldenLine) {
  const std::vector<JsonLine> lines = ReadJsonLines("codec_typed_vectors.jsonl");
  size_t dates = 0, sealed = 0, errors = 0;
  for (const auto& [line, vector] : lines) {
    SCOPED_TRACE("codec_typed_vectors.jsonl:" + std::to_string(line));
    const std::string kind = vector.at("kind").get<std::string>();
    const std::string encoded = vector.at("encoded").get<std::string>();
    if (kind == "date") {
      ++dates;
      const std::string iso = vector.at("value").get<std::string>();
      const std::optional<int64_t> ms = util::ParseIso8601Ms(iso);
      ASSERT_TRUE(ms.has_value()) << iso;
      EXPECT_EQ(EncodeDateMs(*ms), encoded);
      EXPECT_TRUE(IsHeaderSafe(encoded));
      Result<json> decoded = DecodeValue(encoded);
      ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
      EXPECT_EQ(*decoded, json(iso));
    } else if (kind == "sealed") {
      ++sealed;
      std::string blob;
      const std::string hex = vector.at("blob_hex").get<std::string>();
      for (size_t i = 0; i < hex.size(); i += 2) {
        blob.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
      }
      const uint64_t key_id = vector.at("key_id").get<uint64_t>();
      EXPECT_EQ(EncodeSealed(key_id, blob), encoded);
      EXPECT_TRUE(IsHeaderSafe(encoded));
      Result<SealedValue> decoded = DecodeSealed(encoded);
      ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
      EXPECT_EQ(decoded->key_id, key_id);
      EXPECT_EQ(decoded->blob, blob);
      // Only the record layer opens sealed values; the schema-less decoder refuses them.
      EXPECT_EQ(DecodeValue(encoded).code(), ErrorCode::kCorruption);
    } else if (kind == "sealed_error") {
      ++errors;
      Result<SealedValue> decoded = DecodeSealed(encoded);
      ASSERT_FALSE(decoded.ok());
      EXPECT_EQ(decoded.code(), ErrorCode::kCorruption);
      EXPECT_NE(decoded.status().message().find(vector.at("message_contains").get<std::string>()), std::string::npos)
          << decoded.status().message();
    } else {
      ADD_FAILURE() << "unknown kind " << kind;
    }
  }
  EXPECT_GE(dates, 10u);
  EXPECT_GE(sealed, 4u);
  EXPECT_GE(errors, 8u);
}

TEST(ValueCodecTyped, EveryMillisecondOfTheRangeRoundTripsThroughItsText) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int64_t> pick(kMinDateMs, kMaxDateMs);
  for (int i = 0; i < 5000; ++i) {
    const int64_t ms = i == 0 ? kMinDateMs : i == 1 ? kMaxDateMs : i == 2 ? 0 : pick(rng);
    const std::string encoded = EncodeDateMs(ms);
    Result<json> decoded = DecodeValue(encoded);
    ASSERT_TRUE(decoded.ok()) << encoded << ": " << decoded.status().ToString();
    const std::string iso = decoded->get<std::string>();
    ASSERT_EQ(iso.size(), 24u) << iso;
    ASSERT_EQ(util::ParseIso8601Ms(iso), ms) << iso;
    ASSERT_LE(encoded.size(), 11u);
  }
}

}  // namespace
}  // namespace s3db::format

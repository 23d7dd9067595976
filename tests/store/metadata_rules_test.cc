// Unit tests of the pieces the stores share: request rules, list paging, the FileStore
// key <-> path codec.
#include "store/metadata_rules.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "store/file_key_codec.h"
#include "store/list_paging.h"
#include "util/crypto_hash.h"

namespace s3db::store {
namespace {

TEST(ObjectKeyRules, LengthAndUtf8) {
  EXPECT_TRUE(ValidateObjectKey("a").ok());
  EXPECT_TRUE(ValidateObjectKey(std::string(1024, 'k')).ok());
  EXPECT_TRUE(ValidateObjectKey("日本/😀").ok());
  EXPECT_TRUE(ValidateObjectKey(std::string("a\0b", 3)).ok());  // U+0000 is valid UTF-8
  EXPECT_EQ(ValidateObjectKey("").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ValidateObjectKey(std::string(1025, 'k')).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ValidateObjectKey("bad\xff").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ValidateObjectKey("\xc0\xaf").code(), ErrorCode::kInvalidArgument);  // overlong '/'
}

TEST(MetadataRules, LowerCasesKeys) {
  Result<Metadata> normalized = NormalizeMetadata({{"Content-Kind", "x"}, {"_V", "1"}}, 2048);
  ASSERT_TRUE(normalized.ok()) << normalized.status().ToString();
  EXPECT_EQ(*normalized, (Metadata{{"content-kind", "x"}, {"_v", "1"}}));
}

TEST(MetadataRules, RejectsBadKeys) {
  for (std::string key : {"", "a b", "a.b", "a:b", "é", "a/b", "tab\t"}) {
    EXPECT_EQ(NormalizeMetadata({{key, "v"}}, 2048).code(), ErrorCode::kInvalidArgument) << key;
  }
  EXPECT_EQ(NormalizeMetadata({{"Key", "1"}, {"key", "2"}}, 2048).code(), ErrorCode::kInvalidArgument);
}

TEST(MetadataRules, RejectsBadValues) {
  for (std::string value : {"line\nbreak", "tab\t", "del\x7f", "é", " lead", "trail ", " "}) {
    EXPECT_EQ(NormalizeMetadata({{"k", value}}, 2048).code(), ErrorCode::kInvalidArgument) << value;
  }
  for (std::string value : {"", "a b", "~!@#$%^&*()|={}", "0"}) {
    EXPECT_TRUE(NormalizeMetadata({{"k", value}}, 2048).ok()) << value;
  }
}

TEST(MetadataRules, SizeCountsKeysAndValuesAgainstTheLimit) {
  EXPECT_EQ(MetadataSize({{"ab", "cde"}, {"f", ""}}), 6u);
  EXPECT_TRUE(NormalizeMetadata({{"k", std::string(2047, 'x')}}, 2048).ok());
  Result<Metadata> over = NormalizeMetadata({{"k", std::string(2048, 'x')}}, 2048);
  EXPECT_EQ(over.code(), ErrorCode::kMetadataTooLarge);
  EXPECT_NE(over.status().message().find("2049"), std::string::npos) << over.status().message();
  EXPECT_NE(over.status().message().find("2048"), std::string::npos) << over.status().message();
  // The limit is a parameter (S3Store may probe a smaller one).
  EXPECT_EQ(NormalizeMetadata({{"ab", "cd"}}, 3).code(), ErrorCode::kMetadataTooLarge);
}

TEST(EtagRules, Md5AndQuoteInsensitiveMatch) {
  EXPECT_EQ(ComputeEtag(""), "\"d41d8cd98f00b204e9800998ecf8427e\"");
  // The empty body's ETag is a constant (every partition reference is empty): the digest's own.
  EXPECT_EQ(ComputeEtag(""), "\"" + util::HexEncode(util::Md5("")) + "\"");
  EXPECT_EQ(ComputeEtag("hello"), "\"5d41402abc4b2a76b9719d911017c592\"");
  EXPECT_TRUE(EtagsMatch("\"abc\"", "abc"));
  EXPECT_TRUE(EtagsMatch("abc", "\"abc\""));
  EXPECT_TRUE(EtagsMatch("\"abc\"", "\"abc\""));
  EXPECT_FALSE(EtagsMatch("\"abc\"", "abd"));
  EXPECT_FALSE(EtagsMatch("\"abc\"", ""));
}

TEST(PutRules, DefaultsAndConflictingConditions) {
  PutRequest request;
  request.key = "k";
  Result<ValidatedPut> validated = ValidatePut(request, Capabilities{});
  ASSERT_TRUE(validated.ok());
  EXPECT_EQ(validated->content_type, "application/octet-stream");
  request.content_type = "text/plain\r\nX-Injected: 1";
  EXPECT_EQ(ValidatePut(request, Capabilities{}).code(), ErrorCode::kInvalidArgument);
  request.content_type = std::string(kMaxContentTypeBytes, 'x');
  EXPECT_TRUE(ValidatePut(request, Capabilities{}).ok());
  request.content_type.push_back('x');
  EXPECT_EQ(ValidatePut(request, Capabilities{}).code(), ErrorCode::kInvalidArgument);
  request.content_type.clear();
  request.if_match = "\"x\"";
  request.if_none_match_star = true;
  EXPECT_EQ(ValidatePut(request, Capabilities{}).code(), ErrorCode::kInvalidArgument);
}

TEST(PutRules, Preconditions) {
  PutRequest create;
  create.key = "k";
  create.if_none_match_star = true;
  std::string etag = "\"abc\"";
  EXPECT_TRUE(CheckPrecondition(create, nullptr).ok());
  EXPECT_EQ(CheckPrecondition(create, &etag).code(), ErrorCode::kPreconditionFailed);

  PutRequest update;
  update.key = "k";
  update.if_match = "abc";
  EXPECT_TRUE(CheckPrecondition(update, &etag).ok());
  EXPECT_EQ(CheckPrecondition(update, nullptr).code(), ErrorCode::kPreconditionFailed);
  update.if_match = "\"abd\"";
  EXPECT_EQ(CheckPrecondition(update, &etag).code(), ErrorCode::kPreconditionFailed);

  PutRequest plain;
  plain.key = "k";
  EXPECT_TRUE(CheckPrecondition(plain, &etag).ok());
  EXPECT_TRUE(CheckPrecondition(plain, nullptr).ok());
}

TEST(ListPaging, ClampsAndResolvesTokens) {
  ListRequest request;
  request.max_keys = 0;
  EXPECT_EQ(ResolveListRequest(request)->max_keys, 1);
  request.max_keys = 5000;
  EXPECT_EQ(ResolveListRequest(request)->max_keys, 1000);
  request.max_keys = -3;
  EXPECT_EQ(ResolveListRequest(request)->max_keys, 1);

  request.start_after = "b";
  request.continuation_token = EncodeContinuationToken("d/é");
  EXPECT_EQ(ResolveListRequest(request)->after, "d/é");
  request.start_after = "z";  // the larger bound wins
  EXPECT_EQ(ResolveListRequest(request)->after, "z");
}

TEST(ListPaging, RejectsMalformedTokens) {
  for (std::string token : {"garbage", "1.", "1.!!!!", "2.YQ==", "YQ==", "1.YQ", "1./w=="}) {  // "/w==" is 0xFF
    ListRequest request;
    request.continuation_token = token;
    EXPECT_EQ(ResolveListRequest(request).code(), ErrorCode::kInvalidArgument) << token;
  }
}

TEST(FileKeyCodec, GoldenPaths) {
  struct Case {
    std::string key;
    std::string path;
  };
  const std::vector<Case> cases = {
      {"a", "a^o"},
      {"a/b", "a/b^o"},
      {"a/", "a/^_^o"},
      {"/abs", "^_/abs^o"},
      {"a//b", "a/^_/b^o"},
      {"..", "^2E.^o"},
      {"../x", "^2E./x^o"},
      {"a/../../etc/passwd", "a/^2E./^2E./etc/passwd^o"},
      {".hidden", "^2Ehidden^o"},
      {"x y", "x^20y^o"},
      {"^", "^5E^o"},
      {"%2F=v", "%2F=v^o"},
      {"é", "^C3^A9^o"},
      {"resource=users/data/id=abc", "resource=users/data/id=abc^o"},
  };
  for (const Case& c : cases) EXPECT_EQ(ObjectFilePath(c.key), c.path) << c.key;
  EXPECT_EQ(DirectoryPathFor(""), "");
  EXPECT_EQ(DirectoryPathFor("a/b/"), "a/b");
  EXPECT_EQ(DirectoryPathFor("/"), "^_");
}

TEST(FileKeyCodec, LongSegmentsAreChunkedWithoutLeadingDots) {
  // A '.' lands exactly at the start of the second chunk.
  std::string segment = std::string(kMaxEscapedChunkBytes, 'a') + "." + std::string(300, 'b');
  std::vector<std::string> chunks = EscapeSegment(segment);
  ASSERT_EQ(chunks.size(), 3u);
  EXPECT_EQ(chunks[1].substr(0, 3), "^2E");
  for (const std::string& chunk : chunks) {
    EXPECT_LE(chunk.size(), kMaxEscapedChunkBytes);
    EXPECT_NE(chunk.front(), '.');
  }
  // Escapes are never cut: 100 two-byte characters are 600 escaped bytes.
  std::string wide;
  for (int i = 0; i < 100; ++i) wide += "é";
  for (const std::string& chunk : EscapeSegment(wide)) EXPECT_EQ(chunk.size() % 3, 0u);

  std::string path = ObjectFilePath("x/" + segment);
  EXPECT_EQ(path, "x/" + chunks[0] + "^+/" + chunks[1] + "^+/" + chunks[2] + "^o");
}

TEST(FileKeyCodec, DecodesWhatItEncodes) {
  auto entry = DecodeEntryName("a^20b^o", /*is_directory=*/false);
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->kind, EntryKind::kObjectFile);
  EXPECT_EQ(entry->bytes, "a b");

  entry = DecodeEntryName("^_", /*is_directory=*/true);
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->kind, EntryKind::kSegmentDirectory);
  EXPECT_EQ(entry->bytes, "");

  entry = DecodeEntryName("abc^+", /*is_directory=*/true);
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->kind, EntryKind::kChunkDirectory);
  EXPECT_EQ(entry->bytes, "abc");

  // Never produced by the encoder: temp and hidden files, foreign names, bad escapes.
  for (const char* name : {".tmp-abc", ".tmp-x^o", "README", "a^o^o", "a^2^o", "a^zz^o", "a^2e^o", "a~b^o", "^o"}) {
    EXPECT_FALSE(DecodeEntryName(name, /*is_directory=*/false)) << name;
  }
  for (const char* name : {".locks", "a^o", "a^2", "a~b", "a b", "^+", "^_^+"}) {
    EXPECT_FALSE(DecodeEntryName(name, /*is_directory=*/true)) << name;
  }
}

}  // namespace
}  // namespace s3db::store

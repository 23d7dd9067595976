#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>

#include "s3db/errors.h"
#include "util/crypto_hash.h"
#include "util/text.h"

namespace s3db::util {
namespace {

TEST(CryptoHash, KnownDigests) {
  EXPECT_EQ(HexEncode(Md5("")), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(HexEncode(Sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  // RFC 4231 test case 2.
  EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(CryptoHash, Base64RoundTripAndStrictDecode) {
  for (const std::string& s :
       std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar", std::string("\0\xff", 2)}) {
    std::string back;
    ASSERT_TRUE(Base64Decode(Base64Encode(s), &back)) << s;
    EXPECT_EQ(back, s);
  }
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  std::string out;
  EXPECT_FALSE(Base64Decode("Zm9", &out));
  EXPECT_FALSE(Base64Decode("Zm=v", &out));
  EXPECT_FALSE(Base64Decode("Zm9v\n", &out));
  // Padding bits must be zero: "Zg==" is "f", "Zh==" would be "f" too.
  EXPECT_TRUE(Base64Decode("Zg==", &out));
  EXPECT_FALSE(Base64Decode("Zh==", &out));
  EXPECT_TRUE(Base64Decode("Zm8=", &out));
  EXPECT_FALSE(Base64Decode("Zm9=", &out));
  // Exactly one spelling per value: every last character that decodes gives a value that
  // encodes back to that very text, and only 64 / 2^(padding bits) of them decode.
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (const std::string& value : {std::string("\x9c"), std::string("\x9c\x01")}) {
    const std::string canonical = Base64Encode(value);
    const size_t last = canonical.find('=') - 1;
    size_t accepted = 0;
    for (char c : alphabet) {
      std::string spelling = canonical;
      spelling[last] = c;
      if (!Base64Decode(spelling, &out)) continue;
      ++accepted;
      EXPECT_EQ(Base64Encode(out), spelling);
    }
    EXPECT_EQ(accepted, value.size() == 1 ? 4u : 16u);
  }
}

TEST(CryptoHash, RandomAlnumIsAlnumAndVaries) {
  std::string a = RandomAlnum(22), b = RandomAlnum(22);
  EXPECT_EQ(a.size(), 22u);
  EXPECT_NE(a, b);
  for (char c : a) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)));
}

TEST(CryptoHash, RandomBytesNeverRepeatAcrossAFork) {
  // Small draws come from a per-thread block; a forked child inherits a copy of it and must
  // not hand out the bytes the parent hands out next (a repeated GCM nonce breaks the key).
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) EXPECT_TRUE(seen.insert(RandomBytes(12)).second);  // the block in use
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const std::string drawn = RandomBytes(12);
    const ssize_t written = write(fds[1], drawn.data(), drawn.size());
    _exit(written == static_cast<ssize_t>(drawn.size()) ? 0 : 1);
  }
  const std::string parent = RandomBytes(12);
  std::string from_child(12, '\0');
  ASSERT_EQ(read(fds[0], from_child.data(), from_child.size()), 12);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  close(fds[0]);
  close(fds[1]);
  EXPECT_NE(parent, from_child);
  EXPECT_EQ(seen.count(from_child), 0u);
  // Large draws go to the CSPRNG directly.
  EXPECT_EQ(RandomBytes(4096).size(), 4096u);
  EXPECT_EQ(RandomBytes(0), "");
}

TEST(Text, Utf8Validation) {
  EXPECT_TRUE(IsValidUtf8("héllo 日本 😀"));
  EXPECT_FALSE(IsValidUtf8("\xc3"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // > U+10FFFF
}

TEST(Text, PercentEncoding) {
  EXPECT_EQ(PercentEncode("a b/c~é"), "a%20b%2Fc~%C3%A9");
  EXPECT_EQ(PercentEncodePath("a b/c"), "a%20b/c");
  std::string out;
  ASSERT_TRUE(PercentDecode("a%20b%2Fc~%C3%A9", &out));
  EXPECT_EQ(out, "a b/c~é");
  EXPECT_FALSE(PercentDecode("%2", &out));
  EXPECT_FALSE(PercentDecode("%zz", &out));
}

TEST(Errors, ThrowsTheTypedException) {
  EXPECT_THROW(ThrowIfError(Status(ErrorCode::kNotFound, "x")), NotFound);
  EXPECT_THROW(ThrowIfError(Status(ErrorCode::kSlowDown, "x")), StorageError);
  EXPECT_NO_THROW(ThrowIfError(Status::Ok()));
  try {
    ThrowError(ErrorCode::kAlreadyExists, "users/a exists", "users", "a");
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kAlreadyExists);
    EXPECT_EQ(e.resource(), "users");
    EXPECT_EQ(e.id(), "a");
    EXPECT_FALSE(e.retryable());
  }
  EXPECT_TRUE(Status(ErrorCode::kTimeout, "t").retryable());
  EXPECT_FALSE(Status(ErrorCode::kPreconditionFailed, "p").retryable());
}

}  // namespace
}  // namespace s3db::util

#include <ctime>

#include "util/parallel.h"
#include "util/time_format.h"

namespace s3db::util {
namespace {

TEST(TimeFormat, FormatsAndParsesIso8601) {
  EXPECT_EQ(FormatIso8601Ms(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatIso8601Ms(1709296496789), "2024-03-01T12:34:56.789Z");
  EXPECT_EQ(ParseIso8601Ms("2024-03-01T12:34:56.789Z"), 1709296496789);
  EXPECT_EQ(ParseIso8601Ms("2024-03-01T13:34:56.789+01:00"), 1709296496789);
  EXPECT_EQ(ParseIso8601Ms("1970-01-02"), 86400000);
  EXPECT_EQ(ParseIso8601Ms("1969-12-31"), -86400000);
  EXPECT_FALSE(ParseIso8601Ms("2023-02-29"));
  EXPECT_FALSE(ParseIso8601Ms("2024-03-01T12:34:56"));  // no zone
  EXPECT_FALSE(ParseIso8601Ms("2024-13-01"));
  EXPECT_FALSE(ParseIso8601Ms("hello"));
  for (int64_t ms : {int64_t{0}, int64_t{1}, int64_t{-1}, int64_t{951782400123}, int64_t{4102444800000}}) {
    EXPECT_EQ(ParseIso8601Ms(FormatIso8601Ms(ms)), ms);
  }
}

// The hand-written digits against the C library's own calendar (gmtime_r), across the
// whole four-digit range and at the edges where the fallback takes over.
TEST(TimeFormat, FormatsLikeTheCLibrary) {
  auto reference = [](int64_t ms) {
    const int64_t floor_s = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
    const time_t seconds = static_cast<time_t>(floor_s);
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms - floor_s * 1000));
    return std::string(buf);
  };
  std::vector<int64_t> cases = {0,
                                1,
                                -1,
                                999,
                                -999,
                                86399999,
                                951782400123,
                                4102444800000,
                                -62167219200000,
                                253402300799999,
                                -62167219200001,
                                253402300800000};
  for (int64_t ms = -62167219200000; ms <= 253402300799999; ms += 7777777777777) cases.push_back(ms);
  for (int64_t ms : cases) EXPECT_EQ(FormatIso8601Ms(ms), reference(ms)) << ms;
}

TEST(TimeFormat, CanonicalIsExactlyWhatFormatWrites) {
  for (int64_t ms = -62167219200000; ms <= 253402300799999; ms += 3333333333331) {
    EXPECT_TRUE(IsCanonicalIso8601Ms(FormatIso8601Ms(ms))) << ms;
  }
  EXPECT_TRUE(IsCanonicalIso8601Ms("0000-01-01T00:00:00.000Z"));
  EXPECT_TRUE(IsCanonicalIso8601Ms("2024-02-29T23:59:59.999Z"));
  for (const char* other :
       {"2023-02-29T00:00:00.000Z", "2024-03-01T24:00:00.000Z", "2024-03-01T12:60:00.000Z", "2024-13-01T00:00:00.000Z",
        "2024-03-01t12:34:56.789Z", "2024-03-01T12:34:56.789z", "2024-03-01T12:34:56Z", "2024-03-01T12:34:56.7890Z",
        "2024-03-01T12:34:56.789+00:00", "2024-03-01", "+2024-03-01T12:34:56.789Z", "2024-03-01 12:34:56.789Z", ""}) {
    EXPECT_FALSE(IsCanonicalIso8601Ms(other)) << other;
    EXPECT_EQ(ParseCanonicalIso8601Ms(other), std::nullopt) << other;
  }
  // The canonical parse gives the instant the general one does.
  for (int64_t ms = -62167219200000; ms <= 253402300799999; ms += 3333333333331) {
    EXPECT_EQ(ParseCanonicalIso8601Ms(FormatIso8601Ms(ms)), ms) << ms;
  }
  EXPECT_EQ(ParseCanonicalIso8601Ms("2024-02-29T23:59:59.999Z"), ParseIso8601Ms("2024-02-29T23:59:59.999Z"));
}

TEST(Parallel, VisitsEveryIndexOnce) {
  std::vector<std::atomic<int>> hits(1000);
  ParallelFor(hits.size(), 7, [&](size_t i) { hits[i]++; });
  for (auto& h : hits) EXPECT_EQ(h.load(), 1);
}

}  // namespace
}  // namespace s3db::util

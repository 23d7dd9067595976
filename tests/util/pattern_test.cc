// util::Pattern, the linear-time matcher behind schema `pattern` rules. Lives with the core
// tests because the schema is its only user.
#include "util/pattern.h"

#include <gtest/gtest.h>

#include <string>

namespace s3db::util {
namespace {

bool Matches(const std::string& pattern, const std::string& text, bool ignore_case = false) {
  Result<Pattern> p = Pattern::Compile(pattern, Pattern::Options{ignore_case});
  EXPECT_TRUE(p.ok()) << pattern << ": " << p.status().message();
  return p.ok() && p->Search(text);
}

std::string CompileError(const std::string& pattern) {
  Result<Pattern> p = Pattern::Compile(pattern);
  return p.ok() ? "" : p.status().message();
}

TEST(Pattern, SeedPhonePattern) {
  // From the seeds: mobile: "string|pattern:^\\+?[1-9]\\d{1,14}$|optional".
  const std::string phone = R"(^\+?[1-9]\d{1,14}$)";
  EXPECT_TRUE(Matches(phone, "+1234567890"));
  EXPECT_TRUE(Matches(phone, "1987654321"));
  EXPECT_TRUE(Matches(phone, "12"));
  EXPECT_FALSE(Matches(phone, "1"));
  EXPECT_FALSE(Matches(phone, "+0123"));
  EXPECT_FALSE(Matches(phone, "+1234567890123456"));  // 16 digits
  EXPECT_FALSE(Matches(phone, "+12 345"));
  EXPECT_FALSE(Matches(phone, ""));
}

TEST(Pattern, SearchIsUnanchoredLikeRegExpTest) {
  EXPECT_TRUE(Matches("b", "abc"));
  EXPECT_FALSE(Matches("^b", "abc"));
  EXPECT_TRUE(Matches("c$", "abc"));
  EXPECT_FALSE(Matches("b$", "abc"));
  EXPECT_TRUE(Matches("", "anything"));
  EXPECT_TRUE(Matches("^$", ""));
}

TEST(Pattern, AlternationGroupsAndQuantifiers) {
  EXPECT_TRUE(Matches("^(cat|dog)s?$", "dogs"));
  EXPECT_FALSE(Matches("^(cat|dog)s?$", "cow"));
  EXPECT_TRUE(Matches("^(?:ab)+$", "ababab"));
  EXPECT_FALSE(Matches("^(?:ab)+$", "ababa"));
  EXPECT_TRUE(Matches("^a{3}$", "aaa"));
  EXPECT_FALSE(Matches("^a{3}$", "aaaa"));
  EXPECT_TRUE(Matches("^a{2,}$", "aaaaa"));
  EXPECT_FALSE(Matches("^a{2,}$", "a"));
  EXPECT_TRUE(Matches("^a{0,2}b$", "b"));
  EXPECT_FALSE(Matches("^a{0,2}b$", "aaab"));
  EXPECT_TRUE(Matches("^a*?b+?$", "aab"));  // lazy quantifiers
  EXPECT_TRUE(Matches("^(?<year>\\d{4})-\\d{2}$", "2024-06"));
  EXPECT_TRUE(Matches("^x|y$", "xz"));  // alternation binds loosest
  EXPECT_TRUE(Matches("^(|a)b$", "b"));
}

TEST(Pattern, ClassesAndEscapes) {
  EXPECT_TRUE(Matches("^[a-z0-9_-]+$", "snake_case-1"));
  EXPECT_FALSE(Matches("^[a-z]+$", "Upper"));
  EXPECT_TRUE(Matches("^[^0-9]+$", "abc"));
  EXPECT_FALSE(Matches("^[^0-9]+$", "a1"));
  EXPECT_TRUE(Matches("^\\w+@\\w+\\.\\w+$", "ada@example.com"));
  EXPECT_TRUE(Matches("^\\S+\\s\\S+$", "two words"));
  EXPECT_FALSE(Matches("^\\D+$", "a1"));
  EXPECT_TRUE(Matches("^[\\d.]+$", "3.14"));
  EXPECT_TRUE(Matches("^[\\]\\-]+$", "]-]"));
  EXPECT_TRUE(Matches("^[-a]+$", "-a-"));
  EXPECT_TRUE(Matches("^\\x41\\u0042\\u{43}$", "ABC"));
  EXPECT_TRUE(Matches("^a\\.b$", "a.b"));
  EXPECT_FALSE(Matches("^a\\.b$", "axb"));
  EXPECT_TRUE(Matches("^a.b$", "axb"));
  EXPECT_FALSE(Matches("^a.b$", "a\nb"));  // '.' stops at line terminators
  EXPECT_TRUE(Matches("^\\t$", "\t"));
  EXPECT_TRUE(Matches("^a{$", "a{"));  // a brace that is no quantifier is literal
  EXPECT_TRUE(Matches("^a{1,x}$", "a{1,x}"));
  EXPECT_FALSE(Matches("^[]]$", "]"));  // "[]" is the empty class, then "]"
  EXPECT_TRUE(Matches("\\bword\\b", "a word here"));
  EXPECT_FALSE(Matches("\\bword\\b", "swordfish"));
  EXPECT_TRUE(Matches("\\Bor\\B", "sword"));
}

TEST(Pattern, CodePointsNotBytes) {
  EXPECT_TRUE(Matches("^.{3}$", "Olá"));
  EXPECT_TRUE(Matches("^.$", "😀"));
  EXPECT_TRUE(Matches("^[à-ÿ]+$", "éàü"));
  EXPECT_TRUE(Matches("^日本$", "日本"));
}

TEST(Pattern, IgnoreCase) {
  EXPECT_TRUE(Matches("^hello$", "HeLLo", true));
  EXPECT_FALSE(Matches("^hello$", "HeLLo", false));
  EXPECT_TRUE(Matches("^[a-z]+$", "ABC", true));
  EXPECT_TRUE(Matches("^[A-Z]+$", "abc", true));
  EXPECT_TRUE(Matches("^ÉCOLE$", "école", true));
  EXPECT_TRUE(Matches("^привет$", "ПРИВЕТ", true));
  EXPECT_FALSE(Matches("^[^a]$", "A", true));
}

TEST(Pattern, RefusesWhatNeedsBacktrackingAndBadSyntax) {
  EXPECT_NE(CompileError("(a)\\1").find("backreferences"), std::string::npos);
  EXPECT_NE(CompileError("a(?=b)").find("lookaround"), std::string::npos);
  EXPECT_NE(CompileError("a(?!b)").find("lookaround"), std::string::npos);
  EXPECT_NE(CompileError("(?<=a)b").find("lookaround"), std::string::npos);
  EXPECT_NE(CompileError("(a").find("missing ')'"), std::string::npos);
  EXPECT_NE(CompileError("a)").find("unmatched ')'"), std::string::npos);
  EXPECT_NE(CompileError("[a").find("missing ']'"), std::string::npos);
  EXPECT_NE(CompileError("*a").find("nothing to repeat"), std::string::npos);
  EXPECT_NE(CompileError("a**").find("nothing to repeat"), std::string::npos);
  EXPECT_NE(CompileError("[z-a]").find("out of order"), std::string::npos);
  EXPECT_NE(CompileError("a{3,1}").find("out of order"), std::string::npos);
  EXPECT_NE(CompileError("a{2000}").find("above 1000"), std::string::npos);
  EXPECT_NE(CompileError("\\q").find("unknown escape"), std::string::npos);
  EXPECT_NE(CompileError("\\p{L}").find("unknown escape"), std::string::npos);
  EXPECT_NE(CompileError("a\\").find("end of the pattern"), std::string::npos);
  EXPECT_NE(CompileError("(a{1000}){1000}").find("too large"), std::string::npos);
  EXPECT_NE(CompileError(std::string(150, '(') + std::string(150, ')')).find("nested"), std::string::npos);
}

TEST(Pattern, LongInputsAndPathologicalPatternsStayLinear) {
  // std::regex overflows the stack on the first of these and takes exponential time on the
  // second; both finish at once here.
  const std::string long_text(1 << 20, 'a');
  EXPECT_TRUE(Matches("^[a-z ]*$", long_text));
  EXPECT_FALSE(Matches("^(a+)+b$", std::string(5000, 'a')));
  EXPECT_FALSE(Matches("^(a|a)*c$", std::string(5000, 'a')));
  EXPECT_TRUE(Matches("(x*)*y", std::string(2000, 'x') + "y"));
}

// Where ECMAScript and RE2 differ, pattern.cc spells ECMAScript's meaning out for RE2.
TEST(Pattern, EcmaScriptMeaningsSurviveTheTranslationToRe2) {
  EXPECT_TRUE(Matches("^\\s\\s\\s$", "\u00a0\u2028\ufeff"));  // RE2's \s is ASCII only
  EXPECT_FALSE(Matches("^\\S$", "\u3000"));
  EXPECT_FALSE(Matches("^a.b$", "a\rb"));
  EXPECT_FALSE(Matches("^a.b$", "a\u2029b"));
  EXPECT_FALSE(Matches("[]", "a"));  // RE2 would read "[]" as the start of a class
  EXPECT_TRUE(Matches("^[^]$", "\n"));
  EXPECT_TRUE(Matches("^a]}\\/$", "a]}/"));
  EXPECT_TRUE(Matches("^a\\0b$", std::string("a\0b", 3)));
  EXPECT_TRUE(Matches("^\\cJ\\u{1F600}$", "\n😀"));
  // RE2 tests \B between bytes; between the bytes of "ü" both sides are non-word.
  EXPECT_FALSE(Matches("\\B", "aüa"));
  EXPECT_TRUE(Matches("a\\Bb", "xab"));
  // Under ignore_case \W still matches no ASCII letter (RE2 folds \w before negating it).
  EXPECT_FALSE(Matches("^\\W$", "k", true));
  EXPECT_FALSE(Matches("^[\\W]$", "s", true));
  EXPECT_TRUE(Matches("^[^\\W]+$", "Ks", true));
  EXPECT_TRUE(Matches("^\\W+$", "-é", true));
  // Unicode simple case folding (RE2's tables): final sigma, Latin Extended.
  EXPECT_TRUE(Matches("^σ$", "ς", true));
  EXPECT_TRUE(Matches("^ŁÓDŹ$", "łódź", true));
}

// RE2 refuses counts nested past a product of 1000; pattern.cc writes the outer one out.
TEST(Pattern, NestedCountsWithinTheStepBoundCompile) {
  EXPECT_TRUE(Matches("^(a{30}){40}$", std::string(1200, 'a')));
  EXPECT_FALSE(Matches("^(a{30}){40}$", std::string(1199, 'a')));
  const std::string domain = R"(^([a-z0-9-]{1,63}\.){1,127}[a-z]{2,63}$)";
  EXPECT_TRUE(Matches(domain, "www.example.com"));
  EXPECT_FALSE(Matches(domain, "www..example.com"));
  EXPECT_TRUE(Matches("^((x{2}){2}){300}$", std::string(1200, 'x')));
}

TEST(Pattern, InvalidUtf8CountsAsReplacementCharacter) {
  EXPECT_TRUE(Matches("^a.b$", std::string("a\xFF"
                                           "b")));
  EXPECT_TRUE(Matches("^.{2}$", std::string("\xE2\x82")));  // truncated sequence: two U+FFFD
}

}  // namespace
}  // namespace s3db::util

// The ECMAScript regular expression syntax of schema `pattern` rules, parsed into a small
// tree that pattern.cc writes out for RE2. Every refusal happens here, as kInvalidArgument
// naming the fault and its offset (in code points) in the source: what needs backtracking
// (backreferences, lookaround), malformed syntax, counts above kMaxRepeat, groups nested
// deeper than kMaxDepth. Internal to util::Pattern; calls only the standard library.
//
// May call: the standard library, OpenSSL, RE2 and s3db/errors.h; nothing else of s3db.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

#include "s3db/errors.h"

namespace s3db::util::pattern_syntax {

inline constexpr char32_t kMaxCodePoint = 0x10FFFF;
inline constexpr char32_t kReplacement = 0xFFFD;
inline constexpr int kMaxRepeat = 1000;
inline constexpr int kMaxDepth = 100;

struct Range {
  char32_t lo, hi;
};

struct CharClass {
  std::vector<Range> ranges;  // sorted, merged
  bool negated = false;
  bool not_word = false;  // holds \W, kept apart for RE2's case folding (see pattern.cc)
};

struct Node {
  enum class Kind { kEmpty, kChar, kAny, kClass, kConcat, kAlt, kRepeat, kBol, kEol, kWordBoundary, kNotWordBoundary };
  Kind kind = Kind::kEmpty;
  char32_t ch = 0;
  int cls = 0;
  int min = 0, max = 0;  // kRepeat; max < 0: unbounded
  std::vector<std::unique_ptr<Node>> kids;
};

using NodePtr = std::unique_ptr<Node>;

struct Tree {
  NodePtr root;
  std::vector<CharClass> classes;  // Node::cls indexes these
};

Result<Tree> Parse(std::string_view source);

// Decodes one UTF-8 sequence at s[*i] and moves *i past it; malformed bytes become U+FFFD
// one at a time.
char32_t NextCodePoint(std::string_view s, size_t* i);

}  // namespace s3db::util::pattern_syntax

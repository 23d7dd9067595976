// Pattern: the regular expressions of schema `pattern` rules, matched in linear time.
//
// The syntax is ECMAScript's (what the seeds' rules are written in) minus the parts that
// need backtracking: backreferences (\1) and lookaround ((?=..), (?!..), (?<=..), (?<!..))
// are refused at compile time with a message that says so. Matching is a Pike VM over the
// input's code points: time O(input length x pattern size), memory O(pattern size), no
// recursion on the input. std::regex backtracks recursively and overflows the stack on a
// 100 KB string; a database validates whatever a client sends, so that is not an option.
//
// Supported: literals, `.`, classes `[a-z]` `[^...]` with `\d \w \s \D \W \S` inside and out,
// escapes `\t \n \r \f \v \0 \xHH \uHHHH \u{H..} \cX` and escaped punctuation, groups `(..)`
// `(?:..)` `(?<name>..)`, alternation, quantifiers `* + ? {n} {n,} {n,m}` (greedy or lazy:
// the same for a yes/no match), anchors `^ $ \b \B`. `{` that does not start a quantifier
// is a literal, as in browsers. With ignore_case, letters fold case in ASCII, Latin-1, Greek
// and Cyrillic.
//
// Thread-safety: a compiled Pattern is immutable; Search may run on many threads at once.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "s3db/errors.h"

namespace s3db::util {

class Pattern {
 public:
  struct Options {
    bool ignore_case = false;
  };

  // kInvalidArgument naming the fault and its offset in `source`.
  static Result<Pattern> Compile(std::string_view source, Options options);
  static Result<Pattern> Compile(std::string_view source) { return Compile(source, Options{}); }

  // True when the pattern matches somewhere in `text` (JavaScript's RegExp.test). Invalid
  // UTF-8 bytes count as U+FFFD.
  bool Search(std::string_view text) const;

  const std::string& source() const { return source_; }

  // Upper bound on compiled instructions (counted repetitions are expanded): keeps a
  // pattern such as (a{1000}){1000} from costing gigabytes.
  static constexpr size_t kMaxProgramSize = 20000;

  struct Program;  // defined in pattern.cc

 private:
  Pattern() = default;

  std::string source_;
  std::shared_ptr<const Program> program_;
};

}  // namespace s3db::util

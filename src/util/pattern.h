// Pattern: the regular expressions of schema `pattern` rules, matched in linear time.
//
// The syntax is ECMAScript's (what the seeds' rules are written in) minus the parts that
// need backtracking: backreferences (\1) and lookaround ((?=..), (?!..), (?<=..), (?<!..))
// are refused at compile time with a message that says so. pattern_syntax.h parses that
// syntax (so refusals name the fault and its offset in the source); pattern.cc hands RE2 the
// same expression in RE2 syntax, with ECMAScript's meaning spelled out where the two differ
// (`.`, `\s`, `[]`, `[^]`, escapes, `\B` inside a multi-byte character).
//
// Why RE2: a database validates whatever a client sends, so matching must not backtrack.
// std::regex recurses on the input and overflows the stack on a 100 KB string, and takes
// exponential time on (a+)+b. RE2 guarantees time linear in the input and bounded memory,
// is maintained by others (Debian's libre2), and runs a cached DFA: faster per check than
// the Pike VM this file used to carry.
//
// Supported: literals, `.`, classes `[a-z]` `[^...]` with `\d \w \s \D \W \S` inside and out,
// escapes `\t \n \r \f \v \0 \xHH \uHHHH \u{H..} \cX` and escaped punctuation, groups `(..)`
// `(?:..)` `(?<name>..)`, alternation, quantifiers `* + ? {n} {n,} {n,m}` (greedy or lazy:
// the same for a yes/no match), anchors `^ $ \b \B` (`^` and `$` at the ends of the text:
// no multiline flag). `{` that does not start a quantifier is a literal, as in browsers.
// With ignore_case, letters fold by Unicode's simple case folding (RE2's tables).
//
// Thread-safety: a compiled Pattern is immutable; Search may run on many threads at once.
//
// May call: the standard library, OpenSSL, RE2 and s3db/errors.h; nothing else of s3db.
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

  // Upper bound on the steps of a pattern once counted repetitions are expanded (a literal,
  // class or anchor is one step; see Steps in pattern.cc): keeps a pattern such as
  // (a{1000}){1000} from costing gigabytes.
  static constexpr size_t kMaxProgramSize = 20000;

  struct Program;  // defined in pattern.cc: the compiled RE2

 private:
  Pattern() = default;

  std::string source_;
  std::shared_ptr<const Program> program_;
};

}  // namespace s3db::util

// Schema `pattern` rules on RE2. pattern_syntax.cc parses the ECMAScript source into a small
// tree (the refusals and their offsets are ours, not RE2's); this file writes the tree out in
// RE2 syntax with every place where the two dialects differ spelled out (`.` and `\s` get
// ECMAScript's sets, classes become explicit code point ranges, groups do not capture) and
// compiles it.
#include "util/pattern.h"

#include <re2/re2.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "util/pattern_syntax.h"
#include "util/text.h"

namespace s3db::util {

namespace {

using pattern_syntax::CharClass;
using pattern_syntax::Node;
using pattern_syntax::Range;

// What a tree costs once counted repetitions are expanded, in the steps kMaxProgramSize
// bounds: one per literal, class or anchor, two per alternative or loop. These are the
// instructions the Pike VM before RE2 compiled, so the same patterns stay accepted; the
// count saturates just past the limit.
constexpr size_t kStepCap = Pattern::kMaxProgramSize + 1;

size_t AddSteps(size_t a, size_t b) { return std::min(a + b, kStepCap); }
size_t MulSteps(size_t a, size_t b) { return b != 0 && a > kStepCap / b ? kStepCap : std::min(a * b, kStepCap); }

size_t Steps(const Node& n) {
  switch (n.kind) {
    case Node::Kind::kEmpty:
      return 0;
    case Node::Kind::kConcat:
    case Node::Kind::kAlt: {
      size_t total = n.kind == Node::Kind::kAlt ? MulSteps(2, n.kids.size() - 1) : 0;
      for (const auto& k : n.kids) total = AddSteps(total, Steps(*k));
      return total;
    }
    case Node::Kind::kRepeat: {
      const size_t body = Steps(*n.kids[0]);
      const size_t rest =
          n.max < 0 ? AddSteps(body, 2) : MulSteps(static_cast<size_t>(n.max - n.min), AddSteps(body, 1));
      return AddSteps(MulSteps(static_cast<size_t>(n.min), body), rest);
    }
    default:
      return 1;
  }
}

// Writes a tree in RE2 syntax. Characters go out as \x{H} (or bare when alphanumeric), so the
// text is ASCII and no character means anything special to RE2 by accident.
class Re2Writer {
 public:
  explicit Re2Writer(const std::vector<CharClass>& classes) : classes_(classes) {}

  // RE2 refuses counted repetitions nested so that their counts multiply past 1000
  // ((a{30}){40}), which the steps bound allows; such an outer count is written out as
  // copies (a{30}a{30}...), which is how the old VM compiled it anyway. Copies stop at
  // kMaxText characters of RE2 syntax: too_large() then says so.
  static constexpr int kMaxCountProduct = 1000;
  static constexpr size_t kMaxText = 1 << 20;

  // Returns the largest product of counts along a path in what it wrote (RE2's measure).
  int Write(const Node& n, std::string* out) {
    switch (n.kind) {
      case Node::Kind::kEmpty:
        return 1;
      case Node::Kind::kChar:
        AppendChar(n.ch, out);
        return 1;
      case Node::Kind::kAny:
        *out += R"([^\x{a}\x{d}\x{2028}\x{2029}])";  // ECMAScript's '.' stops at line terminators
        return 1;
      case Node::Kind::kClass:
        AppendClass(classes_[static_cast<size_t>(n.cls)], out);
        return 1;
      case Node::Kind::kBol:
        *out += '^';  // start of text: RE2 is not in multi-line mode
        return 1;
      case Node::Kind::kEol:
        *out += '$';  // end of text only, like \z
        return 1;
      case Node::Kind::kWordBoundary:
        *out += R"(\b)";  // ASCII word characters in both dialects
        return 1;
      case Node::Kind::kNotWordBoundary:
        *out += R"(\B)";
        wrote_not_word_boundary_ = true;
        return 1;
      case Node::Kind::kConcat:
      case Node::Kind::kAlt: {
        const bool alt = n.kind == Node::Kind::kAlt;
        if (alt) *out += "(?:";
        int product = 1;
        for (size_t i = 0; i < n.kids.size(); ++i) {
          if (alt && i > 0) *out += '|';
          product = std::max(product, Write(*n.kids[i], out));
        }
        if (alt) *out += ')';
        return product;
      }
      case Node::Kind::kRepeat:
        return WriteRepeat(n, out);
    }
    return 1;
  }

  bool too_large() const { return too_large_; }
  // RE2 tests \B between bytes, so it holds inside a multi-byte character (both sides are
  // non-word bytes). The pattern reaches such a place only when a search starts there, with
  // nothing but empty matches before the \B; the caller then starts searches at characters.
  bool wrote_not_word_boundary() const { return wrote_not_word_boundary_; }

 private:
  int WriteRepeat(const Node& n, std::string* out) {
    std::string body = "(?:";
    const int inner = Write(*n.kids[0], &body);
    body += ')';
    const int count = std::max(n.max < 0 ? n.min : n.max, 1);
    if (inner * count <= kMaxCountProduct) {
      *out += body;
      *out += '{' + std::to_string(n.min) + (n.max == n.min ? "" : ",") + (n.max > n.min ? std::to_string(n.max) : "") +
              '}';
      return inner * count;
    }
    const size_t copies = static_cast<size_t>(n.max < 0 ? n.min + 1 : n.max);
    if (out->size() + copies * (body.size() + 1) > kMaxText) {
      too_large_ = true;
      return inner;
    }
    for (int i = 0; i < n.min; ++i) *out += body;
    if (n.max < 0) {
      *out += body + '*';
    } else {
      for (int i = n.min; i < n.max; ++i) *out += body + '?';
    }
    return inner;
  }

  static void AppendChar(char32_t c, std::string* out) {
    if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) {
      out->push_back(static_cast<char>(c));
      return;
    }
    char hex[8];
    const auto end = std::to_chars(hex, hex + sizeof hex, static_cast<uint32_t>(c), 16).ptr;
    *out += R"(\x{)";
    out->append(hex, end);
    *out += '}';
  }

  // Explicit ranges, so \s and the complements \D \S mean what ECMAScript says. \W stays
  // RE2's own: under ignore_case RE2 folds \w before negating it, whereas an explicit
  // complement of \w holds K (U+212A), which folds to k and would let k match \W.
  static void AppendClass(const CharClass& cls, std::string* out) {
    if (cls.ranges.empty() && !cls.not_word) {  // [] matches nothing, [^] anything
      *out += cls.negated ? R"([\x{0}-\x{10ffff}])" : R"([^\x{0}-\x{10ffff}])";
      return;
    }
    *out += cls.negated ? "[^" : "[";
    if (cls.not_word) *out += R"(\W)";
    for (const Range& r : cls.ranges) {
      AppendChar(r.lo, out);
      if (r.hi == r.lo) continue;
      *out += '-';
      AppendChar(r.hi, out);
    }
    *out += ']';
  }

  const std::vector<CharClass>& classes_;
  bool too_large_ = false;
  bool wrote_not_word_boundary_ = false;
};

// Invalid UTF-8 bytes become U+FFFD one at a time, as ECMAScript sees a lossy decoding.
std::string ReplaceInvalidUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 16);
  for (size_t i = 0; i < s.size();) {
    const size_t start = i;
    const char32_t c = pattern_syntax::NextCodePoint(s, &i);
    if (c == pattern_syntax::kReplacement && i - start == 1) {
      out += "\xEF\xBF\xBD";
    } else {
      out.append(s, start, i - start);
    }
  }
  return out;
}

Status TooLarge() {
  return Status(ErrorCode::kInvalidArgument, "the pattern is too large once its repetitions are expanded (more than " +
                                                 std::to_string(Pattern::kMaxProgramSize) + " steps)");
}

}  // namespace

struct Pattern::Program {
  Program(const std::string& re2_source, const RE2::Options& options) : re(re2_source, options) {}
  RE2 re;
};

Result<Pattern> Pattern::Compile(std::string_view source, Options options) {
  Result<pattern_syntax::Tree> tree = pattern_syntax::Parse(source);
  if (!tree.ok()) return tree.status();
  if (Steps(*tree->root) + 1 > kMaxProgramSize) return TooLarge();  // + 1: the old VM's final Match
  Re2Writer writer(tree->classes);
  std::string re2_source;
  writer.Write(*tree->root, &re2_source);
  if (writer.too_large()) return TooLarge();
  // Anchored, skipping whole characters: a search that only starts between characters.
  if (writer.wrote_not_word_boundary()) re2_source = R"(\A(?s:.)*?)" + re2_source;

  RE2::Options re2_options;
  re2_options.set_log_errors(false);
  re2_options.set_case_sensitive(!options.ignore_case);
  // max_mem stays RE2's default (8 MiB): it bounds the compiled program, past which the
  // pattern is refused as too large, and the DFA cache, past which a search falls back to
  // RE2's NFA (slower, still linear).
  auto program = std::make_shared<const Program>(re2_source, re2_options);
  if (!program->re.ok()) {
    if (program->re.error_code() == RE2::ErrorPatternTooLarge) return TooLarge();
    // Anything else is a gap in the translation above, not a fault of the source.
    return Status(ErrorCode::kInternal, "RE2 refused the translated pattern: " + program->re.error());
  }
  Pattern p;
  p.source_ = std::string(source);
  p.program_ = std::move(program);
  return p;
}

bool Pattern::Search(std::string_view text) const {
  // PartialMatch is a search anywhere in the text, like RegExp.test.
  if (IsValidUtf8(text)) return RE2::PartialMatch(text, program_->re);
  return RE2::PartialMatch(ReplaceInvalidUtf8(text), program_->re);
}

}  // namespace s3db::util

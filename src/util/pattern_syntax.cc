#include "util/pattern_syntax.h"

#include <algorithm>
#include <string>
#include <utility>

namespace s3db::util::pattern_syntax {

char32_t NextCodePoint(std::string_view s, size_t* i) {
  const auto b0 = static_cast<unsigned char>(s[*i]);
  size_t need = 0;
  char32_t cp = 0;
  if (b0 < 0x80) {
    ++*i;
    return b0;
  } else if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 1, cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 2, cp = b0 & 0x0F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 3, cp = b0 & 0x07;
  } else {
    ++*i;
    return kReplacement;
  }
  if (*i + need >= s.size()) {
    ++*i;
    return kReplacement;
  }
  for (size_t k = 1; k <= need; ++k) {
    const auto b = static_cast<unsigned char>(s[*i + k]);
    if ((b & 0xC0) != 0x80) {
      ++*i;
      return kReplacement;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  const bool overlong = (need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000);
  if (overlong || cp > kMaxCodePoint || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++*i;
    return kReplacement;
  }
  *i += need + 1;
  return cp;
}

namespace {

std::vector<char32_t> Decode(std::string_view s) {
  std::vector<char32_t> out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) out.push_back(NextCodePoint(s, &i));
  return out;
}

void Normalize(std::vector<Range>* ranges) {
  std::sort(ranges->begin(), ranges->end(), [](const Range& a, const Range& b) { return a.lo < b.lo; });
  std::vector<Range> merged;
  for (const Range& r : *ranges) {
    if (!merged.empty() && r.lo <= merged.back().hi + 1) {
      merged.back().hi = std::max(merged.back().hi, r.hi);
    } else {
      merged.push_back(r);
    }
  }
  *ranges = std::move(merged);
}

std::vector<Range> Complement(std::vector<Range> ranges) {
  Normalize(&ranges);
  std::vector<Range> out;
  char32_t next = 0;
  for (const Range& r : ranges) {
    if (r.lo > next) out.push_back({next, r.lo - 1});
    next = r.hi + 1;
  }
  if (next <= kMaxCodePoint) out.push_back({next, kMaxCodePoint});
  return out;
}

std::vector<Range> DigitRanges() { return {{'0', '9'}}; }
std::vector<Range> WordRanges() { return {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}}; }
std::vector<Range> SpaceRanges() {
  return {{'\t', '\r'},     {' ', ' '},       {0xA0, 0xA0},     {0x1680, 0x1680}, {0x2000, 0x200A},
          {0x2028, 0x2029}, {0x202F, 0x202F}, {0x205F, 0x205F}, {0x3000, 0x3000}, {0xFEFF, 0xFEFF}};
}

NodePtr Make(Node::Kind kind) {
  auto n = std::make_unique<Node>();
  n->kind = kind;
  return n;
}

// Recursive descent over the source's code points; keeps the first fault with its offset.
class Parser {
 public:
  Parser(std::string_view source, std::vector<CharClass>* classes) : cps_(Decode(source)), classes_(classes) {}

  Result<NodePtr> Parse() {
    NodePtr root = Alternation(0);
    if (error_.empty() && pos_ < cps_.size()) Fail("unmatched ')'");
    if (!error_.empty()) return Status(ErrorCode::kInvalidArgument, error_);
    return root;
  }

 private:
  bool AtEnd() const { return pos_ >= cps_.size(); }
  char32_t Peek(size_t ahead = 0) const { return pos_ + ahead < cps_.size() ? cps_[pos_ + ahead] : 0; }

  void Fail(const std::string& what) {
    if (error_.empty()) error_ = what + " at offset " + std::to_string(pos_);
  }

  NodePtr Alternation(int depth) {
    if (depth > kMaxDepth) {
      Fail("groups nested more than " + std::to_string(kMaxDepth) + " deep");
      return Make(Node::Kind::kEmpty);
    }
    NodePtr first = Sequence(depth);
    if (AtEnd() || Peek() != '|') return first;
    NodePtr alt = Make(Node::Kind::kAlt);
    alt->kids.push_back(std::move(first));
    while (error_.empty() && !AtEnd() && Peek() == '|') {
      ++pos_;
      alt->kids.push_back(Sequence(depth));
    }
    return alt;
  }

  NodePtr Sequence(int depth) {
    NodePtr seq = Make(Node::Kind::kConcat);
    while (error_.empty() && !AtEnd() && Peek() != '|' && Peek() != ')') {
      NodePtr atom = Term(depth);
      if (!error_.empty()) break;
      seq->kids.push_back(std::move(atom));
    }
    return seq;
  }

  NodePtr Term(int depth) {
    const char32_t c = Peek();
    if (c == '^') {
      ++pos_;
      return Make(Node::Kind::kBol);
    }
    if (c == '$') {
      ++pos_;
      return Make(Node::Kind::kEol);
    }
    if (c == '\\' && (Peek(1) == 'b' || Peek(1) == 'B')) {
      const bool boundary = Peek(1) == 'b';
      pos_ += 2;
      return Make(boundary ? Node::Kind::kWordBoundary : Node::Kind::kNotWordBoundary);
    }
    if (c == '*' || c == '+' || c == '?' || (c == '{' && QuantifierAhead())) {
      Fail("nothing to repeat");
      return nullptr;
    }
    NodePtr atom = Atom(depth);
    if (!error_.empty()) return nullptr;
    return Quantified(std::move(atom));
  }

  // "{n}", "{n,}" or "{n,m}" starts here; anything else after '{' is a literal brace.
  bool QuantifierAhead() const {
    size_t i = pos_ + 1;
    size_t digits = 0;
    while (i < cps_.size() && cps_[i] >= '0' && cps_[i] <= '9') ++i, ++digits;
    if (digits == 0) return false;
    if (i < cps_.size() && cps_[i] == '}') return true;
    if (i >= cps_.size() || cps_[i] != ',') return false;
    ++i;
    while (i < cps_.size() && cps_[i] >= '0' && cps_[i] <= '9') ++i;
    return i < cps_.size() && cps_[i] == '}';
  }

  int Number() {
    long v = 0;
    while (!AtEnd() && Peek() >= '0' && Peek() <= '9') {
      v = std::min<long>(v * 10 + (Peek() - '0'), 1000000);
      ++pos_;
    }
    return static_cast<int>(v);
  }

  NodePtr Quantified(NodePtr atom) {
    if (AtEnd()) return atom;
    int min = 0, max = 0;
    const char32_t c = Peek();
    if (c == '*') {
      min = 0, max = -1, ++pos_;
    } else if (c == '+') {
      min = 1, max = -1, ++pos_;
    } else if (c == '?') {
      min = 0, max = 1, ++pos_;
    } else if (c == '{' && QuantifierAhead()) {
      ++pos_;
      min = Number();
      max = min;
      if (Peek() == ',') {
        ++pos_;
        max = Peek() == '}' ? -1 : Number();
      }
      ++pos_;  // '}'
      if (min > kMaxRepeat || max > kMaxRepeat) {
        Fail("repetition count above " + std::to_string(kMaxRepeat));
        return nullptr;
      }
      if (max >= 0 && max < min) {
        Fail("repetition {" + std::to_string(min) + "," + std::to_string(max) + "} is out of order");
        return nullptr;
      }
    } else {
      return atom;
    }
    if (!AtEnd() && Peek() == '?') ++pos_;  // lazy: same yes/no answer
    if (!AtEnd() && (Peek() == '*' || Peek() == '+' || Peek() == '?' || (Peek() == '{' && QuantifierAhead()))) {
      Fail("nothing to repeat");
      return nullptr;
    }
    NodePtr rep = Make(Node::Kind::kRepeat);
    rep->min = min;
    rep->max = max;
    rep->kids.push_back(std::move(atom));
    return rep;
  }

  NodePtr Literal(char32_t c) {
    NodePtr n = Make(Node::Kind::kChar);
    n->ch = c;
    return n;
  }

  NodePtr ClassNode(CharClass cls) {
    Normalize(&cls.ranges);
    classes_->push_back(std::move(cls));
    NodePtr n = Make(Node::Kind::kClass);
    n->cls = static_cast<int>(classes_->size() - 1);
    return n;
  }

  NodePtr Atom(int depth) {
    const char32_t c = Peek();
    if (c == '.') {
      ++pos_;
      return Make(Node::Kind::kAny);
    }
    if (c == '(') {
      ++pos_;
      if (Peek() == '?') {
        if (Peek(1) == ':') {
          pos_ += 2;
        } else if (Peek(1) == '<' && Peek(2) != '=' && Peek(2) != '!') {
          pos_ += 2;
          while (!AtEnd() && Peek() != '>') ++pos_;
          if (AtEnd()) {
            Fail("unterminated group name");
            return nullptr;
          }
          ++pos_;
        } else if (Peek(1) == '=' || Peek(1) == '!' || Peek(1) == '<') {
          Fail("lookaround assertions are not supported (they need backtracking)");
          return nullptr;
        } else {
          Fail("unknown group syntax '(?'");
          return nullptr;
        }
      }
      NodePtr inner = Alternation(depth + 1);
      if (!error_.empty()) return nullptr;
      if (AtEnd() || Peek() != ')') {
        Fail("missing ')'");
        return nullptr;
      }
      ++pos_;
      return inner;
    }
    if (c == '[') return Class();
    if (c == '\\') {
      ++pos_;
      if (AtEnd()) {
        Fail("'\\' at the end of the pattern");
        return nullptr;
      }
      CharClass set;
      if (SetEscape(&set)) return ClassNode(std::move(set));
      char32_t lit = 0;
      if (!CharEscape(&lit)) return nullptr;
      return Literal(lit);
    }
    if (c == ')') {
      Fail("unmatched ')'");
      return nullptr;
    }
    ++pos_;
    return Literal(c);
  }

  // \d \D \w \W \s \S, at pos_ (just after the backslash).
  bool SetEscape(CharClass* out) {
    const char32_t e = Peek();
    std::vector<Range> ranges;
    switch (e) {
      case 'd':
      case 'D':
        ranges = DigitRanges();
        break;
      case 'w':
        ranges = WordRanges();
        break;
      case 'W':
        out->not_word = true;
        ++pos_;
        return true;
      case 's':
      case 'S':
        ranges = SpaceRanges();
        break;
      default:
        return false;
    }
    ++pos_;
    if (e == 'D' || e == 'S') ranges = Complement(std::move(ranges));
    out->ranges.insert(out->ranges.end(), ranges.begin(), ranges.end());
    return true;
  }

  int HexDigits(size_t count) {
    int v = 0;
    for (size_t i = 0; i < count; ++i) {
      const char32_t h = Peek();
      int d = h >= '0' && h <= '9'   ? static_cast<int>(h - '0')
              : h >= 'a' && h <= 'f' ? static_cast<int>(h - 'a' + 10)
              : h >= 'A' && h <= 'F' ? static_cast<int>(h - 'A' + 10)
                                     : -1;
      if (d < 0) return -1;
      v = v * 16 + d;
      ++pos_;
    }
    return v;
  }

  // One escaped character at pos_ (just after the backslash). `in_class`: \b is backspace.
  bool CharEscape(char32_t* out, bool in_class = false) {
    const char32_t e = Peek();
    ++pos_;
    switch (e) {
      case 't':
        *out = '\t';
        return true;
      case 'n':
        *out = '\n';
        return true;
      case 'r':
        *out = '\r';
        return true;
      case 'f':
        *out = '\f';
        return true;
      case 'v':
        *out = '\v';
        return true;
      case '0':
        if (Peek() >= '0' && Peek() <= '9') break;
        *out = 0;
        return true;
      case 'b':
        if (!in_class) break;
        *out = '\b';
        return true;
      case 'x': {
        int v = HexDigits(2);
        if (v < 0) {
          Fail("\\x needs two hex digits");
          return false;
        }
        *out = static_cast<char32_t>(v);
        return true;
      }
      case 'u': {
        if (Peek() == '{') {
          ++pos_;
          long v = 0;
          size_t digits = 0;
          while (!AtEnd() && Peek() != '}' && digits < 8) {
            int d = HexDigits(1);
            if (d < 0) break;
            v = v * 16 + d;
            ++digits;
          }
          if (digits == 0 || AtEnd() || Peek() != '}' || v > static_cast<long>(kMaxCodePoint)) {
            Fail("bad \\u{...} escape");
            return false;
          }
          ++pos_;
          *out = static_cast<char32_t>(v);
          return true;
        }
        int v = HexDigits(4);
        if (v < 0) {
          Fail("\\u needs four hex digits");
          return false;
        }
        *out = static_cast<char32_t>(v);
        return true;
      }
      case 'c': {
        const char32_t l = Peek();
        if (!((l >= 'a' && l <= 'z') || (l >= 'A' && l <= 'Z'))) {
          Fail("\\c needs a letter");
          return false;
        }
        ++pos_;
        *out = l % 32;
        return true;
      }
      default:
        break;
    }
    if (e >= '1' && e <= '9') {
      Fail("backreferences are not supported (they need backtracking)");
      return false;
    }
    if (e == 'k') {
      Fail("named backreferences are not supported (they need backtracking)");
      return false;
    }
    if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9')) {
      --pos_;
      Fail(std::string("unknown escape '\\") + static_cast<char>(e) + "'");
      return false;
    }
    *out = e;  // escaped punctuation or any other character stands for itself
    return true;
  }

  NodePtr Class() {
    ++pos_;  // '['
    CharClass cls;
    if (Peek() == '^' && !AtEnd()) {
      cls.negated = true;
      ++pos_;
    }
    while (true) {
      if (AtEnd()) {
        Fail("missing ']'");
        return nullptr;
      }
      if (Peek() == ']') {
        ++pos_;
        break;
      }
      char32_t lo = 0;
      bool lo_is_set = false;
      if (!ClassAtom(&cls, &lo, &lo_is_set)) return nullptr;
      if (Peek() == '-' && Peek(1) != ']' && pos_ + 1 < cps_.size()) {
        ++pos_;
        char32_t hi = 0;
        bool hi_is_set = false;
        if (!ClassAtom(&cls, &hi, &hi_is_set)) return nullptr;
        if (lo_is_set || hi_is_set) {
          Fail("a class range cannot start or end with \\d, \\w or \\s");
          return nullptr;
        }
        if (hi < lo) {
          Fail("class range out of order");
          return nullptr;
        }
        cls.ranges.push_back({lo, hi});
      } else if (!lo_is_set) {
        cls.ranges.push_back({lo, lo});
      }
    }
    return ClassNode(std::move(cls));
  }

  // One member: a character (in *c) or a set escape (added to cls, *is_set = true).
  bool ClassAtom(CharClass* cls, char32_t* c, bool* is_set) {
    if (Peek() != '\\') {
      *c = Peek();
      ++pos_;
      return true;
    }
    ++pos_;
    if (AtEnd()) {
      Fail("'\\' at the end of the pattern");
      return false;
    }
    if (Peek() == '-') {
      ++pos_;
      *c = '-';
      return true;
    }
    if (SetEscape(cls)) {
      *is_set = true;
      return true;
    }
    return CharEscape(c, /*in_class=*/true);
  }

  std::vector<char32_t> cps_;
  size_t pos_ = 0;
  std::vector<CharClass>* classes_;
  std::string error_;
};

}  // namespace

Result<Tree> Parse(std::string_view source) {
  Tree tree;
  Parser parser(source, &tree.classes);
  Result<NodePtr> root = parser.Parse();
  if (!root.ok()) return root.status();
  tree.root = std::move(root).value();
  return tree;
}

}  // namespace s3db::util::pattern_syntax

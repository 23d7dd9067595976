// Runs tests/data/schema_rules.test: the rule language as data, one case a line, in the
// spirit of DuckDB's .test files. The file's header says how to read and extend it.
#include <gtest/gtest.h>

#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "schema/schema_rules.h"

namespace s3db::core {
namespace {

struct Case {
  int line = 0;
  std::string verb;      // ok, fail, bad-rule, bad-schema, id-ok, id-fail, segment, bad-partition
  std::string input;     // text after the verb, before " => "
  std::string expected;  // text after " => " (may be empty)
  bool has_expected = false;
};

std::string Trimmed(const std::string& s) {
  const size_t b = s.find_first_not_of(' ');
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(' ') - b + 1);
}

Json ParseJson(const std::string& text, int line) {
  Json v = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (v.is_discarded()) ADD_FAILURE() << "schema_rules.test:" << line << ": not JSON: " << text;
  return v;
}

// A rule as written after "rule ": JSON when it starts like JSON, else shorthand text.
Json RuleSpec(const std::string& text, int line) {
  if (!text.empty() && (text[0] == '{' || text[0] == '[' || text[0] == '"')) return ParseJson(text, line);
  return Json(text);
}

std::set<std::string> FailureSet(const std::vector<FieldError>& errors) {
  std::set<std::string> out;
  for (const auto& e : errors) out.insert(e.path + ":" + e.rule);
  return out;
}

std::set<std::string> ExpectedSet(const std::string& text) {
  std::set<std::string> out;
  std::istringstream in(text);
  for (std::string word; in >> word;) out.insert(word);
  return out;
}

std::string Join(const std::set<std::string>& s) {
  std::string out;
  for (const auto& w : s) out += (out.empty() ? "" : " ") + w;
  return out;
}

class GoldenRunner {
 public:
  void Run(const std::string& path) {
    std::ifstream in(path);
    ASSERT_TRUE(in.is_open()) << path;
    std::string text;
    for (int line = 1; std::getline(in, text); ++line) {
      text = Trimmed(text);
      if (text.empty() || text[0] == '#') continue;
      const size_t space = text.find(' ');
      const std::string verb = text.substr(0, space);
      const std::string rest = space == std::string::npos ? "" : text.substr(space + 1);
      if (verb == "rule" || verb == "schema" || verb == "partition") {
        mode_ = verb;
        source_ = rest;
        source_line_ = line;
        parsed_.reset();
        partition_.reset();
        continue;
      }
      Case c;
      c.line = line;
      c.verb = verb;
      const size_t arrow = rest.find(" => ");
      c.input = Trimmed(rest.substr(0, arrow));
      if (arrow != std::string::npos) {
        c.expected = Trimmed(rest.substr(arrow + 4));
        c.has_expected = true;
      }
      ++cases_;
      counts_[verb]++;
      RunCase(c);
    }
  }

  int cases() const { return cases_; }
  const std::map<std::string, int>& counts() const { return counts_; }

 private:
  // The current rule or schema, parsed once; a parse failure fails every case that needs it.
  const Schema* Current(const Case& c) {
    if (!parsed_) {
      try {
        parsed_ = ParseAttributes(Attributes(source_line_));
      } catch (const InvalidSchema& e) {
        ADD_FAILURE() << "schema_rules.test:" << c.line << ": the " << mode_ << " of line " << source_line_
                      << " does not parse: " << e.what();
        return nullptr;
      }
    }
    return &*parsed_;
  }

  Json Attributes(int line) const {
    if (mode_ == "rule") return Json{{"v", RuleSpec(source_, line)}};
    return ParseJson(source_, line);
  }

  // In rule mode an input is v's value (<absent>: no v at all); in schema mode a record.
  Json Record(const std::string& input, int line) const {
    if (mode_ == "schema") return ParseJson(input, line);
    if (input == "<absent>") return Json::object();
    return Json{{"v", ParseJson(input, line)}};
  }

  void RunCase(const Case& c) {
    SCOPED_TRACE("schema_rules.test:" + std::to_string(c.line) + ": " + c.verb + " " + c.input);
    if (c.verb == "ok" || c.verb == "fail") {
      const Schema* schema = Current(c);
      if (!schema) return;
      Json data = Record(c.input, c.line);
      std::vector<FieldError> errors = ValidateRecord(*schema, data);
      if (c.verb == "fail") {
        EXPECT_EQ(Join(FailureSet(errors)), Join(ExpectedSet(c.expected)));
        return;
      }
      ASSERT_TRUE(errors.empty()) << "unexpected failures: " << Join(FailureSet(errors)) << " (" << errors[0].message
                                  << ")";
      Json expected;
      if (!c.has_expected) {
        expected = Record(c.input, c.line);
      } else if (mode_ == "rule") {
        expected = c.expected == "<absent>" ? Json::object() : Json{{"v", ParseJson(c.expected, c.line)}};
      } else {
        expected = ParseJson(c.expected, c.line);
      }
      // dump() keeps 1 and 1.0 apart, which == does not.
      EXPECT_EQ(data.dump(), expected.dump());
    } else if (c.verb == "bad-rule" || c.verb == "bad-schema") {
      const Json attributes =
          c.verb == "bad-rule" ? Json{{"v", RuleSpec(c.input, c.line)}} : ParseJson(c.input, c.line);
      try {
        ParseAttributes(attributes);
        ADD_FAILURE() << "expected InvalidSchema containing '" << c.expected << "'";
      } catch (const InvalidSchema& e) {
        EXPECT_NE(std::string(e.what()).find(c.expected), std::string::npos) << e.what();
      }
    } else if (c.verb == "id-ok" || c.verb == "id-fail") {
      const Schema* schema = Current(c);
      if (!schema) return;
      std::vector<FieldError> errors;
      std::optional<std::string> id = ValidateIdValue(*schema, ParseJson(c.input, c.line), &errors);
      if (c.verb == "id-fail") {
        EXPECT_FALSE(id.has_value());
        EXPECT_EQ(Join(FailureSet(errors)), Join(ExpectedSet(c.expected)));
      } else {
        ASSERT_TRUE(id.has_value()) << Join(FailureSet(errors));
        EXPECT_EQ(Json(*id), ParseJson(c.expected, c.line));
      }
    } else if (c.verb == "segment" || c.verb == "bad-partition") {
      if (c.verb == "bad-partition") {
        try {
          ParsePartitionFieldRule("f", c.input);
          ADD_FAILURE() << "expected InvalidSchema containing '" << c.expected << "'";
        } catch (const InvalidSchema& e) {
          EXPECT_NE(std::string(e.what()).find(c.expected), std::string::npos) << e.what();
        }
        return;
      }
      if (!partition_) partition_ = ParsePartitionFieldRule("f", source_);
      std::optional<std::string> segment = PartitionSegment(*partition_, ParseJson(c.input, c.line));
      if (c.expected == "<none>") {
        EXPECT_FALSE(segment.has_value());
      } else {
        ASSERT_TRUE(segment.has_value());
        EXPECT_EQ(Json(*segment), ParseJson(c.expected, c.line));
      }
    } else {
      ADD_FAILURE() << "unknown verb '" << c.verb << "'";
    }
  }

  std::string mode_ = "rule";
  std::string source_;
  int source_line_ = 0;
  std::optional<Schema> parsed_;
  std::optional<PartitionFieldRule> partition_;
  int cases_ = 0;
  std::map<std::string, int> counts_;
};

TEST(SchemaGolden, EveryCaseOfTheRuleFile) {
  GoldenRunner runner;
  runner.Run(std::string(S3DB_TEST_DATA_DIR) + "/schema_rules.test");
  // The issue asks for at least 150 cases; a file that shrank by accident fails here.
  EXPECT_GE(runner.cases(), 150);
  for (const char* verb : {"ok", "fail", "bad-rule", "bad-schema", "id-ok", "id-fail", "segment"}) {
    EXPECT_GT(runner.counts().count(verb) ? runner.counts().at(verb) : 0, 0) << verb;
  }
  std::cout << "schema_rules.test: " << runner.cases() << " cases\n";
}

}  // namespace
}  // namespace s3db::core

// Golden JSON-lines files under tests/data: read one line at a time, and JSON values compared
// exactly. operator== on nlohmann::json says 1 == 1.0 and 0.0 == -0.0; a format pinned by
// golden files must keep both apart, so IdenticalJson compares types and float bits too.
#pragma once

#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace s3db::testing {

struct JsonLine {
  int line_number;
  nlohmann::json object;
};

// Every non-empty line of a JSON-lines file under tests/data, parsed on its own.
inline std::vector<JsonLine> ReadJsonLines(const std::string& name) {
  const std::string path = std::string(S3DB_TEST_DATA_DIR) + "/" + name;
  std::ifstream in(path);
  EXPECT_TRUE(in.is_open()) << path;
  std::vector<JsonLine> lines;
  std::string text;
  for (int number = 1; std::getline(in, text); ++number) {
    if (text.empty()) continue;
    nlohmann::json object = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    EXPECT_TRUE(object.is_object()) << path << ":" << number << " is not a JSON object";
    if (object.is_object()) lines.push_back({number, std::move(object)});
  }
  return lines;
}

// Equal values of equal types, floats bit for bit; the failure names the first difference.
inline ::testing::AssertionResult IdenticalJson(const nlohmann::json& expected, const nlohmann::json& actual,
                                                const std::string& path = "$") {
  using json = nlohmann::json;
  if (expected.type() != actual.type()) {
    return ::testing::AssertionFailure() << path << ": type " << expected.type_name() << " ("
                                         << static_cast<int>(expected.type()) << ") vs " << actual.type_name() << " ("
                                         << static_cast<int>(actual.type()) << ")";
  }
  switch (expected.type()) {
    case json::value_t::number_float: {
      const double a = expected.get<double>();
      const double b = actual.get<double>();
      if (std::bit_cast<uint64_t>(a) != std::bit_cast<uint64_t>(b)) {
        return ::testing::AssertionFailure() << path << ": " << expected.dump() << " vs " << actual.dump();
      }
      return ::testing::AssertionSuccess();
    }
    case json::value_t::array: {
      if (expected.size() != actual.size()) {
        return ::testing::AssertionFailure() << path << ": array sizes differ";
      }
      for (size_t i = 0; i < expected.size(); ++i) {
        auto result = IdenticalJson(expected[i], actual[i], path + "[" + std::to_string(i) + "]");
        if (!result) return result;
      }
      return ::testing::AssertionSuccess();
    }
    case json::value_t::object: {
      if (expected.size() != actual.size()) {
        return ::testing::AssertionFailure() << path << ": object sizes differ";
      }
      for (const auto& [key, value] : expected.items()) {
        if (!actual.contains(key)) {
          return ::testing::AssertionFailure() << path << ": missing key " << json(key).dump();
        }
        auto result = IdenticalJson(value, actual.at(key), path + "." + key);
        if (!result) return result;
      }
      return ::testing::AssertionSuccess();
    }
    default:
      if (expected != actual) {
        return ::testing::AssertionFailure() << path << ": " << expected.dump() << " vs " << actual.dump();
      }
      return ::testing::AssertionSuccess();
  }
}

}  // namespace s3db::testing

// Metadata keeps std::map's meaning (unique keys, byte order, first insert wins) on a
// sorted vector; these pin that down against std::map itself.
#include "s3db/object_store.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace s3db {
namespace {

std::vector<std::pair<std::string, std::string>> Entries(const Metadata& m) { return {m.begin(), m.end()}; }
std::vector<std::pair<std::string, std::string>> Entries(const std::map<std::string, std::string>& m) {
  return {m.begin(), m.end()};
}

TEST(Metadata, KeepsKeysUniqueAndInByteOrder) {
  Metadata m{{"b", "2"}, {"a", "1"}, {"b", "ignored"}, {"\xc3\xa9", "high byte"}, {"_v", "1"}};
  EXPECT_EQ(Entries(m), (std::vector<std::pair<std::string, std::string>>{
                            {"_v", "1"}, {"a", "1"}, {"b", "2"}, {"\xc3\xa9", "high byte"}}));
  EXPECT_EQ(m.size(), 4u);
  EXPECT_EQ(m.count("a"), 1u);
  EXPECT_EQ(m.count("c"), 0u);
  EXPECT_TRUE(m.contains("_v"));
  EXPECT_EQ(m.at("b"), "2");
  EXPECT_THROW((void)m.at("missing"), std::out_of_range);
  EXPECT_EQ(m.find("zz"), m.end());
}

TEST(Metadata, InsertsLikeAMap) {
  Metadata m;
  EXPECT_TRUE(m.emplace("k", "first").second);
  auto [it, added] = m.emplace("k", "second");
  EXPECT_FALSE(added);
  EXPECT_EQ(it->second, "first");
  EXPECT_FALSE(m.insert_or_assign("k", "third").second);
  EXPECT_EQ(m.at("k"), "third");
  m["new"] = "x";
  EXPECT_EQ(m["new"], "x");
  EXPECT_EQ(m["absent"], "");  // operator[] adds an empty value, as std::map does
  EXPECT_EQ(m.size(), 3u);
  EXPECT_EQ(m.erase("absent"), 1u);
  EXPECT_EQ(m.erase("absent"), 0u);
  m.erase(m.find("k"));
  EXPECT_EQ(Entries(m), (std::vector<std::pair<std::string, std::string>>{{"new", "x"}}));
  EXPECT_EQ(m, (Metadata{{"new", "x"}}));
  EXPECT_FALSE(m == (Metadata{{"new", "y"}}));
  m.clear();
  EXPECT_TRUE(m.empty());
}

TEST(Metadata, MatchesStdMapUnderRandomOperations) {
  std::mt19937 rng(7);
  Metadata ours;
  std::map<std::string, std::string> reference;
  for (int step = 0; step < 5000; ++step) {
    const std::string key(1 + rng() % 3, static_cast<char>('a' + rng() % 4));
    const std::string value = std::to_string(step);
    switch (rng() % 4) {
      case 0:
        EXPECT_EQ(ours.emplace(key, value).second, reference.emplace(key, value).second);
        break;
      case 1:
        ours[key] = value;
        reference[key] = value;
        break;
      case 2:
        EXPECT_EQ(ours.erase(key), reference.erase(key));
        break;
      default:
        EXPECT_EQ(ours.count(key), reference.count(key));
    }
  }
  EXPECT_EQ(Entries(ours), Entries(reference));
}

}  // namespace
}  // namespace s3db

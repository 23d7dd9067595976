// CsvColumnsFor (include/s3db/csv.h): a resource's CSV columns and their cell types come from
// its schema, and records of every kind of field go out through CsvWriter and back in through
// CsvReader into a second resource unchanged, through a real Database on the memory store.
#include <gtest/gtest.h>

#include <sstream>

#include "s3db/csv.h"
#include "s3db/database.h"

namespace s3db {
namespace {

const Json kAttributes = Json::parse(R"({
  "id": "number|integer|positive",
  "name": "string|min:1",
  "mail": "email|optional",
  "score": "currency|optional",
  "ok": "boolean|optional",
  "level": "enum|values:low,high|optional",
  "rank": {"type": "enum", "values": [1, 2, 3], "optional": true},
  "either": ["string", "number", {"type": "boolean"}],
  "word": ["string", "email"],
  "tags": "array|items:string|optional",
  "blob": "object|optional",
  "free": "any|optional",
  "when": "date|optional",
  "place": {"city": "string", "geo": {"lat": "number", "lon": "number"}},
  "meta": {"$$type": "object|optional|strict:false", "kind": "string|optional"}
})");

std::vector<std::pair<std::string, CsvCellType>> Pairs(const std::vector<CsvColumn>& columns) {
  std::vector<std::pair<std::string, CsvCellType>> pairs;
  for (const CsvColumn& column : columns) pairs.emplace_back(column.path, column.type);
  return pairs;
}

ResourceDefinition Definition(const std::string& name, bool timestamps) {
  ResourceDefinition definition;
  definition.name = name;
  definition.attributes = kAttributes;
  definition.timestamps = timestamps;
  return definition;
}

TEST(CsvColumnsFor, IdFirstThenEachLeafByItsTypeThenTimestamps) {
  using T = CsvCellType;
  const std::vector<std::pair<std::string, CsvCellType>> expected = {{"id", T::kNumber},
                                                                     {"blob", T::kJson},
                                                                     {"either", T::kAny},
                                                                     {"free", T::kAny},
                                                                     {"level", T::kString},
                                                                     {"mail", T::kString},
                                                                     {"meta", T::kJson},
                                                                     {"meta.kind", T::kString},
                                                                     {"name", T::kString},
                                                                     {"ok", T::kBoolean},
                                                                     {"place.city", T::kString},
                                                                     {"place.geo.lat", T::kNumber},
                                                                     {"place.geo.lon", T::kNumber},
                                                                     {"rank", T::kAny},
                                                                     {"score", T::kNumber},
                                                                     {"tags", T::kJson},
                                                                     {"when", T::kString},
                                                                     {"word", T::kString},
                                                                     {"createdAt", T::kString},
                                                                     {"updatedAt", T::kString}};
  EXPECT_EQ(Pairs(CsvColumnsFor(Definition("things", true))), expected);

  ResourceDefinition plain;
  plain.attributes = {{"name", "string"}, {"createdAt", "date|optional"}};
  plain.timestamps = true;  // a declared createdAt keeps its place; only updatedAt is added
  EXPECT_EQ(Pairs(CsvColumnsFor(plain)),
            (std::vector<std::pair<std::string, CsvCellType>>{
                {"id", T::kString}, {"createdAt", T::kString}, {"name", T::kString}, {"updatedAt", T::kString}}));

  plain.attributes = {{"name", "strang"}};
  EXPECT_THROW(CsvColumnsFor(plain), InvalidSchema);
}

TEST(CsvColumnsFor, EveryKindOfFieldRoundTripsThroughADatabase) {
  DatabaseOptions options;
  options.uri = "memory://csv-columns-test";
  std::unique_ptr<Database> db = Database::Connect(options);
  Resource& things = db->CreateResource(Definition("things", false));
  Resource& copy = db->CreateResource(Definition("copy", false));
  const std::vector<Json> given = {
      Json::parse(R"({"id": 1, "name": "all", "mail": "a@example.org", "score": 12.5, "ok": true,
          "level": "high", "rank": 2, "either": "42", "word": "true", "tags": ["x, y", "\"q\""],
          "blob": {"k": [1, {"n": null}]}, "free": "text", "when": "2024-06-27T10:00:00.000Z",
          "place": {"city": "Lisbon\nold town", "geo": {"lat": 38.7, "lon": -9.1}},
          "meta": {"kind": "k", "extra": [1, 2], "other": "o"}})"),
      Json::parse(R"({"id": 2, "name": "few", "either": 7, "word": "", "free": [true],
          "place": {"city": "", "geo": {"lat": 0, "lon": 0}}})"),
      Json::parse(R"({"id": 3, "name": "bool", "either": false, "word": "w", "free": 5,
          "place": {"city": "c", "geo": {"lat": 1, "lon": 2}}, "meta": {"other": "only"}})")};
  for (const Json& record : given) things.Insert(record);

  std::stringstream csv;
  CsvWriter writer(csv, CsvColumnsFor(things.definition()));
  for (const Record& record : things.Scan()) EXPECT_TRUE(writer.Write(record.ToJson()).empty()) << record.id;

  CsvReader reader(csv, CsvColumnsFor(copy.definition()), "things.csv");
  size_t read = 0;
  while (std::optional<CsvRecord> record = reader.NextRecord()) {
    copy.Insert(record->value);
    ++read;
  }
  EXPECT_EQ(read, given.size());
  for (const Json& record : given) {
    const std::string id = std::to_string(record["id"].get<int>());
    Json expected = things.Get(id).data;
    EXPECT_EQ(copy.Get(id).data, expected) << id;
  }
  EXPECT_EQ(copy.Get("1").data["either"], "42");  // a string that reads as JSON stays a string
  EXPECT_EQ(copy.Get("2").data["either"], 7);
  EXPECT_EQ(copy.Get("2").data["word"], "");
}

}  // namespace
}  // namespace s3db

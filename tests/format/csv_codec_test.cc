// The CSV codec (include/s3db/csv.h): RFC 4180 quoting both ways, the record mapping (dot
// paths, cell types, empty cells), malformed input named by line, and a million rows streamed
// through both sides without holding them.
#include <gtest/gtest.h>

#include <cstdint>
#include <sstream>
#include <streambuf>
#include <string>
#include <vector>

#include "s3db/csv.h"
#include "s3db/errors.h"
#include "support/test_scale.h"

namespace s3db {
namespace {

std::vector<CsvRow> Rows(const std::string& text, const std::string& source = "t.csv") {
  std::istringstream in(text);
  CsvReader reader(in, {}, source);
  std::vector<CsvRow> rows;
  while (std::optional<CsvRow> row = reader.NextRow()) rows.push_back(*row);
  return rows;
}

std::vector<CsvRecord> Records(const std::string& text, const std::vector<CsvColumn>& columns) {
  std::istringstream in(text);
  CsvReader reader(in, columns, "t.csv");
  std::vector<CsvRecord> records;
  while (std::optional<CsvRecord> record = reader.NextRecord()) records.push_back(*record);
  return records;
}

// The message of the InvalidArgument that reading `text` throws ("" if none).
std::string ReadError(const std::string& text, const std::vector<CsvColumn>& columns = {}) {
  try {
    Records(text, columns);
  } catch (const InvalidArgument& error) {
    return error.what();
  }
  return "";
}

const std::vector<CsvColumn> kPeople = {{"id", CsvCellType::kString},
                                        {"name", CsvCellType::kString},
                                        {"age", CsvCellType::kNumber},
                                        {"active", CsvCellType::kBoolean},
                                        {"tags", CsvCellType::kJson},
                                        {"address.city", CsvCellType::kString},
                                        {"address.country", CsvCellType::kString},
                                        {"extra", CsvCellType::kAny}};

std::string Written(const std::vector<CsvColumn>& columns, const std::vector<Json>& records) {
  std::ostringstream out;
  CsvWriter writer(out, columns);
  for (const Json& record : records) EXPECT_TRUE(writer.Write(record).empty()) << record.dump();
  return out.str();
}

TEST(CsvWriter, WritesAHeaderAndQuotesOnlyWhatNeedsIt) {
  const std::string text = Written({{"id", CsvCellType::kString}, {"note", CsvCellType::kString}},
                                   {{{"id", "a"}, {"note", "plain"}},
                                    {{"id", "b"}, {"note", "a, b"}},
                                    {{"id", "c"}, {"note", "say \"hi\""}},
                                    {{"id", "d"}, {"note", "two\r\nlines\nhere"}},
                                    {{"id", "e"}, {"note", ""}},
                                    {{"id", "f"}}});
  EXPECT_EQ(text,
            "id,note\r\n"
            "a,plain\r\n"
            "b,\"a, b\"\r\n"
            "c,\"say \"\"hi\"\"\"\r\n"
            "d,\"two\r\nlines\nhere\"\r\n"
            "e,\"\"\r\n"
            "f,\r\n");
}

TEST(CsvCodec, EveryAwkwardStringRoundTrips) {
  const std::vector<std::string> strings = {
      "plain", "a,b", "\"", "\"\"", "x\"y", "line\nbreak", "cr\rlf", "crlf\r\n", " pad ", "", ",", "\n", "ünï©ødé",
      "42", "true", "{\"a\":1}", "null", "\"quoted\"",
      // JSON up to a NUL byte, which the parser alone would take
      // for the end ("12" and "{}"): strings, both ways.
      std::string("12\0x", 4), std::string("{}\0", 3), std::string("12\0\x98", 4)};
  for (CsvCellType type : {CsvCellType::kString, CsvCellType::kAny}) {
    const std::vector<CsvColumn> columns = {{"id", CsvCellType::kString}, {"s", type}};
    std::vector<Json> records;
    for (size_t i = 0; i < strings.size(); ++i) records.push_back({{"id", std::to_string(i)}, {"s", strings[i]}});
    const std::vector<CsvRecord> back = Records(Written(columns, records), columns);
    ASSERT_EQ(back.size(), records.size());
    for (size_t i = 0; i < records.size(); ++i) {
      EXPECT_EQ(back[i].value, records[i]) << "type " << static_cast<int>(type) << ", string " << strings[i];
    }
  }
}

TEST(CsvCodec, NestedFieldsFlattenToDotPathsAndTypesComeBack) {
  const Json ada = {{"id", "ada"},
                    {"name", "Ada"},
                    {"age", 36},
                    {"active", true},
                    {"tags", {"math", "poetry, verse"}},
                    {"address", {{"city", "London"}, {"country", "UK"}}},
                    {"extra", {{"any", {1, 2.5, nullptr}}}}};
  const Json grace = {{"id", "grace"}, {"name", "Grace"}, {"age", -1.5e3}, {"active", false}};
  const std::string text = Written(kPeople, {ada, grace});
  EXPECT_EQ(text.substr(0, text.find("\r\n")), "id,name,age,active,tags,address.city,address.country,extra");
  const std::vector<CsvRecord> back = Records(text, kPeople);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].value, ada);
  EXPECT_EQ(back[0].line_number, 2u);
  EXPECT_EQ(back[1].value, grace);  // empty cells are absent fields: no address, no tags
  EXPECT_TRUE(back[1].value["age"].is_number_float());
}

TEST(CsvCodec, NullAndAbsentBothWriteAnEmptyCellThatReadsAsAbsent) {
  const std::string text = Written(kPeople, {{{"id", "x"}, {"name", nullptr}, {"address", nullptr}}});
  EXPECT_EQ(text.substr(text.find("\r\n") + 2), "x,,,,,,,\r\n");
  const std::vector<CsvRecord> back = Records(text, kPeople);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].value, Json({{"id", "x"}}));
}

TEST(CsvWriter, ReportsFieldsNoColumnHoldsAndLeavesThemOut) {
  std::ostringstream out;
  CsvWriter writer(out, {{"id", CsvCellType::kString}, {"address.city", CsvCellType::kString}});
  const std::vector<std::string> left_out =
      writer.Write({{"id", "a"}, {"old", 1}, {"address", {{"city", "Rome"}, {"zip", "00100"}}}, {"gone", nullptr}});
  EXPECT_EQ(left_out, std::vector<std::string>({"address.zip", "old"}));
  EXPECT_EQ(out.str(), "id,address.city\r\na,Rome\r\n");
}

TEST(CsvCodec, AParentColumnHoldsTheMembersItsChildColumnsDoNot) {
  // A nested object with strict:false: declared members in their own columns, the rest
  // in the object's column.
  const std::vector<CsvColumn> columns = {
      {"id", CsvCellType::kString}, {"meta", CsvCellType::kJson}, {"meta.kind", CsvCellType::kString}};
  const Json record = {{"id", "a"}, {"meta", {{"kind", "k"}, {"free", {1, 2}}, {"more", "x"}}}};
  const std::string text = Written(columns, {record});
  EXPECT_EQ(text, "id,meta,meta.kind\r\na,\"{\"\"free\"\":[1,2],\"\"more\"\":\"\"x\"\"}\",k\r\n");
  const std::vector<CsvRecord> back = Records(text, columns);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].value, record);
  // Column order does not matter when reading.
  EXPECT_EQ(Records("id,meta.kind,meta\r\na,k,\"{\"\"more\"\":\"\"x\"\"}\"\r\n", columns)[0].value,
            Json({{"id", "a"}, {"meta", {{"kind", "k"}, {"more", "x"}}}}));
}

TEST(CsvReader, TakesCrlfLfAndCrLineEndsABomAndBlankLines) {
  const std::vector<CsvRow> rows = Rows(
      "\xEF\xBB\xBF"
      "a,b\r\n1,2\n\n3,\"x\r\ny\"\r4,5\r\n\r\n");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].cells, std::vector<std::string>({"1", "2"}));
  EXPECT_EQ(rows[0].line_number, 2u);
  EXPECT_EQ(rows[1].cells, std::vector<std::string>({"3", "x\r\ny"}));
  EXPECT_EQ(rows[1].line_number, 4u);  // after the blank line 3
  EXPECT_EQ(rows[1].quoted, std::vector<bool>({false, true}));
  EXPECT_EQ(rows[2].cells, std::vector<std::string>({"4", "5"}));
  EXPECT_EQ(rows[2].line_number, 6u);  // the quoted cell spans lines 4 and 5

  std::istringstream in(
      "\xEF\xBB\xBF"
      "first,second\n");
  CsvReader reader(in);
  EXPECT_EQ(reader.header(), std::vector<std::string>({"first", "second"}));
  EXPECT_FALSE(reader.NextRow());  // header only
}

TEST(CsvReader, TextThatStartsLikeABomIsKept) {
  // U+FF01 (EF BC 81) and U+FEFF's first two bytes then other text: not a BOM.
  for (const std::string name : {"\xEF\xBC\x81x", "\xEF\xBBx", "\xEF"}) {
    std::istringstream in(name + ",b\n1,2\n");
    CsvReader reader(in);
    EXPECT_EQ(reader.header(), std::vector<std::string>({name, "b"}));
    EXPECT_EQ(reader.NextRow()->cells, std::vector<std::string>({"1", "2"}));
  }
}

TEST(CsvReader, AnEmptyInputHasNoHeaderAndNoRows) {
  for (const std::string text : {"", "\xEF\xBB\xBF", "\r\n\n"}) {
    std::istringstream in(text);
    CsvReader reader(in);
    EXPECT_TRUE(reader.header().empty());
    EXPECT_FALSE(reader.NextRecord());
  }
}

TEST(CsvReader, AFinalRowWithoutALineEndIsARow) {
  const std::vector<CsvRow> rows = Rows("a,b\n1,\"2\"");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].cells, std::vector<std::string>({"1", "2"}));
}

TEST(CsvReader, MalformedInputIsNamedByItsLine) {
  EXPECT_EQ(ReadError("a,b\n1,2\n3,x\"y\n"), "t.csv line 3: a quote inside cell 2, which is not quoted");
  EXPECT_EQ(ReadError("a,b\n\"1\"x,2\n"), "t.csv line 2: text after the closing quote of cell 1");
  EXPECT_EQ(ReadError("a,b\n1,2\n3,\"open\n\nmore\n"),
            "t.csv line 3: the quoted cell that starts on line 3 is not closed");
  EXPECT_EQ(ReadError("a,b\n1,2,3\n"), "t.csv line 2: 3 cells, the header has 2");
  EXPECT_EQ(ReadError("a,b\n\n\n1\n"), "t.csv line 4: 1 cell, the header has 2");
  EXPECT_EQ(ReadError("a,,b\n"), "t.csv line 1: column 2 of the header has no name");
  EXPECT_EQ(ReadError("a,b,a\n"), "t.csv line 1: column a is named twice in the header");
  EXPECT_EQ(ReadError("\"a\nb\n"), "t.csv line 1: the quoted cell that starts on line 1 is not closed");
}

TEST(CsvReader, CellsTheirTypeRefusesAreNamedByLineAndColumn) {
  EXPECT_EQ(ReadError("id,age\na,12x\n", kPeople), "t.csv line 2: column age: expected a number, got \"12x\"");
  EXPECT_EQ(ReadError("id,active\na,yes\n", kPeople),
            "t.csv line 2: column active: expected true or false, got \"yes\"");
  EXPECT_EQ(ReadError("id,tags\na,[1\n", kPeople), "t.csv line 2: column tags: expected JSON text, got \"[1\"");
  EXPECT_EQ(ReadError("id,extra,extra.x\na,5,6\n", kPeople),
            "t.csv line 2: column extra.x: a value inside one that is not an object");
  // Booleans in any letter case; a header column no schema names is JSON-or-text.
  const std::vector<CsvRecord> ok = Records("id,active,other\na,TRUE,[1]\nb,False,word\n", kPeople);
  ASSERT_EQ(ok.size(), 2u);
  EXPECT_EQ(ok[0].value, Json({{"id", "a"}, {"active", true}, {"other", {1}}}));
  EXPECT_EQ(ok[1].value, Json({{"id", "b"}, {"active", false}, {"other", "word"}}));
}

TEST(CsvReader, GoesOnAfterABadRowSoEveryBadLineCanBeListed) {
  std::istringstream in("id,age\na,1\nb,x\"\nc,3\nd,zz\ne,5\n");
  CsvReader reader(in, kPeople, "t.csv");
  std::vector<std::string> seen;
  std::vector<size_t> bad;
  while (true) {
    try {
      std::optional<CsvRecord> record = reader.NextRecord();
      if (!record) break;
      seen.push_back(record->value["id"]);
    } catch (const InvalidArgument& error) {
      bad.push_back(std::stoul(std::string(error.what()).substr(std::string("t.csv line ").size())));
    }
  }
  EXPECT_EQ(seen, std::vector<std::string>({"a", "c", "e"}));
  EXPECT_EQ(bad, std::vector<size_t>({3, 5}));
}

// A streambuf that makes `rows` rows of CSV on the fly, so the test input never exists whole.
class GeneratedCsv : public std::streambuf {
 public:
  explicit GeneratedCsv(size_t rows) : rows_(rows) { Refill(); }

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    return Refill() ? traits_type::to_int_type(*gptr()) : traits_type::eof();
  }

 private:
  bool Refill() {
    chunk_.clear();
    if (next_ == 0) chunk_ = "id,n,note,address.city\r\n";
    while (chunk_.size() < 4096 && next_ < rows_) {
      chunk_ += "r" + std::to_string(next_) + "," + std::to_string(next_) + ",\"a, \"\"quoted\"\"\nnote\",City\r\n";
      ++next_;
    }
    if (chunk_.empty()) return false;
    setg(chunk_.data(), chunk_.data(), chunk_.data() + chunk_.size());
    return true;
  }

  size_t rows_;
  size_t next_ = 0;
  std::string chunk_;
};

// Counts what is written and keeps nothing.
class CountingSink : public std::streambuf {
 public:
  uint64_t bytes = 0;
  uint64_t line_ends = 0;

 protected:
  int_type overflow(int_type c) override {
    if (c != traits_type::eof()) Count(static_cast<char>(c));
    return traits_type::not_eof(c);
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    for (std::streamsize i = 0; i < n; ++i) Count(s[i]);
    return n;
  }

 private:
  void Count(char c) {
    ++bytes;
    if (c == '\n') ++line_ends;
  }
};

// Bounded memory: a million rows go through the reader and, rebuilt as records, through the
// writer, with the input made and the output dropped as they stream (no time is measured;
// under ASan a codec that kept rows would also show as a leak-free but huge peak). A fifth of
// them under a sanitizer, where each row costs several times more (support/test_scale.h).
TEST(CsvCodec, AMillionRowsStreamThroughBothSides) {
  constexpr size_t kRows = testing::ScaledForSanitizers(1'000'000, 200'000);
  GeneratedCsv source(kRows);
  std::istream in(&source);
  const std::vector<CsvColumn> columns = {{"id", CsvCellType::kString},
                                          {"n", CsvCellType::kNumber},
                                          {"note", CsvCellType::kString},
                                          {"address.city", CsvCellType::kString}};
  CsvReader reader(in, columns, "generated");
  CountingSink sink;
  std::ostream out(&sink);
  CsvWriter writer(out, columns);
  size_t rows = 0;
  uint64_t sum = 0;
  while (std::optional<CsvRecord> record = reader.NextRecord()) {
    ASSERT_EQ(record->line_number, 2 + 2 * rows);  // each note spans two lines
    sum += record->value["n"].get<uint64_t>();
    ASSERT_TRUE(writer.Write(record->value).empty());
    ++rows;
  }
  EXPECT_EQ(rows, kRows);
  EXPECT_EQ(sum, uint64_t{kRows} * (kRows - 1) / 2);
  EXPECT_EQ(writer.rows_written(), kRows);
  EXPECT_EQ(sink.line_ends, 1 + 2 * uint64_t{kRows});  // the header, then two per row
  EXPECT_EQ(sink.bytes, reader.bytes_read());          // the writer gives back what it read
}

// The seeds' "Stream to CSV": a chosen subset of fields under header titles of one's own.
TEST(CsvCodec, ColumnsMayCarryHeaderTitles) {
  const std::vector<CsvColumn> columns = {
      {"id", CsvCellType::kString, "ID"}, {"name", CsvCellType::kString, "Name"}, {"age", CsvCellType::kNumber, "Age"}};
  std::ostringstream out;
  CsvWriter writer(out, columns);
  EXPECT_EQ(writer.Write({{"id", "ada"}, {"name", "Ada"}, {"age", 36}, {"email", "ada@example.org"}}),
            std::vector<std::string>({"email"}));
  EXPECT_EQ(out.str(), "ID,Name,Age\r\nada,Ada,36\r\n");
  const std::vector<CsvRecord> back = Records(out.str(), columns);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].value, Json({{"id", "ada"}, {"name", "Ada"}, {"age", 36}}));
  EXPECT_EQ(ReadError("ID,Age\nada,old\n", columns), "t.csv line 2: column Age: expected a number, got \"old\"");
  EXPECT_THROW(CsvWriter(out, {{"a", CsvCellType::kString, "T"}, {"b", CsvCellType::kString, "T"}}), InvalidArgument);
}

TEST(CsvWriter, RefusesColumnsItCannotWrite) {
  std::ostringstream out;
  EXPECT_THROW(CsvWriter(out, {}), InvalidArgument);
  EXPECT_THROW(CsvWriter(out, {{"a", CsvCellType::kString}, {"a", CsvCellType::kNumber}}), InvalidArgument);
  EXPECT_THROW(CsvWriter(out, {{"", CsvCellType::kString}}), InvalidArgument);
  CsvWriter writer(out, {{"a", CsvCellType::kString}});
  EXPECT_THROW(writer.Write(Json::array()), InvalidArgument);
}

// Found by tests/fuzz/csv_fuzz.cc (tests/fuzz/regressions/csv/): a JSON column reads a cell as
// JSON text, so a string there ("\"a,b\"" read from a file) must be written as JSON string text
// too; it used to go as bare text, which the reader then refused.
TEST(CsvCodec, AStringInAJsonColumnRoundTrips) {
  const std::vector<CsvColumn> columns = {
      {"\xC0"
       "a.b\xBF\xDF"
       "cd\xC8"
       "4.",
       CsvCellType::kJson}};
  const std::string input =
      "\xC0"
      "a.b\xBF\xDF"
      "cd\xC8"
      "4.\n\"\"\",\"\"\"";  // the fuzzer's input
  const std::vector<CsvRecord> read = Records(input, columns);
  ASSERT_EQ(read.size(), 1u);
  const std::vector<Json> values = {read[0].value, Json{{"j", ""}}, Json{{"j", "plain"}}, Json{{"j", "[1]"}}};
  for (const Json& value : values) {
    const std::vector<CsvColumn> cols =
        value.contains("j") ? std::vector<CsvColumn>{{"j", CsvCellType::kJson}} : columns;
    const std::vector<CsvRecord> again = Records(Written(cols, {value}), cols);
    ASSERT_EQ(again.size(), 1u) << value.dump();
    EXPECT_EQ(again[0].value, value);
  }
  EXPECT_EQ(Written({{"j", CsvCellType::kJson}}, {Json{{"j", "plain"}}}), "j\r\n\"\"\"plain\"\"\"\r\n");
}

// Found by tests/fuzz/csv_fuzz.cc: a first header name starting with a BOM (read from a file
// that had two) was written bare, and the reader skipped it as the file's BOM.
TEST(CsvCodec, AFirstHeaderNameThatStartsWithABomRoundTrips) {
  const std::vector<CsvRow> rows = Rows("\xEF\xBB\xBF\xEF\xBB\xBF\n3\n");  // a header, one row
  ASSERT_EQ(rows.size(), 1u);
  const std::vector<CsvColumn> columns = {{"\xEF\xBB\xBF", CsvCellType::kNumber}};
  const std::string written = Written(columns, {Json{{"\xEF\xBB\xBF", 3}}});
  EXPECT_EQ(written, "\"\xEF\xBB\xBF\"\r\n3\r\n");
  const std::vector<CsvRecord> again = Records(written, columns);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].value, (Json{{"\xEF\xBB\xBF", 3}}));
}

}  // namespace
}  // namespace s3db

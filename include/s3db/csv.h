// CSV (RFC 4180) for records: CsvWriter streams records to an std::ostream, CsvReader streams
// rows or records from an std::istream, and CsvColumnsFor gives a resource's columns with the
// type each cell is read back as. Both sides hold one row at a time, so memory stays the same
// whatever the number of rows. docs/API.md "CSV" is the user's description.
//
// The mapping (the same in both directions):
//   - a header row names the columns; a nested field is one column per leaf, its dot path
//     ("address.city"), and the reader rebuilds the nesting from the dots;
//   - a string is its text; a number or boolean its JSON text; an array or object (an
//     "array", "object" or "any" value) its JSON text in one cell;
//   - an absent or null field is an empty cell, and an empty cell is an absent field; an
//     empty string is written quoted (""), which reads back as the empty string;
//   - fields, quotes, commas, CR and LF inside a cell are quoted as RFC 4180 says; rows end
//     with CRLF. The reader takes CRLF, LF or CR, skips a UTF-8 BOM and blank lines.
//
// Thread-safety: one writer or reader per thread; CsvColumnsFor is a pure function.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "s3db/export.h"
#include "s3db/record.h"

namespace s3db {

// How a column's cells become JSON values when read (and how values are written).
enum class CsvCellType {
  kString,   // the text as it is
  kNumber,   // a JSON number ("42", "-1.5e3"); anything else is an error
  kBoolean,  // true or false (any letter case); anything else is an error
  kJson,     // JSON text (arrays, objects); anything else is an error
  // JSON text when the cell is valid JSON, else the text as a string (multi-type and "any"
  // attributes, columns no schema names). A string that would read as JSON ("42", "true")
  // is written as JSON string text ("\"42\"") so that it reads back as the string.
  kAny,
};

struct S3DB_EXPORT CsvColumn {
  // {"age", CsvCellType::kNumber} or, with a header title, {"age", CsvCellType::kNumber, "Age"}.
  CsvColumn(std::string path, CsvCellType type = CsvCellType::kAny, std::string title = {})
      : path(std::move(path)), type(type), title(std::move(title)) {}

  std::string path;  // "id", "name", "address.city"
  CsvCellType type = CsvCellType::kAny;
  std::string title;  // the column's name in the header row ("E-mail"); empty: the path

  const std::string& header_name() const { return title.empty() ? path : title; }
};

// A resource's columns: "id" first (typed by the schema's "id" rule, else a string), then
// the attributes in definition order with nested objects flattened to their leaves (a nested
// object that keeps undeclared fields, strict:false, also has a kJson column at its own path
// holding them), then "createdAt" and "updatedAt" when timestamps adds them. Throws
// InvalidSchema as Database::CreateResource would for attributes it refuses.
S3DB_EXPORT std::vector<CsvColumn> CsvColumnsFor(const ResourceDefinition& definition);

// Writes the header row at construction, then one row per Write.
class S3DB_EXPORT CsvWriter {
 public:
  // InvalidArgument for no columns, an empty path, a path or header name given twice.
  CsvWriter(std::ostream& out, std::vector<CsvColumn> columns);

  // One record: its fields plus "id" (Record::ToJson()). Returns the dot paths of the
  // values no column holds, which are left out of the row (a field of an older schema
  // version, say). A column whose path is the parent of other columns holds the members
  // those columns do not (as JSON text). InvalidArgument if `record` is not an object.
  std::vector<std::string> Write(const Json& record);

  size_t rows_written() const { return rows_; }

 private:
  void WriteCell(const Json* value, const CsvColumn& column);

  std::ostream& out_;
  std::vector<CsvColumn> columns_;
  std::set<std::string> paths_;    // every column's path
  std::set<std::string> parents_;  // every proper prefix ("address") of a column's path
  size_t rows_ = 0;
};

struct S3DB_EXPORT CsvRow {
  size_t line_number = 0;  // the line the row starts on, 1-based (the header is line 1)
  std::vector<std::string> cells;
  std::vector<bool> quoted;  // per cell: it was in quotes ("" is an empty string, not absent)
};

struct S3DB_EXPORT CsvRecord {
  size_t line_number = 0;
  Json value;  // an object; "id" when the row has one
};

// Reads the header row at construction. Every error is InvalidArgument naming the source
// and the line ("users.csv line 7: ..."); after an error in a row, the next call goes on
// with the row after it, so a caller can list every bad line.
class S3DB_EXPORT CsvReader {
 public:
  // A longer row is an error (most likely an unclosed quote): memory stays bounded.
  static constexpr size_t kMaxRowBytes = size_t{64} << 20;

  // `columns` says where each header column goes (its path) and how its cells read, matched
  // by header_name(); a header column none names goes to its own name as a path, as kAny.
  // `source` names the input in messages ("stdin", a path). An empty input has no header
  // and no rows; a header with an empty or repeated name is an error.
  CsvReader(std::istream& in, std::vector<CsvColumn> columns = {}, std::string source = "CSV");

  const std::vector<std::string>& header() const { return header_; }

  // The next row with as many cells as the header; nullopt at the end. Blank lines are
  // skipped. Errors: a quote inside an unquoted cell, text after a closing quote, a quote
  // not closed by the end of the input, a row of another width than the header.
  std::optional<CsvRow> NextRow();
  // The next row as a record: each non-empty cell converted by its column's type and put at
  // its dot path. Errors also: a cell its type refuses, a value under a path that is not an
  // object ("a" holding 5 and "a.b" a value).
  std::optional<CsvRecord> NextRecord();

  // The line the row last read (or refused) starts on.
  size_t row_line_number() const { return row_.line_number; }
  uint64_t bytes_read() const { return bytes_read_; }

 private:
  // Reads one physical row into row_; false at the end of the input. Sets problem_.
  bool ReadRow();
  int Get();      // the next byte or -1, counting it
  int Peek();     // the next byte or -1
  bool GiveUp();  // a row over kMaxRowBytes: an error, and the end of the input

  std::istream& in_;
  std::string source_;
  std::vector<std::string> header_;
  std::vector<CsvColumn> header_columns_;  // per header column: its path and type
  CsvRow row_;
  std::string problem_;
  size_t line_number_ = 1;  // of the next byte
  bool gave_up_ = false;
  std::string pushback_;  // bytes read looking for a BOM that were not one
  size_t pushback_used_ = 0;
  uint64_t bytes_read_ = 0;
};

}  // namespace s3db

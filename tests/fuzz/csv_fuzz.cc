// CSV as `s3db import --csv` and CsvReader read it (src/format/csv_codec.cc): any bytes, with
// the header's columns typed by the input (each header name picks a cell type), then the
// records written back by CsvWriter and read again.
//
// Invariants: every error is s3db::InvalidArgument, and the reader goes on after it; it ends
// (a call per row at most, and rows are never empty); a record read, written and read again
// is the same record.
#include <sstream>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "s3db/csv.h"

namespace {

using s3db::CsvCellType;
using s3db::CsvColumn;
using s3db::Json;
using s3db_fuzz::Check;

// Every record the reader gives, skipping the rows it refuses (as `s3db import` lists them).
std::vector<Json> ReadAll(const std::string& text, const std::vector<CsvColumn>& columns,
                          std::vector<std::string>* header = nullptr) {
  std::vector<Json> records;
  std::istringstream in(text);
  std::optional<s3db::CsvReader> reader;
  if (s3db_fuzz::FailsOnlyTyped("reading the header", [&] { reader.emplace(in, columns, "fuzz.csv"); })) {
    return records;
  }
  if (header != nullptr) *header = reader->header();
  // Each call consumes at least one byte or ends the input, so this many calls must end it.
  for (size_t calls = 0; calls <= text.size() + 2; ++calls) {
    bool ended = false;
    s3db_fuzz::FailsOnlyTyped("NextRecord", [&] {
      std::optional<s3db::CsvRecord> record = reader->NextRecord();
      if (!record) {
        ended = true;
        return;
      }
      Check(record->value.is_object(), "a CSV record that is not an object");
      records.push_back(std::move(record->value));
    });
    if (ended) return records;
  }
  s3db_fuzz::Broken("the CSV reader does not reach the end of " + std::to_string(text.size()) + " bytes");
}

// The value at a dot path ("address.city"), or nullptr when absent or null.
const Json* AtPath(const Json& record, const std::string& path) {
  const Json* value = &record;
  size_t start = 0;
  while (true) {
    const size_t dot = path.find('.', start);
    const std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!value->is_object() || !value->contains(part)) return nullptr;
    value = &(*value)[part];
    if (dot == std::string::npos) return value->is_null() ? nullptr : value;
    start = dot + 1;
  }
}

CsvCellType TypeFor(const std::string& name) {
  static constexpr CsvCellType kTypes[] = {CsvCellType::kAny, CsvCellType::kString, CsvCellType::kNumber,
                                           CsvCellType::kBoolean, CsvCellType::kJson};
  size_t sum = 0;
  for (unsigned char c : name) sum += c;
  return kTypes[sum % 5];
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text = s3db_fuzz::Text(data, size);
  std::vector<std::string> header;
  (void)ReadAll(text, {}, &header);
  if (header.empty()) return 0;

  std::vector<CsvColumn> columns;
  for (const std::string& name : header) columns.emplace_back(name, TypeFor(name));
  const std::vector<Json> records = ReadAll(text, columns);
  if (records.empty()) return 0;

  std::ostringstream out;
  std::string refused;
  s3db_fuzz::FailsOnlyTyped(
      "CsvWriter",
      [&] {
        s3db::CsvWriter writer(out, columns);
        for (const Json& record : records) {
          const std::vector<std::string> left_out = writer.Write(record);
          if (!left_out.empty())
            s3db_fuzz::Broken("a field read from a column has no column to write it: " + left_out[0]);
        }
      },
      &refused);
  Check(refused.empty(), "CsvWriter refuses the reader's columns or records: " + refused);
  // With one column, a record without a value there is an empty row: a blank line, which the
  // reader skips (csv.h: an absent or null field is an empty cell; blank lines are skipped).
  std::vector<Json> expected;
  for (const Json& record : records) {
    const bool blank_row = columns.size() == 1 && AtPath(record, columns[0].path) == nullptr;
    if (!blank_row) expected.push_back(record);
  }
  const std::vector<Json> again = ReadAll(out.str(), columns);
  Check(again.size() == expected.size(), "written records do not all read back: " + out.str());
  for (size_t i = 0; i < expected.size(); ++i) {
    if (!s3db_fuzz::SameJson(expected[i], again[i])) {
      s3db_fuzz::Broken("a record changed on the way out and back: " +
                        expected[i].dump(-1, ' ', false, Json::error_handler_t::replace) + " -> " +
                        again[i].dump(-1, ' ', false, Json::error_handler_t::replace));
    }
  }
  return 0;
}

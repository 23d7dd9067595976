// CsvWriter and CsvReader (include/s3db/csv.h): RFC 4180 text <-> records, one row at a time.
// CsvColumnsFor, which needs the rule language, is in schema/csv_columns.cc.
//
// May call: util/.
#include <algorithm>
#include <cctype>
#include <istream>
#include <ostream>
#include <string_view>
#include <utility>
#include <variant>

#include "s3db/csv.h"
#include "s3db/errors.h"
#include "s3db/json_limits.h"

namespace s3db {
namespace {

bool NeedsQuotes(std::string_view text) {
  return text.empty() || text.find_first_of(",\"\r\n") != std::string_view::npos;
}

void WriteText(std::ostream& out, std::string_view text, bool quote = false) {
  if (!quote && !NeedsQuotes(text)) {
    out << text;
    return;
  }
  out << '"';
  for (char c : text) {
    if (c == '"') out << '"';
    out << c;
  }
  out << '"';
}

// Dots split a path into object members: "address.city" -> {"address", "city"}.
std::vector<std::string> Segments(const std::string& path) {
  std::vector<std::string> segments;
  size_t start = 0;
  while (true) {
    const size_t dot = path.find('.', start);
    segments.push_back(path.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) return segments;
    start = dot + 1;
  }
}

const Json* Find(const Json& record, const std::string& path) {
  const Json* value = &record;
  for (const std::string& segment : Segments(path)) {
    if (!value->is_object()) return nullptr;
    const auto found = value->find(segment);
    if (found == value->end()) return nullptr;
    value = &*found;
  }
  return value;
}

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::string TypeWords(CsvCellType type) {
  switch (type) {
    case CsvCellType::kNumber:
      return "a number";
    case CsvCellType::kBoolean:
      return "true or false";
    case CsvCellType::kJson:
      return "JSON text";
    case CsvCellType::kString:
    case CsvCellType::kAny:
      break;
  }
  return "text";
}

// The value of a non-empty cell, or an error message.
std::variant<Json, std::string> CellValue(const std::string& text, bool quoted, CsvCellType type) {
  if (type != CsvCellType::kString && JsonTextTooDeep(text)) return "a value " + TooDeepText();
  switch (type) {
    case CsvCellType::kString:
      return Json(text);
    case CsvCellType::kAny: {
      if (!quoted || !text.empty()) {
        Json parsed = ParseJsonOrDiscarded(text);
        if (!parsed.is_discarded()) return parsed;
      }
      return Json(text);
    }
    case CsvCellType::kBoolean: {
      const std::string lower = Lower(text);
      if (lower == "true") return Json(true);
      if (lower == "false") return Json(false);
      break;
    }
    case CsvCellType::kNumber: {
      Json parsed = ParseJsonOrDiscarded(text);
      if (!parsed.is_discarded() && parsed.is_number()) return parsed;
      break;
    }
    case CsvCellType::kJson: {
      Json parsed = ParseJsonOrDiscarded(text);
      if (!parsed.is_discarded()) return parsed;
      break;
    }
  }
  std::string shown = text.size() > 40 ? text.substr(0, 40) + "..." : text;
  return "expected " + TypeWords(type) + ", got \"" + shown + "\"";
}

// Puts `value` at `path` of `record`, making the objects on the way. An object meeting an
// object merges (a parent column's undeclared members beside its children's columns).
// Returns false when a value on the way is not an object.
bool Place(Json& record, const std::string& path, Json value) {
  Json* target = &record;
  for (const std::string& segment : Segments(path)) {
    if (target->is_null()) *target = Json::object();
    if (!target->is_object()) return false;
    target = &(*target)[segment];
  }
  if (target->is_null()) {
    *target = std::move(value);
    return true;
  }
  if (!target->is_object() || !value.is_object()) return false;
  for (auto& [key, member] : value.items()) {
    if (!target->contains(key)) (*target)[key] = std::move(member);
  }
  return true;
}

}  // namespace

// ---- CsvWriter --------------------------------------------------------------------------------

CsvWriter::CsvWriter(std::ostream& out, std::vector<CsvColumn> columns) : out_(out), columns_(std::move(columns)) {
  if (columns_.empty()) throw InvalidArgument("CSV: no columns to write");
  std::set<std::string> names;
  for (const CsvColumn& column : columns_) {
    if (column.path.empty()) throw InvalidArgument("CSV: a column has an empty path");
    if (!paths_.insert(column.path).second) throw InvalidArgument("CSV: column " + column.path + " is given twice");
    if (!names.insert(column.header_name()).second) {
      throw InvalidArgument("CSV: header name " + column.header_name() + " is given twice");
    }
    for (size_t dot = column.path.find('.'); dot != std::string::npos; dot = column.path.find('.', dot + 1)) {
      parents_.insert(column.path.substr(0, dot));
    }
  }
  for (size_t i = 0; i < columns_.size(); ++i) {
    if (i > 0) out_ << ',';
    // A first name that starts with a UTF-8 BOM is quoted, or a reader would skip it as one.
    const std::string& name = columns_[i].header_name();
    WriteText(out_, name, i == 0 && name.rfind("\xEF\xBB\xBF", 0) == 0);
  }
  out_ << "\r\n";
}

void CsvWriter::WriteCell(const Json* value, const CsvColumn& column) {
  if (value == nullptr || value->is_null()) return;  // an empty cell
  if (value->is_string()) {
    const std::string& text = value->get_ref<const std::string&>();
    // In a kAny column a string that reads as JSON goes as JSON string text, so it reads
    // back as this string; in a kJson column every string does (its cells are JSON text).
    // "Reads as JSON" as the reader decides it (a text with a NUL byte never does).
    if ((column.type == CsvCellType::kAny && !text.empty() && JsonTextAccepted(text)) ||
        column.type == CsvCellType::kJson) {
      WriteText(out_, value->dump(-1, ' ', false, Json::error_handler_t::replace));
    } else {
      WriteText(out_, text);
    }
    return;
  }
  if (value->is_object() && parents_.count(column.path) > 0) {
    // The members no deeper column holds.
    Json rest = Json::object();
    for (const auto& [key, member] : value->items()) {
      if (paths_.count(column.path + "." + key) == 0 && parents_.count(column.path + "." + key) == 0) {
        rest[key] = member;
      }
    }
    if (!rest.empty()) WriteText(out_, rest.dump(-1, ' ', false, Json::error_handler_t::replace));
    return;
  }
  WriteText(out_, value->dump(-1, ' ', false, Json::error_handler_t::replace));
}

std::vector<std::string> CsvWriter::Write(const Json& record) {
  if (!record.is_object()) {
    throw InvalidArgument(std::string("CSV: a record must be a JSON object, got ") + record.type_name());
  }
  for (size_t i = 0; i < columns_.size(); ++i) {
    if (i > 0) out_ << ',';
    WriteCell(Find(record, columns_[i].path), columns_[i]);
  }
  out_ << "\r\n";
  ++rows_;

  // What no column holds: walk the record, descending only into objects whose path is a
  // parent of columns and that no column holds whole.
  std::vector<std::string> left_out;
  std::vector<std::pair<std::string, const Json*>> pending;
  for (const auto& [key, member] : record.items()) pending.emplace_back(key, &member);
  while (!pending.empty()) {
    auto [path, value] = pending.back();
    pending.pop_back();
    if (paths_.count(path) > 0) continue;
    if (parents_.count(path) > 0 && value->is_object()) {
      for (const auto& [key, member] : value->items()) pending.emplace_back(path + "." + key, &member);
      continue;
    }
    if (!value->is_null()) left_out.push_back(path);
  }
  std::sort(left_out.begin(), left_out.end());
  return left_out;
}

// ---- CsvReader --------------------------------------------------------------------------------

CsvReader::CsvReader(std::istream& in, std::vector<CsvColumn> columns, std::string source)
    : in_(in), source_(std::move(source)) {
  // A UTF-8 BOM, as spreadsheet programs write, is dropped; other text starting with its
  // first byte is read again.
  std::string start;
  for (const char bom_byte : {'\xEF', '\xBB', '\xBF'}) {
    if (Peek() != static_cast<unsigned char>(bom_byte)) break;
    start += static_cast<char>(Get());
  }
  if (start.size() < 3) pushback_ = std::move(start);
  if (!ReadRow()) return;  // empty input
  const size_t header_line = row_.line_number;
  if (!problem_.empty()) throw InvalidArgument(source_ + " line " + std::to_string(header_line) + ": " + problem_);
  header_ = std::move(row_.cells);
  std::set<std::string> seen;
  for (size_t i = 0; i < header_.size(); ++i) {
    const std::string& name = header_[i];
    const std::string where = source_ + " line " + std::to_string(header_line) + ": ";
    if (name.empty()) throw InvalidArgument(where + "column " + std::to_string(i + 1) + " of the header has no name");
    if (!seen.insert(name).second) throw InvalidArgument(where + "column " + name + " is named twice in the header");
    CsvColumn placed{name, CsvCellType::kAny, ""};
    for (const CsvColumn& column : columns) {
      if (column.header_name() == name) placed = column;
    }
    header_columns_.push_back(std::move(placed));
  }
}

int CsvReader::Peek() {
  if (pushback_used_ < pushback_.size()) return static_cast<unsigned char>(pushback_[pushback_used_]);
  const auto c = in_.rdbuf()->sgetc();
  return c == std::char_traits<char>::eof() ? -1 : static_cast<unsigned char>(c);
}

int CsvReader::Get() {
  if (pushback_used_ < pushback_.size()) return static_cast<unsigned char>(pushback_[pushback_used_++]);
  const auto c = in_.rdbuf()->sbumpc();
  if (c == std::char_traits<char>::eof()) return -1;
  ++bytes_read_;
  return static_cast<unsigned char>(c);
}

// The rest of the input cannot be told apart from the row that grew too long, so it is
// not read: the row is an error and the input ends there.
bool CsvReader::GiveUp() {
  gave_up_ = true;
  problem_ = "a row longer than " + std::to_string(kMaxRowBytes >> 20) +
             " MiB (is a quote not closed?); nothing after it is read";
  return true;
}

// A small state machine over bytes. On a problem it notes the first one and goes on reading
// to the end of the row (a stray quote is then kept as text), so the next row starts right.
bool CsvReader::ReadRow() {
  row_.cells.clear();
  row_.quoted.clear();
  problem_.clear();
  if (gave_up_) return false;
  auto note = [&](std::string what) {
    if (problem_.empty()) problem_ = std::move(what);
  };
  // Skip blank lines.
  while (true) {
    const int c = Peek();
    if (c == -1) return false;
    if (c == '\n') {
      Get();
      ++line_number_;
    } else if (c == '\r') {
      Get();
      if (Peek() == '\n') Get();
      ++line_number_;
    } else {
      break;
    }
  }
  row_.line_number = line_number_;
  size_t row_bytes = 0;
  std::string cell;
  bool quoted = false;
  while (true) {
    // One cell.
    cell.clear();
    quoted = false;
    int c = Get();
    if (c == '"') {
      quoted = true;
      const size_t opened_on = line_number_;
      while (true) {
        c = Get();
        if (c == -1) {
          note("the quoted cell that starts on line " + std::to_string(opened_on) + " is not closed");
          break;
        }
        if (c == '"') {
          if (Peek() == '"') {
            Get();
            cell += '"';
            continue;
          }
          c = Get();  // what follows the closing quote
          break;
        }
        if (c == '\n' || (c == '\r' && Peek() != '\n')) ++line_number_;
        cell += static_cast<char>(c);
        if (++row_bytes > kMaxRowBytes) return GiveUp();
      }
      // After the closing quote: a separator, a line end or the end of the input.
      while (c != -1 && c != ',' && c != '\n' && c != '\r') {
        note("text after the closing quote of cell " + std::to_string(row_.cells.size() + 1));
        cell += static_cast<char>(c);
        c = Get();
      }
    } else {
      while (c != -1 && c != ',' && c != '\n' && c != '\r') {
        if (c == '"') note("a quote inside cell " + std::to_string(row_.cells.size() + 1) + ", which is not quoted");
        cell += static_cast<char>(c);
        if (++row_bytes > kMaxRowBytes) return GiveUp();
        c = Get();
      }
    }
    row_.cells.push_back(cell);
    row_.quoted.push_back(quoted);
    if (c == ',') continue;
    if (c == '\r' && Peek() == '\n') Get();
    if (c == '\n' || c == '\r') ++line_number_;
    if (c == -1 || c == '\n' || c == '\r' || !problem_.empty()) return true;
  }
}

std::optional<CsvRow> CsvReader::NextRow() {
  if (header_.empty() || !ReadRow()) {
    if (in_.bad()) throw InvalidArgument("cannot read " + source_);
    return std::nullopt;
  }
  const std::string where = source_ + " line " + std::to_string(row_.line_number) + ": ";
  if (!problem_.empty()) throw InvalidArgument(where + problem_);
  if (row_.cells.size() != header_.size()) {
    throw InvalidArgument(where + std::to_string(row_.cells.size()) + (row_.cells.size() == 1 ? " cell" : " cells") +
                          ", the header has " + std::to_string(header_.size()));
  }
  return row_;
}

std::optional<CsvRecord> CsvReader::NextRecord() {
  std::optional<CsvRow> row = NextRow();
  if (!row) return std::nullopt;
  CsvRecord record{row->line_number, Json::object()};
  const std::string where = source_ + " line " + std::to_string(row->line_number) + ": ";
  for (size_t i = 0; i < header_.size(); ++i) {
    std::string& text = row->cells[i];
    const bool quoted = row->quoted[i];
    const CsvCellType type = header_columns_[i].type;
    // Empty is absent, except that a quoted empty cell of text is the empty string.
    if (text.empty() && !(quoted && (type == CsvCellType::kString || type == CsvCellType::kAny))) continue;
    std::variant<Json, std::string> value = CellValue(text, quoted, type);
    if (const std::string* problem = std::get_if<std::string>(&value)) {
      throw InvalidArgument(where + "column " + header_[i] + ": " + *problem);
    }
    if (!Place(record.value, header_columns_[i].path, std::move(std::get<Json>(value)))) {
      throw InvalidArgument(where + "column " + header_[i] + ": a value inside one that is not an object");
    }
  }
  return record;
}

}  // namespace s3db

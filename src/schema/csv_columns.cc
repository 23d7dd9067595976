// CsvColumnsFor (include/s3db/csv.h): a resource's CSV columns and cell types, from its parsed
// attribute rules. Here rather than in format/ (where the CSV codec is) because it needs the
// rule language.
//
// May call: format/, util/.
#include <algorithm>
#include <string>
#include <vector>

#include "s3db/csv.h"
#include "schema/schema_rules.h"

namespace s3db {
namespace {

using core::FieldRule;
using core::FieldType;

CsvCellType CellTypeOf(const FieldRule& rule) {
  switch (rule.type) {
    case FieldType::kString:
    case FieldType::kEmail:
    case FieldType::kUrl:
    case FieldType::kUuid:
    case FieldType::kDate:
    case FieldType::kSecret:
      return CsvCellType::kString;
    case FieldType::kNumber:
    case FieldType::kCurrency:
      return CsvCellType::kNumber;
    case FieldType::kBoolean:
      return CsvCellType::kBoolean;
    case FieldType::kArray:
    case FieldType::kObject:
      return CsvCellType::kJson;
    case FieldType::kEnum: {
      const bool all_strings = std::all_of(rule.enum_values.begin(), rule.enum_values.end(),
                                           [](const Json& value) { return value.is_string(); });
      return all_strings ? CsvCellType::kString : CsvCellType::kAny;
    }
    case FieldType::kMulti: {
      // One cell type when every alternative reads the same way, else JSON-or-text.
      if (rule.alternatives.empty()) return CsvCellType::kAny;
      const CsvCellType first = CellTypeOf(rule.alternatives.front());
      for (const FieldRule& alternative : rule.alternatives) {
        if (alternative.type == FieldType::kNested || CellTypeOf(alternative) != first) return CsvCellType::kAny;
      }
      return first;
    }
    case FieldType::kAny:
    case FieldType::kNested:
      break;
  }
  return CsvCellType::kAny;
}

void AddColumns(const std::vector<FieldRule>& rules, std::vector<CsvColumn>& columns) {
  for (const FieldRule& rule : rules) {
    if (rule.type != FieldType::kNested) {
      columns.push_back({rule.path, CellTypeOf(rule)});
      continue;
    }
    // A nested object that keeps undeclared fields holds them in a column of its own.
    if (rule.strict == core::Strictness::kKeep) columns.push_back({rule.path, CsvCellType::kJson});
    AddColumns(rule.children, columns);
  }
}

}  // namespace

std::vector<CsvColumn> CsvColumnsFor(const ResourceDefinition& definition) {
  const core::Schema schema = core::ParseAttributes(definition.attributes);
  std::vector<CsvColumn> columns;
  columns.push_back({"id", schema.id ? CellTypeOf(*schema.id) : CsvCellType::kString});
  AddColumns(schema.fields, columns);
  if (definition.timestamps) {
    for (const char* field : {"createdAt", "updatedAt"}) {
      const bool declared =
          std::any_of(columns.begin(), columns.end(), [&](const CsvColumn& column) { return column.path == field; });
      if (!declared) columns.push_back({field, CsvCellType::kString});
    }
  }
  return columns;
}

}  // namespace s3db

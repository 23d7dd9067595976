// Partitions as a resource definition declares them, and what a record's data makes of them.
//
//   "partitions": {"byRegion": {"fields": {"region": "string"}},
//                  "byState":  {"fields": [{"address.country": "string|maxlength:2"},
//                                          {"address.state": "string"}]}}
//
// A partition names one or more fields (dot paths of scalar attributes); each field's rule
// (schema_rules.h ParsePartitionFieldRule) turns its value into the text of one key level.
// The levels of a reference key follow the fields in key order: for "fields" written as a
// JSON object that is the byte order of the paths (JSON objects are unordered, and
// nlohmann::json keeps them sorted, so the order they were typed in is gone); an array of
// one-member objects keeps the order it is written in. docs/FORMAT.md "Partition references".
//
// Thread-safety: pure functions over immutable values.
//
// May call: format/, util/.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "format/key_layout.h"
#include "s3db/record.h"
#include "schema/schema_rules.h"

namespace s3db::core {

struct PartitionSpec {
  std::string name;
  std::vector<PartitionFieldRule> fields;  // in key order
};

// Parses and checks a definition's "partitions" against its schema (timestamps fields
// included). Throws InvalidSchema naming the resource, the partition and the field: a bad
// partition name, no fields, a field that is not a scalar attribute, a secret field (its
// value would sit in clear in a key), an unknown rule. A "date" field without maxlength
// keeps the day (YYYY-MM-DD), as s3db.js does.
std::vector<PartitionSpec> ParsePartitions(const std::string& resource, const Json& partitions, const Schema& schema);

// Storage paths some partition reads (body-overflow keeps them in metadata).
std::set<std::string> PartitionPaths(const std::vector<PartitionSpec>& partitions);

// The value at a dotted path ("address.country") of a JSON object; nullptr when a step is
// missing or not an object.
const Json* FindPath(const Json& data, const std::string& path);

const PartitionSpec* FindPartition(const std::vector<PartitionSpec>& partitions, const std::string& name);

// The key levels of a record's data: nullopt when a field is absent, null, or holds an array
// or object (such a record has no reference in this partition).
std::optional<format::PartitionSegments> RecordSegments(const PartitionSpec& partition, const Json& data);

// The key levels for caller-given values ({"address.country": "US"}), each through its
// field's rule. The values must name a leading run of the partition's fields (all of them
// with `require_all`); anything else is InvalidArgument naming the resource and partition.
format::PartitionSegments ValueSegments(const std::string& resource, const PartitionSpec& partition, const Json& values,
                                        bool require_all);

// Partition name -> reference key, for every partition the data has values for.
std::map<std::string, std::string> ReferenceKeys(const format::KeyLayout& layout, const std::string& resource,
                                                 const std::vector<PartitionSpec>& partitions, const Json& data,
                                                 const std::string& id);

}  // namespace s3db::core

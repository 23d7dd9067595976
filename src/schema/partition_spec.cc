#include "schema/partition_spec.h"

#include <algorithm>
#include <functional>

#include "s3db/errors.h"
#include "schema/rule_messages.h"

namespace s3db::core {
namespace {

std::string FieldList(const PartitionSpec& partition) {
  std::string out;
  for (const auto& f : partition.fields) out += (out.empty() ? "'" : ", '") + f.path + "'";
  return out;
}

// (path, rule text) pairs of one partition's "fields", in key order.
std::vector<std::pair<std::string, Json>> FieldEntries(const Json& fields,
                                                       const std::function<void(const std::string&)>& bad) {
  std::vector<std::pair<std::string, Json>> out;
  if (fields.is_object()) {
    for (const auto& [path, rule] : fields.items()) out.emplace_back(path, rule);  // byte order
  } else if (fields.is_array()) {
    for (const Json& item : fields) {
      if (!item.is_object() || item.size() != 1) {
        bad("each item of a \"fields\" array must be an object with one member, {\"path\": \"rule\"}");
      }
      out.emplace_back(item.begin().key(), item.begin().value());
    }
  } else {
    bad("\"fields\" must be an object {\"path\": \"rule\"} or an array of such one-member objects");
  }
  if (out.empty()) bad("\"fields\" names no field");
  return out;
}

}  // namespace

const Json* FindPath(const Json& data, const std::string& path) {
  const Json* node = &data;
  size_t start = 0;
  while (true) {
    const size_t dot = path.find('.', start);
    if (!node->is_object()) return nullptr;
    auto it = node->find(path.substr(start, dot - start));
    if (it == node->end()) return nullptr;
    node = &*it;
    if (dot == std::string::npos) return node;
    start = dot + 1;
  }
}

std::vector<PartitionSpec> ParsePartitions(const std::string& resource, const Json& partitions, const Schema& schema) {
  const std::string where = "resource '" + resource + "': ";
  if (!partitions.is_object()) throw InvalidSchema(where + "'partitions' must be an object", resource);
  std::vector<PartitionSpec> out;
  for (const auto& [name, definition] : partitions.items()) {
    const std::string subject = where + "partition '" + name + "': ";
    auto bad = [&](const std::string& what) { throw InvalidSchema(subject + what, resource); };
    if (Status ok = format::ValidatePartitionName(name); !ok.ok()) bad(ok.message());
    if (!definition.is_object()) bad("must be an object {\"fields\": {...}}");
    for (const auto& [key, value] : definition.items()) {
      if (key != "fields") bad("unknown key '" + key + "' (a partition has only \"fields\")");
    }
    if (!definition.contains("fields")) bad("has no \"fields\"");
    PartitionSpec spec;
    spec.name = name;
    for (const auto& [path, rule_text] : FieldEntries(definition["fields"], bad)) {
      const std::string field = "field '" + path + "' ";
      if (!rule_text.is_string()) bad(field + "needs a rule text such as \"string\" or \"date|maxlength:10\"");
      if (path.find('[') != std::string::npos)
        bad(field + "is inside an array; a partition field is a scalar attribute");
      const FieldRule* attribute = schema.Find(path);
      if (attribute == nullptr) bad(field + "is not an attribute of the resource");
      if (attribute->is_secret()) bad(field + "is a secret; its value would be readable in the reference's key");
      if (attribute->type == FieldType::kNested || attribute->type == FieldType::kObject ||
          attribute->type == FieldType::kArray) {
        bad(field + "is not a scalar (type '" + (attribute->type_name.empty() ? "object" : attribute->type_name) +
            "')");
      }
      for (const auto& f : spec.fields) {
        if (f.path == path) bad(field + "is given twice");
      }
      PartitionFieldRule rule;
      try {
        rule = ParsePartitionFieldRule(path, rule_text.get<std::string>());
      } catch (const InvalidSchema& e) {
        bad(e.what());
      }
      // A partition on a whole timestamp holds one record per millisecond; the day is what
      // s3db.js keeps for a date rule, so that is the default.
      if (rule.type == FieldType::kDate && !rule.maxlength) rule.maxlength = 10;
      spec.fields.push_back(std::move(rule));
    }
    out.push_back(std::move(spec));
  }
  return out;
}

std::set<std::string> PartitionPaths(const std::vector<PartitionSpec>& partitions) {
  std::set<std::string> paths;
  for (const auto& p : partitions) {
    for (const auto& f : p.fields) paths.insert(f.path);
  }
  return paths;
}

const PartitionSpec* FindPartition(const std::vector<PartitionSpec>& partitions, const std::string& name) {
  for (const auto& p : partitions) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

std::optional<format::PartitionSegments> RecordSegments(const PartitionSpec& partition, const Json& data) {
  format::PartitionSegments segments;
  for (const auto& field : partition.fields) {
    const Json* value = FindPath(data, field.path);
    if (value == nullptr) return std::nullopt;
    std::optional<std::string> text = PartitionSegment(field, *value);
    if (!text) return std::nullopt;
    segments.emplace_back(field.path, std::move(*text));
  }
  return segments;
}

format::PartitionSegments ValueSegments(const std::string& resource, const PartitionSpec& partition, const Json& values,
                                        bool require_all) {
  const std::string subject = "resource '" + resource + "', partition '" + partition.name + "': ";
  if (!values.is_object()) throw InvalidArgument(subject + "partition values must be a JSON object", resource);
  for (const auto& item : values.items()) {
    const std::string& path = item.key();  // not a structured binding: clang 14 cannot capture one
    const bool known = std::any_of(partition.fields.begin(), partition.fields.end(),
                                   [&](const PartitionFieldRule& f) { return f.path == path; });
    if (!known) {
      throw InvalidArgument(subject + "no field '" + path + "' (its fields: " + FieldList(partition) + ")", resource);
    }
  }
  format::PartitionSegments segments;
  for (const auto& field : partition.fields) {
    auto it = values.find(field.path);
    if (it == values.end()) break;
    std::optional<std::string> text = PartitionSegment(field, *it);
    if (!text) {
      throw InvalidArgument(subject + "the value of '" + field.path + "' must be a string, number or boolean, got " +
                                rules::KindOf(*it) + ", " + rules::Shorten(*it),
                            resource);
    }
    segments.emplace_back(field.path, std::move(*text));
  }
  if (segments.size() != values.size()) {
    // A gap: the key levels go in field order, so only a leading run makes a prefix.
    throw InvalidArgument(subject + "values must give the fields in order, a leading run of " + FieldList(partition) +
                              "; '" + partition.fields[segments.size()].path + "' is missing",
                          resource);
  }
  if (require_all && segments.size() != partition.fields.size()) {
    throw InvalidArgument(subject + "needs a value for every field (" + FieldList(partition) + "); '" +
                              partition.fields[segments.size()].path + "' is missing",
                          resource);
  }
  return segments;
}

std::map<std::string, std::string> ReferenceKeys(const format::KeyLayout& layout, const std::string& resource,
                                                 const std::vector<PartitionSpec>& partitions, const Json& data,
                                                 const std::string& id) {
  std::map<std::string, std::string> keys;
  for (const auto& p : partitions) {
    if (auto segments = RecordSegments(p, data)) keys[p.name] = layout.PartitionKey(resource, p.name, *segments, id);
  }
  return keys;
}

}  // namespace s3db::core

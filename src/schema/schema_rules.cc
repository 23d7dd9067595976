// What a parsed Schema answers about itself: its secret and unique fields, the rule at a
// storage path, and the storage paths in registry order. Parsing is rule_parser.cc,
// validation rule_validator.cc, partition field rules partition_field_rule.cc.
#include "schema/schema_rules.h"

namespace s3db::core {
namespace {

void CollectPaths(const std::vector<FieldRule>& rules, std::vector<std::string>* out) {
  for (const auto& r : rules) {
    out->push_back(r.path);
    CollectPaths(r.children, out);
  }
}

const FieldRule* FindIn(const std::vector<FieldRule>& rules, const std::string& path) {
  for (const auto& r : rules) {
    if (r.path == path) return &r;
    if (r.type == FieldType::kNested && path.compare(0, r.path.size() + 1, r.path + ".") == 0) {
      if (const FieldRule* found = FindIn(r.children, path)) return found;
    }
  }
  return nullptr;
}

void CollectSecrets(const std::vector<FieldRule>& rules, std::vector<std::string>* out) {
  for (const auto& r : rules) {
    if (r.is_secret()) out->push_back(r.path);
    CollectSecrets(r.children, out);
  }
}

void CollectUnique(const std::vector<FieldRule>& rules, std::vector<const FieldRule*>* out) {
  for (const auto& r : rules) {
    if (r.unique && r.type != FieldType::kArray) out->push_back(&r);
    CollectUnique(r.children, out);
  }
}

}  // namespace

bool Schema::HasSecrets() const { return !SecretPaths().empty(); }

std::vector<std::string> Schema::SecretPaths() const {
  std::vector<std::string> out;
  CollectSecrets(fields, &out);
  return out;
}

std::vector<const FieldRule*> Schema::UniqueFields() const {
  std::vector<const FieldRule*> out;
  CollectUnique(fields, &out);
  return out;
}

const FieldRule* Schema::Find(const std::string& path) const { return FindIn(fields, path); }

std::vector<std::string> StoragePaths(const Schema& schema) {
  std::vector<std::string> out;
  CollectPaths(schema.fields, &out);
  return out;
}

}  // namespace s3db::core

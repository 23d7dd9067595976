#include <set>

#include "s3db/errors.h"
#include "s3db/record.h"
#include "schema/behavior.h"
#include "schema/schema_rules.h"
#include "util/crypto_hash.h"

namespace s3db {
namespace core {

std::optional<Behavior> ParseBehavior(const std::string& name) {
  if (name == "user-managed" || name == "user-management") return Behavior::kUserManaged;
  if (name == "enforce-limits") return Behavior::kEnforceLimits;
  if (name == "truncate-data" || name == "data-truncate") return Behavior::kTruncateData;
  if (name == "body-overflow") return Behavior::kBodyOverflow;
  if (name == "body-only") return Behavior::kBodyOnly;
  return std::nullopt;
}

const char* BehaviorName(Behavior behavior) {
  switch (behavior) {
    case Behavior::kUserManaged:
      return "user-managed";
    case Behavior::kEnforceLimits:
      return "enforce-limits";
    case Behavior::kTruncateData:
      return "truncate-data";
    case Behavior::kBodyOverflow:
      return "body-overflow";
    case Behavior::kBodyOnly:
      return "body-only";
  }
  return "user-managed";
}

}  // namespace core

ResourceDefinition ResourceDefinition::FromJson(const std::string& name, const Json& document) {
  if (!document.is_object()) throw InvalidSchema("a resource definition must be a JSON object", name);
  static const std::set<std::string> kTopKeys = {"name",       "attributes",      "behavior", "timestamps",
                                                 "partitions", "asyncPartitions", "options"};
  static const std::set<std::string> kOptionKeys = {"behavior", "timestamps", "partitions", "asyncPartitions"};
  for (const auto& [key, value] : document.items()) {
    if (!kTopKeys.count(key))
      throw InvalidSchema("unknown key '" + key + "' in the definition of '" + name + "'", name);
  }
  ResourceDefinition def;
  def.name = name;
  if (document.contains("name") && document["name"] != name) {
    throw InvalidSchema("the definition names resource '" + document["name"].dump() + "', not '" + name + "'", name);
  }
  if (!document.contains("attributes")) throw InvalidSchema("resource '" + name + "' has no attributes", name);
  def.attributes = document["attributes"];
  Json options = document.value("options", Json::object());
  if (!options.is_object()) throw InvalidSchema("'options' must be an object", name);
  for (const auto& [key, value] : options.items()) {
    if (!kOptionKeys.count(key))
      throw InvalidSchema("unknown option '" + key + "' in the definition of '" + name + "'", name);
    if (document.contains(key)) throw InvalidSchema("'" + key + "' is given twice (top level and under options)", name);
  }
  auto pick = [&](const char* key) -> const Json* {
    if (document.contains(key)) return &document[key];
    if (options.contains(key)) return &options[key];
    return nullptr;
  };
  if (const Json* b = pick("behavior")) {
    if (!b->is_string()) throw InvalidSchema("'behavior' must be a string", name);
    def.behavior = b->get<std::string>();
  }
  if (const Json* t = pick("timestamps")) {
    if (!t->is_boolean()) throw InvalidSchema("'timestamps' must be true or false", name);
    def.timestamps = t->get<bool>();
  }
  if (const Json* p = pick("partitions")) {
    if (!p->is_object()) throw InvalidSchema("'partitions' must be an object", name);
    def.partitions = *p;
  }
  if (const Json* a = pick("asyncPartitions")) {
    if (!a->is_boolean()) throw InvalidSchema("'asyncPartitions' must be true or false", name);
    def.async_partitions = a->get<bool>();
  }
  return def;
}

Json ResourceDefinition::ToJson() const {
  Json out{{"name", name},
           {"attributes", attributes},
           {"behavior", behavior},
           {"timestamps", timestamps},
           {"partitions", partitions}};
  // Only when set, so definitions (and catalogs) written before the option read the same.
  if (async_partitions) out["asyncPartitions"] = true;
  return out;
}

Json ResourceDefinition::Export() const {
  Json out = ToJson();
  out["hash"] = DefinitionHash();
  return out;
}

ResourceDefinition ResourceDefinition::Import(const Json& exported) {
  if (!exported.is_object() || !exported.contains("name") || !exported["name"].is_string()) {
    throw InvalidSchema("a schema export must be a JSON object with the resource's \"name\"");
  }
  const std::string name = exported["name"].get<std::string>();
  Json document = exported;
  document.erase("version");
  document.erase("fields");
  document.erase("hash");
  ResourceDefinition def = FromJson(name, document);
  if (exported.contains("hash")) {
    if (!exported["hash"].is_string() || exported["hash"].get<std::string>() != def.DefinitionHash()) {
      throw InvalidSchema("the schema export of '" + name + "' does not match its hash " + exported["hash"].dump() +
                              " (it was changed after the export; remove \"hash\" to import an edited schema)",
                          name);
    }
  }
  return def;
}

std::string ResourceDefinition::DefinitionHash() const {
  // nlohmann::json keeps object keys sorted, so dump() is canonical.
  Json canonical{{"attributes", attributes},
                 {"behavior", core::BehaviorName(core::ParseBehavior(behavior).value_or(core::Behavior::kUserManaged))},
                 {"timestamps", timestamps},
                 {"partitions", partitions}};
  // Only when set, so every hash recorded before the option existed stays what it was.
  if (async_partitions) canonical["asyncPartitions"] = true;
  return "sha256:" + util::HexEncode(util::Sha256(canonical.dump(-1, ' ', true)));
}

}  // namespace s3db

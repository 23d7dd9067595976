#include "openapi.h"

#include <set>
#include <sstream>

#include "s3db/version.h"
#include "text_codec.h"

namespace s3db::serve {
namespace {

std::vector<std::string> SplitRule(const std::string& text) {
  std::vector<std::string> parts;
  std::istringstream in(text);
  for (std::string part; std::getline(in, part, '|');) parts.push_back(part);
  return parts;
}

Json TypeSchema(const std::string& type) {
  if (type == "string" || type == "secret" || type == "email" || type == "url" || type == "uuid" || type == "date" ||
      type == "currency") {
    Json schema{{"type", "string"}};
    if (type == "email") schema["format"] = "email";
    if (type == "url") schema["format"] = "uri";
    if (type == "uuid") schema["format"] = "uuid";
    return schema;
  }
  if (type == "number") return Json{{"type", "number"}};
  if (type == "boolean") return Json{{"type", "boolean"}};
  if (type == "array") return Json{{"type", "array"}};
  if (type == "object") return Json{{"type", "object"}};
  return Json::object();  // any, json, enum, and what the rules alone decide
}

Json FromShorthand(const std::string& text) {
  const std::vector<std::string> parts = SplitRule(text);
  if (parts.empty()) return Json::object();
  Json schema = TypeSchema(parts[0]);
  for (size_t i = 1; i < parts.size(); ++i) {
    const std::string& part = parts[i];
    if (part == "integer" && schema.value("type", "") == "number") schema["type"] = "integer";
    if (part.rfind("items:", 0) == 0 && schema.value("type", "") == "array") {
      schema["items"] = TypeSchema(part.substr(6));
    }
  }
  return schema;
}

bool IsObjectRule(const Json& rule) {
  return rule.is_object() && !rule.contains("type");  // a nested object of fields
}

Json ObjectSchema(const Json& fields) {
  Json properties = Json::object();
  for (const auto& [name, rule] : fields.items()) {
    if (name.rfind("$$", 0) == 0) continue;  // $$type and other directives
    properties[name] = RuleToJsonSchema(rule);
  }
  return Json{{"type", "object"}, {"properties", properties}};
}

}  // namespace

Json RuleToJsonSchema(const Json& rule) {
  if (rule.is_string()) return FromShorthand(rule.get<std::string>());
  if (rule.is_array()) {
    Json any = Json::array();
    for (const Json& alternative : rule) any.push_back(RuleToJsonSchema(alternative));
    return Json{{"anyOf", any}};
  }
  if (IsObjectRule(rule)) return ObjectSchema(rule);
  if (rule.is_object()) {
    const Json type = rule["type"];
    Json schema = type.is_string() ? FromShorthand(type.get<std::string>()) : Json::object();
    if (schema.value("type", "") == "number" && rule.value("integer", false)) schema["type"] = "integer";
    if (auto props = rule.find("props"); props != rule.end() && props->is_object()) {
      schema = ObjectSchema(*props);
    } else if (auto properties = rule.find("properties"); properties != rule.end() && properties->is_object()) {
      schema = ObjectSchema(*properties);
    }
    if (auto items = rule.find("items"); items != rule.end() && schema.value("type", "") == "array") {
      schema["items"] = RuleToJsonSchema(*items);
    }
    if (auto values = rule.find("values"); values != rule.end() && values->is_array() && !values->empty()) {
      schema["enum"] = *values;
    }
    return schema;
  }
  return Json::object();
}

namespace {

// Component names allow [A-Za-z0-9._-] only.
std::string ComponentName(const std::string& resource, std::set<std::string>& taken) {
  std::string name = "Record_";
  for (char c : resource) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
    name.push_back(ok ? c : '_');
  }
  std::string unique = name;
  for (int n = 2; !taken.insert(unique).second; ++n) unique = name + "_" + std::to_string(n);
  return unique;
}

Json JsonContent(const Json& schema) { return Json{{"application/json", {{"schema", schema}}}}; }

Json Answer(const std::string& description, const Json& schema = Json()) {
  Json answer{{"description", description}};
  if (!schema.is_null()) answer["content"] = JsonContent(schema);
  return answer;
}

Json ProblemAnswers(std::initializer_list<int> statuses) {
  Json answers = Json::object();
  for (int status : statuses) {
    answers[std::to_string(status)] =
        Json{{"description", "a problem (RFC 9457)"},
             {"content", {{"application/problem+json", {{"schema", {{"$ref", "#/components/schemas/Problem"}}}}}}}};
  }
  return answers;
}

Json Merge(Json a, const Json& b) {
  for (const auto& [key, value] : b.items()) a[key] = value;
  return a;
}

Json Parameter(const std::string& name, const std::string& where, bool required, const Json& schema,
               const std::string& description) {
  return Json{{"name", name}, {"in", where}, {"required", required}, {"schema", schema}, {"description", description}};
}

}  // namespace

Json OpenApiDocument(Database& database, bool secured) {
  Json paths = Json::object();
  Json schemas = Json::object();
  schemas["Problem"] = Json{{"type", "object"},
                            {"properties",
                             {{"type", {{"type", "string"}}},
                              {"title", {{"type", "string"}}},
                              {"status", {{"type", "integer"}}},
                              {"detail", {{"type", "string"}}},
                              {"code", {{"type", "string"}}},
                              {"exitCode", {{"type", "integer"}}},
                              {"resource", {{"type", "string"}}},
                              {"id", {{"type", "string"}}},
                              {"errors", {{"type", "array"}, {"items", {{"type", "object"}}}}}}}};
  schemas["ResourceDefinition"] = Json{{"type", "object"},
                                       {"properties",
                                        {{"name", {{"type", "string"}}},
                                         {"attributes", {{"type", "object"}}},
                                         {"behavior", {{"type", "string"}}},
                                         {"timestamps", {{"type", "boolean"}}},
                                         {"partitions", {{"type", "object"}}},
                                         {"asyncPartitions", {{"type", "boolean"}}}}}};
  const Json text_plain{{"text/plain", {{"schema", {{"type", "string"}}}}}};
  paths["/healthz"]["get"] = Json{{"summary", "Liveness"},
                                  {"security", Json::array()},
                                  {"responses", {{"200", Answer("the server is up", {{"type", "object"}})}}}};
  paths["/metrics"]["get"] =
      Json{{"summary", "Prometheus metrics"},
           {"responses", {{"200", {{"description", "the text format"}, {"content", text_plain}}}}}};
  paths["/openapi.json"]["get"] =
      Json{{"summary", "This document"}, {"responses", {{"200", Answer("OpenAPI 3.1", {{"type", "object"}})}}}};
  paths["/v1/resources"]["get"] =
      Json{{"summary", "List resources"}, {"responses", {{"200", Answer("names and versions", {{"type", "object"}})}}}};
  paths["/v1/resources"]["post"] =
      Json{{"summary", "Create a resource"},
           {"requestBody",
            {{"required", true}, {"content", JsonContent({{"$ref", "#/components/schemas/ResourceDefinition"}})}}},
           {"responses", Merge({{"201", Answer("created", {{"type", "object"}})}}, ProblemAnswers({400, 409, 422}))}};
  const Json name_parameter = Parameter("name", "path", true, {{"type", "string"}}, "the resource");
  paths["/v1/resources/{name}"] =
      Json{{"parameters", Json::array({name_parameter})},
           {"get",
            {{"summary", "A resource's definition and version"},
             {"responses", Merge({{"200", Answer("the definition", {{"type", "object"}})}}, ProblemAnswers({404}))}}},
           {"put",
            {{"summary", "Create a resource, or record a new version of its definition"},
             {"requestBody",
              {{"required", true}, {"content", JsonContent({{"$ref", "#/components/schemas/ResourceDefinition"}})}}},
             {"responses", Merge({{"200", Answer("unchanged or a new version", {{"type", "object"}})},
                                  {"201", Answer("created", {{"type", "object"}})}},
                                 ProblemAnswers({400, 422}))}}},
           {"delete",
            {{"summary", "Drop a resource and every record"},
             {"responses", Merge({{"204", Answer("dropped")}}, ProblemAnswers({404}))}}}};

  std::set<std::string> taken;
  for (const std::string& name : database.ResourceNames()) {
    ResourceDefinition definition;
    try {
      definition = database.resource(name).definition();
    } catch (const Error&) {
      continue;  // dropped meanwhile
    }
    const std::string component = ComponentName(name, taken);
    Json record = ObjectSchema(definition.attributes);
    record["properties"]["id"] = Json{{"type", "string"}};
    if (definition.timestamps) {
      record["properties"]["createdAt"] = Json{{"type", "string"}};
      record["properties"]["updatedAt"] = Json{{"type", "string"}};
    }
    schemas[component] = record;
    const Json ref{{"$ref", "#/components/schemas/" + component}};
    const Json list_schema{
        {"type", "object"},
        {"properties", {{"items", {{"type", "array"}, {"items", ref}}}, {"next", {{"type", {"string", "null"}}}}}}};
    const std::string base = "/v1/" + PercentEncodeSegment(name);
    const Json etag_header{{"ETag", {{"description", "the record's S3 ETag"}, {"schema", {{"type", "string"}}}}}};
    Json created = Answer("inserted", ref);
    created["headers"] = etag_header;
    Json found = Answer("the record", ref);
    found["headers"] = etag_header;
    const Json if_match = Parameter("If-Match", "header", false, {{"type", "string"}}, "write only at this ETag");
    paths[base] = Json{
        {"get",
         {{"summary", "List " + name},
          {"parameters",
           Json::array(
               {Parameter("limit", "query", false, {{"type", "integer"}, {"minimum", 1}},
                          "records per page (default 100, at most 1000)"),
                Parameter("cursor", "query", false, {{"type", "string"}}, "the previous page's \"next\""),
                Parameter("partition", "query", false, {{"type", "string"}}, "a partition"),
                Parameter("values", "query", false, {{"type", "string"}}, "the partition's values as a JSON object")})},
          {"responses", Merge({{"200", Answer("a page", list_schema)}}, ProblemAnswers({400, 404}))}}},
        {"post",
         {{"summary", "Insert into " + name},
          {"requestBody", {{"required", true}, {"content", JsonContent(ref)}}},
          {"responses", Merge({{"201", created}}, ProblemAnswers({400, 404, 409, 422}))}}}};
    paths[base + "/{id}"] =
        Json{{"parameters", Json::array({Parameter("id", "path", true, {{"type", "string"}}, "the record's id")})},
             {"get",
              {{"summary", "Get a record of " + name},
               {"responses", Merge({{"200", found}, {"304", Answer("not modified")}}, ProblemAnswers({404}))}}},
             {"head",
              {{"summary", "Whether the record exists"},
               {"responses", {{"200", Answer("it exists")}, {"404", Answer("it does not")}}}}},
             {"patch",
              {{"summary", "Merge a patch into a record"},
               {"parameters", Json::array({if_match})},
               {"requestBody", {{"required", true}, {"content", JsonContent({{"type", "object"}})}}},
               {"responses", Merge({{"200", found}}, ProblemAnswers({400, 404, 409, 412, 422}))}}},
             {"put",
              {{"summary", "Replace (or create) a record"},
               {"parameters", Json::array({if_match, Parameter("If-None-Match", "header", false, {{"type", "string"}},
                                                               "\"*\": create only")})},
               {"requestBody", {{"required", true}, {"content", JsonContent(ref)}}},
               {"responses", Merge({{"200", found}, {"201", created}}, ProblemAnswers({400, 404, 409, 412, 422}))}}},
             {"delete",
              {{"summary", "Delete a record"},
               {"parameters", Json::array({if_match})},
               {"responses", Merge({{"204", Answer("deleted")}}, ProblemAnswers({404, 412}))}}}};
    paths[base + "/count"]["get"] =
        Json{{"summary", "Count " + name},
             {"responses", Merge({{"200", Answer("the count", {{"type", "object"}})}}, ProblemAnswers({400, 404}))}};
    paths[base + "/query"]["post"] =
        Json{{"summary", "Query " + name + " by field values"},
             {"requestBody", {{"required", true}, {"content", JsonContent({{"type", "object"}})}}},
             {"responses", Merge({{"200", Answer("matches", {{"type", "object"}})}}, ProblemAnswers({400, 404}))}};
    const Json ndjson{{"application/x-ndjson", {{"schema", {{"type", "string"}}}}}};
    Json bulk_results{{"description", "one result per line (NDJSON)"}, {"content", ndjson}};
    paths[base + "/_bulk"]["post"] =
        Json{{"summary", "Insert or upsert NDJSON records"},
             {"requestBody", {{"required", true}, {"content", ndjson}}},
             {"responses", Merge(Json{{"200", bulk_results}}, ProblemAnswers({400, 404}))}};
    Json export_content = ndjson;
    export_content["text/csv"] = Json{{"schema", {{"type", "string"}}}};
    Json exported{{"description", "NDJSON or CSV"}, {"content", export_content}};
    const Json format_schema{{"type", "string"}, {"enum", Json::array({"ndjson", "csv"})}};
    paths[base + "/_export"]["get"] =
        Json{{"summary", "Every record, streamed"},
             {"parameters", Json::array({Parameter("format", "query", false, format_schema, "ndjson or csv")})},
             {"responses", Merge(Json{{"200", exported}}, ProblemAnswers({400, 404}))}};
  }

  Json document{{"openapi", "3.1.0"},
                {"info", {{"title", "s3db"}, {"version", LibraryVersion()}}},
                {"paths", paths},
                {"components", {{"schemas", schemas}}}};
  if (secured) {
    document["components"]["securitySchemes"] =
        Json{{"apiKey", {{"type", "apiKey"}, {"in", "header"}, {"name", "X-API-Key"}}},
             {"bearer", {{"type", "http"}, {"scheme", "bearer"}, {"bearerFormat", "JWT"}}}};
    document["security"] = Json::array({Json{{"apiKey", Json::array()}}, Json{{"bearer", Json::array()}}});
  }
  return document;
}

}  // namespace s3db::serve

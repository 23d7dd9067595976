// GET /openapi.json: an OpenAPI 3.1 document of this server, with a path set and a record
// schema per resource, generated from each resource's current definition (its rule language
// read as JSON Schema: types, nesting, arrays' items, enums; rules JSON Schema cannot say, a
// pattern in ECMAScript syntax or a custom message, are left to the server, which validates).
#pragma once

#include <string>

#include "s3db/database.h"

namespace s3db::serve {

// `secured`: the document declares the API-key and bearer schemes and requires one of them.
Json OpenApiDocument(Database& database, bool secured);

// One attribute's rule (string shorthand, object form, list of alternatives, nested object)
// as a JSON Schema. Exposed for the tests.
Json RuleToJsonSchema(const Json& rule);

}  // namespace s3db::serve

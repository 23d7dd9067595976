// Records and schemas: the document type (Json), what every read returns (Record), and what a
// resource is (ResourceDefinition).
//
// Each part below keeps its own contract comment.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>
#include "s3db/export.h"

// The document type of the public API: nlohmann::json (header-only, Debian nlohmann-json3-dev).
namespace s3db {
using Json = nlohmann::json;
}  // namespace s3db

// Record: what every read returns, the data plus the facts about the object that holds it.
namespace s3db {

struct S3DB_EXPORT Record {
  std::string id;
  Json data = Json::object();  // the fields, without "id"
  std::string etag;            // of the object as read or written (quoted, as S3 gives it)
  int64_t last_modified_ms = 0;
  int schema_version = 0;  // the resource version whose schema wrote this record
  // Behavior truncate-data: the fields (dot paths) that were shortened to fit the metadata
  // budget when this record was written. Empty otherwise.
  std::vector<std::string> truncated;

  // The fields plus "id"; with_meta adds "_etag", "_lastModified" (ISO 8601) and "_v", and
  // "_truncated" (the list above) when it is not empty.
  Json ToJson(bool with_meta = false) const;
};

}  // namespace s3db

// ResourceDefinition: what a resource is (its attributes and options), as given to
// Database::CreateResource and as stored in the catalog.
//
// `attributes` uses the seeds' rule language (docs/API.md "Resources"): a string shorthand
// per field ("string|min:2|max:100", "number|optional"), the object form
// ({"type": "string", "min": 2}), a list of alternatives (["string", "number"]) or a nested
// object of such fields ({"address": {"city": "string"}}), to any depth.
namespace s3db {

struct S3DB_EXPORT ResourceDefinition {
  std::string name = {};
  Json attributes = Json::object();
  std::string behavior = "user-managed";
  bool timestamps = false;  // adds createdAt / updatedAt (ISO 8601 strings)
  // {"byRegion": {"fields": {"region": "string"}}}: secondary indexes as key prefixes
  // (docs/API.md "Partitions"). "fields" may also be an array of one-member objects,
  // [{"address.country": "string"}, {"address.state": "string"}], to choose the key order;
  // an object's fields go in byte order of their paths.
  Json partitions = Json::object();
  // Write partition references in the background: a write returns once the record is stored,
  // and Resource::FlushPartitions waits for the references and reports what failed (also as
  // "partitionIndexError" events). Off: a write returns once its references are stored too.
  bool async_partitions = false;

  // Reads the schema-file form used by `s3db resource create --schema FILE`:
  // {"attributes": {...}, "behavior": "...", "timestamps": bool, "partitions": {...},
  // "asyncPartitions": bool}, where all but attributes may also sit under "options" as in
  // the seeds.
  // Throws InvalidSchema naming the problem.
  static ResourceDefinition FromJson(const std::string& name, const Json& document);

  // The form above (options inline), with the name under "name"; "asyncPartitions" only
  // when true.
  Json ToJson() const;

  // "sha256:<hex>" of the canonical JSON of attributes, behavior, timestamps and
  // partitions (and asyncPartitions when true): two definitions with the same hash define
  // the same resource.
  std::string DefinitionHash() const;

  // ToJson() plus "hash". Schema export for backup or migration (the seeds'
  // schema.export()); Resource::ExportSchema adds the version and field keys.
  Json Export() const;
  // Reads an export (Export() or Resource::ExportSchema()): the definition keys, with
  // "version" and "fields" ignored. When "hash" is present it must match the definition, so
  // a damaged export is refused; drop "hash" to import an edited one. Throws InvalidSchema.
  static ResourceDefinition Import(const Json& exported);
};

}  // namespace s3db

#include "api.h"

#include <algorithm>
#include <chrono>
#include <sstream>

#include "console.h"
#include "openapi.h"
#include "problem.h"
#include "s3db/csv.h"
#include "s3db/json_limits.h"
#include "s3db/record_stream.h"
#include "text_codec.h"

namespace s3db::serve {

// What a request's path names, once matched.
struct Api::Route {
  std::string name = "unmatched";  // the template, for /metrics
  std::string resource;            // decoded
  std::string id;                  // decoded
  std::string file;                // kConsole: the file's name, "" for the page
  enum class Kind {
    kNone,
    kHealth,
    kMetrics,
    kOpenApi,
    kResources,
    kResource,
    kCollection,
    kRecord,
    kCount,
    kQuery,
    kBulk,
    kExport,
    kConsole,
  } kind = Kind::kNone;
};

namespace {

using Kind = Api::Route::Kind;

constexpr size_t kChunkBytes = 64 * 1024;

HttpResponse JsonAnswer(int status, const Json& body) {
  HttpResponse response;
  response.status = status;
  response.SetHeader("Content-Type", "application/json");
  response.body = body.dump(-1, ' ', false, Json::error_handler_t::replace);
  return response;
}

HttpResponse Empty(int status) {
  HttpResponse response;
  response.status = status;
  return response;
}

// A JSON request body: the parsed value, or a 400 problem in `problem`.
std::optional<Json> ParseBody(const std::string& body, HttpResponse& problem, const char* what) {
  if (JsonTextTooDeep(body)) {
    problem = ServerProblem(400, std::string(what) + " is JSON " + TooDeepText());
    return std::nullopt;
  }
  Json value = ParseJsonOrDiscarded(body);
  if (value.is_discarded()) {
    problem = ServerProblem(400, std::string(what) + " is not valid JSON");
    return std::nullopt;
  }
  if (!value.is_object()) {
    problem = ServerProblem(400, std::string(what) + " must be a JSON object");
    return std::nullopt;
  }
  return value;
}

HttpResponse RecordAnswer(int status, const Record& record, bool meta) {
  HttpResponse response = JsonAnswer(status, record.ToJson(meta));
  response.SetHeader("ETag", record.etag);
  return response;
}

// A whole number query parameter within [min, max]; `fallback` when absent.
bool NumberParameter(const HttpRequest& request, const char* name, size_t fallback, size_t min, size_t max, size_t& out,
                     HttpResponse& problem) {
  const std::string* text = request.Query(name);
  if (text == nullptr) {
    out = fallback;
    return true;
  }
  size_t value = 0;
  bool ok = !text->empty() && text->size() <= 9;
  for (char c : *text) ok = ok && c >= '0' && c <= '9';
  if (ok) value = std::stoul(*text);
  if (!ok || value < min || value > max) {
    problem = ServerProblem(400, std::string("query parameter '") + name + "' must be a whole number from " +
                                     std::to_string(min) + " to " + std::to_string(max));
    return false;
  }
  out = value;
  return true;
}

// ?partition=NAME&values={"field":"value"}: a partition and its values, or a 400.
bool PartitionParameters(const HttpRequest& request, std::string& partition, Json& values, HttpResponse& problem) {
  if (const std::string* name = request.Query("partition")) partition = *name;
  values = Json::object();
  if (const std::string* text = request.Query("values")) {
    std::optional<Json> parsed = ParseBody(*text, problem, "query parameter 'values'");
    if (!parsed) return false;
    values = std::move(*parsed);
  }
  if (partition.empty() && !values.empty()) {
    problem = ServerProblem(400, "query parameter 'values' needs 'partition'");
    return false;
  }
  return true;
}

// Strips the weak marker and compares as S3 does (the quotes optional).
std::string Unquoted(std::string etag) {
  if (etag.rfind("W/", 0) == 0) etag.erase(0, 2);
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') etag = etag.substr(1, etag.size() - 2);
  return etag;
}

bool EtagListMatches(const std::string& header, const std::string& etag) {
  std::istringstream in(header);
  for (std::string item; std::getline(in, item, ',');) {
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (item == "*" || Unquoted(item) == Unquoted(etag)) return true;
  }
  return false;
}

// Collects output and hands it to the sink in pieces of kChunkBytes.
class ChunkBuffer {
 public:
  explicit ChunkBuffer(ChunkSink& sink) : sink_(sink) {}
  bool Add(std::string_view text) {
    buffer_.append(text);
    return buffer_.size() < kChunkBytes || Flush();
  }
  bool Flush() {
    if (buffer_.empty()) return true;
    const bool ok = sink_.Write(buffer_);
    buffer_.clear();
    return ok;
  }

 private:
  ChunkSink& sink_;
  std::string buffer_;
};

Api::Route Match(const std::vector<std::string>& segments, const std::string& method) {
  Api::Route route;
  const size_t n = segments.size();
  if (n == 0 || (n <= 2 && segments[0] == "console")) {  // the web console: "/", "/console/<file>"
    route.kind = Kind::kConsole;
    route.name = "/console";
    if (n == 2) route.file = segments[1];
  } else if (n == 1 && segments[0] == "healthz") {
    route.kind = Kind::kHealth;
    route.name = "/healthz";
  } else if (n == 1 && segments[0] == "metrics") {
    route.kind = Kind::kMetrics;
    route.name = "/metrics";
  } else if (n == 1 && segments[0] == "openapi.json") {
    route.kind = Kind::kOpenApi;
    route.name = "/openapi.json";
  } else if (n >= 2 && segments[0] == "v1" && segments[1] == "resources" && n <= 3) {
    route.kind = n == 2 ? Kind::kResources : Kind::kResource;
    route.name = n == 2 ? "/v1/resources" : "/v1/resources/{name}";
    if (n == 3) route.resource = segments[2];
  } else if (n == 2 && segments[0] == "v1") {
    route.kind = Kind::kCollection;
    route.name = "/v1/{resource}";
    route.resource = segments[1];
  } else if (n == 3 && segments[0] == "v1") {
    route.resource = segments[1];
    const std::string& last = segments[2];
    if (last == "count" && (method == "GET" || method == "HEAD")) {
      route.kind = Kind::kCount;
      route.name = "/v1/{resource}/count";
    } else if (last == "query" && method == "POST") {
      route.kind = Kind::kQuery;
      route.name = "/v1/{resource}/query";
    } else if (last == "_bulk" && method == "POST") {
      route.kind = Kind::kBulk;
      route.name = "/v1/{resource}/_bulk";
    } else if (last == "_export" && (method == "GET" || method == "HEAD")) {
      route.kind = Kind::kExport;
      route.name = "/v1/{resource}/_export";
    } else {
      route.kind = Kind::kRecord;
      route.name = "/v1/{resource}/{id}";
      route.id = last;
    }
  }
  return route;
}

// The methods each kind of route answers, for 405 and CORS.
const char* AllowedMethods(Kind kind) {
  switch (kind) {
    case Kind::kHealth:
    case Kind::kConsole:
    case Kind::kMetrics:
    case Kind::kOpenApi:
    case Kind::kCount:
    case Kind::kExport:
      return "GET, HEAD";
    case Kind::kResources:
      return "GET, HEAD, POST";
    case Kind::kResource:
      return "GET, HEAD, PUT, DELETE";
    case Kind::kCollection:
      return "GET, HEAD, POST";
    case Kind::kRecord:
      return "GET, HEAD, PUT, PATCH, DELETE";
    case Kind::kQuery:
    case Kind::kBulk:
      return "POST";
    case Kind::kNone:
      break;
  }
  return "";
}

}  // namespace

Api::Api(Database& database, ApiOptions options, AuthConfig auth, std::shared_ptr<CostsPlugin> costs,
         std::shared_ptr<CachePlugin> cache)
    : database_(database),
      options_(std::move(options)),
      authenticator_(std::move(auth)),
      costs_(std::move(costs)),
      cache_(std::move(cache)) {}

Api::~Api() = default;

HttpResponse Api::Handle(HttpRequest& request) {
  const auto started = std::chrono::steady_clock::now();
  ++metrics_.in_flight;
  Route route;
  HttpResponse response;
  std::vector<std::string> segments;
  bool path_ok = true;
  {
    std::string_view rest = request.path;
    while (!rest.empty()) {
      if (rest.front() == '/') {
        rest.remove_prefix(1);
        continue;
      }
      const size_t slash = rest.find('/');
      std::string decoded;
      path_ok = path_ok && PercentDecode(rest.substr(0, slash), false, decoded);
      segments.push_back(std::move(decoded));
      rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
    }
  }
  if (!path_ok) {
    response = ServerProblem(400, "malformed percent-escape in the path");
  } else {
    route = Match(segments, request.method);
    try {
      response = Dispatch(request, route);
    } catch (const Json::exception& error) {  // a member of the wrong JSON type in a body
      response = ServerProblem(400, std::string("unexpected JSON in the request: ") + error.what());
    } catch (const std::exception& error) {
      response = ProblemFor(error);
    }
  }
  // CORS: the allowed origin, and the headers a script may read.
  const std::string origin = request.Header("origin");
  if (!origin.empty() && !options_.cors_origins.empty()) {
    const bool any =
        std::find(options_.cors_origins.begin(), options_.cors_origins.end(), "*") != options_.cors_origins.end();
    if (any ||
        std::find(options_.cors_origins.begin(), options_.cors_origins.end(), origin) != options_.cors_origins.end()) {
      response.SetHeader("Access-Control-Allow-Origin", any ? "*" : origin);
      if (!any) response.SetHeader("Vary", "Origin");
      response.SetHeader("Access-Control-Expose-Headers", "ETag, Location, Retry-After");
    }
  }
  --metrics_.in_flight;
  metrics_.Record(route.name, request.method, response.status, std::chrono::steady_clock::now() - started);
  return response;
}

HttpResponse Api::Dispatch(HttpRequest& request, Route& route) {
  const std::string& method = request.method;
  if (route.kind == Kind::kNone) return ServerProblem(404, "no route for " + request.path);

  if (method == "OPTIONS") {  // CORS preflight, or a plain question: no credentials needed
    HttpResponse response = Empty(204);
    response.SetHeader("Allow", std::string(AllowedMethods(route.kind)) + ", OPTIONS");
    if (!request.Header("access-control-request-method").empty() && !options_.cors_origins.empty()) {
      response.SetHeader("Access-Control-Allow-Methods", std::string(AllowedMethods(route.kind)) + ", OPTIONS");
      response.SetHeader("Access-Control-Allow-Headers",
                         "Authorization, Content-Type, If-Match, If-None-Match, X-API-Key");
      response.SetHeader("Access-Control-Max-Age", "600");
    }
    return response;
  }
  const std::string allowed = AllowedMethods(route.kind);
  if (allowed.find(method) == std::string::npos || method.empty()) {
    HttpResponse response = ServerProblem(405, method + " is not allowed on " + route.name);
    response.SetHeader("Allow", allowed);
    return response;
  }

  if (route.kind == Kind::kHealth) return JsonAnswer(200, {{"status", "ok"}});
  // The console's files hold no data (the page asks for credentials when the API does).
  if (route.kind == Kind::kConsole) return ConsoleAnswer(route.file, request);

  // Who is calling, and may they do this?
  std::optional<Principal> principal;
  if (authenticator_.enabled()) {
    AuthOutcome outcome = authenticator_.Authenticate(request);
    if (!outcome.principal) {
      HttpResponse response = ServerProblem(401, outcome.problem);
      response.SetHeader("WWW-Authenticate", "Bearer");
      return response;
    }
    principal = std::move(outcome.principal);
  }
  const bool reads = method == "GET" || method == "HEAD" || route.kind == Kind::kQuery;
  Access needed = reads ? Access::kRead : Access::kWrite;
  std::string scope_resource = route.resource;
  if (route.kind == Kind::kResources && method == "POST") {
    needed = Access::kAdmin;
    HttpResponse problem;
    std::optional<Json> body = ParseBody(request.body, problem, "the resource definition");
    if (!body) return problem;
    scope_resource = body->value("name", "");
  } else if (route.kind == Kind::kResource && !reads) {
    needed = Access::kAdmin;
  }
  const bool any_principal =
      route.kind == Kind::kMetrics || route.kind == Kind::kOpenApi || (route.kind == Kind::kResources && reads);
  if (principal && !any_principal && !principal->Allows(needed, scope_resource)) {
    static const char* kNames[] = {"", "read", "write", "admin"};
    return ServerProblem(403, "'" + principal->name + "' has no " + kNames[static_cast<int>(needed)] +
                                  " scope on resource '" + scope_resource + "'");
  }

  switch (route.kind) {
    case Kind::kMetrics: {
      HttpResponse response;
      response.SetHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
      response.body = metrics_.Render(database_, costs_.get(), cache_.get());
      return response;
    }
    case Kind::kOpenApi:
      return JsonAnswer(200, OpenApiDocument(database_, authenticator_.enabled()));
    case Kind::kResources: {
      if (method == "POST") {
        HttpResponse problem;
        std::optional<Json> body = ParseBody(request.body, problem, "the resource definition");
        if (!body) return problem;
        const std::string name = body->value("name", "");
        if (name.empty()) return ServerProblem(400, "the resource definition needs a \"name\"");
        Json definition = *body;
        definition.erase("name");
        Resource& created = database_.CreateResource(ResourceDefinition::FromJson(name, definition));
        HttpResponse response = JsonAnswer(201, created.ExportSchema());
        response.SetHeader("Location", "/v1/resources/" + PercentEncodeSegment(name));
        return response;
      }
      Json list = Json::array();
      for (const std::string& name : database_.ResourceNames()) {
        if (principal && !principal->Allows(Access::kRead, name)) continue;
        try {
          list.push_back({{"name", name}, {"version", database_.resource(name).version()}});
        } catch (const NotFound&) {
          // dropped meanwhile
        }
      }
      return JsonAnswer(200, {{"resources", list}});
    }
    case Kind::kResource: {
      if (method == "DELETE") {
        database_.resource(route.resource);  // NotFound when there is none
        database_.DropResource(route.resource);
        return Empty(204);
      }
      if (method == "PUT") {
        HttpResponse problem;
        std::optional<Json> body = ParseBody(request.body, problem, "the resource definition");
        if (!body) return problem;
        if (body->contains("name") && (*body)["name"] != route.resource) {
          return ServerProblem(400,
                               "the definition's \"name\" differs from the path's resource '" + route.resource + "'");
        }
        Json definition = *body;
        definition.erase("name");
        CreateResourceResult result =
            database_.CreateResourceIfNotExists(ResourceDefinition::FromJson(route.resource, definition));
        Json answer = result.resource->ExportSchema();
        answer["reason"] = result.reason;
        HttpResponse response = JsonAnswer(result.created ? 201 : 200, answer);
        if (result.created) response.SetHeader("Location", "/v1/resources/" + PercentEncodeSegment(route.resource));
        return response;
      }
      return JsonAnswer(200, database_.resource(route.resource).ExportSchema());
    }
    default:
      break;
  }

  Resource& resource = database_.resource(route.resource);  // NotFound, InvalidArgument
  const bool meta = request.Query("meta") != nullptr && *request.Query("meta") == "true";
  HttpResponse problem;

  switch (route.kind) {
    case Kind::kCollection: {
      if (method == "POST") {
        std::optional<Json> body = ParseBody(request.body, problem, "the record");
        if (!body) return problem;
        Record record = resource.Insert(std::move(*body));
        HttpResponse response = RecordAnswer(201, record, meta);
        response.SetHeader("Location",
                           "/v1/" + PercentEncodeSegment(route.resource) + "/" + PercentEncodeSegment(record.id));
        return response;
      }
      size_t limit = 0;
      if (!NumberParameter(request, "limit", options_.default_page_size, 1, options_.max_page_size, limit, problem)) {
        return problem;
      }
      ListOptions list;
      if (!PartitionParameters(request, list.partition, list.partition_values, problem)) return problem;
      list.limit = limit;
      if (const std::string* cursor = request.Query("cursor")) {
        std::string decoded;
        Json position = Base64UrlDecode(*cursor, decoded) ? ParseJsonOrDiscarded(decoded) : Json();
        if (!position.is_object() || (position.contains("after") && !position["after"].is_string()) ||
            (position.contains("offset") && !position["offset"].is_number_unsigned()) ||
            position.value("partition", "") != list.partition) {
          return ServerProblem(400, "query parameter 'cursor' is not one this listing gave");
        }
        list.start_after = position.value("after", "");
        list.offset = position.value("offset", size_t{0});
      }
      std::vector<Record> records = resource.List(list);
      Json items = Json::array();
      for (const Record& record : records) items.push_back(record.ToJson(meta));
      Json next = nullptr;
      if (records.size() == limit) {
        Json position = list.partition.empty()
                            ? Json{{"after", records.back().id}}
                            : Json{{"offset", list.offset + records.size()}, {"partition", list.partition}};
        next = Base64UrlEncode(position.dump());
      }
      return JsonAnswer(200, {{"items", items}, {"next", next}});
    }
    case Kind::kCount: {
      ListOptions list;
      if (!PartitionParameters(request, list.partition, list.partition_values, problem)) return problem;
      return JsonAnswer(200, {{"count", resource.Count(list)}});
    }
    case Kind::kQuery: {
      std::optional<Json> body = ParseBody(request.body, problem, "the query");
      if (!body) return problem;
      const Json filter = body->value("filter", Json::object());
      if (!filter.is_object()) return ServerProblem(400, "the query's \"filter\" must be a JSON object");
      ListOptions list;
      list.offset = body->value("offset", size_t{0});
      if (body->contains("limit")) list.limit = (*body)["limit"].get<size_t>();
      list.partition = body->value("partition", "");
      list.partition_values = body->value("values", Json::object());
      Json items = Json::array();
      for (const Record& record : resource.Query(filter, list)) items.push_back(record.ToJson(meta));
      return JsonAnswer(200, {{"items", items}});
    }
    case Kind::kExport: {
      const std::string format = request.Query("format") ? *request.Query("format") : "ndjson";
      if (format != "ndjson" && format != "csv") {
        return ServerProblem(400, "query parameter 'format' must be ndjson or csv");
      }
      ScanOptions scan_options;
      if (!PartitionParameters(request, scan_options.partition, scan_options.partition_values, problem)) {
        return problem;
      }
      std::vector<CsvColumn> columns;
      if (format == "csv") columns = CsvColumnsFor(resource.definition());
      // Made now, so a bad partition or a missing passphrase is a proper answer, not a cut stream.
      auto scan = std::make_shared<RecordScan>(resource.Scan(scan_options));
      HttpResponse response;
      response.SetHeader("Content-Type", format == "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson");
      response.stream = [scan, format, columns, meta](ChunkSink& sink) {
        ChunkBuffer out(sink);
        if (format == "csv") {
          std::ostringstream text;
          CsvWriter writer(text, columns);
          while (std::optional<Record> record = scan->Next()) {
            writer.Write(record->ToJson());
            if (static_cast<size_t>(text.tellp()) >= kChunkBytes) {
              if (!out.Add(text.str())) return scan->Close();
              text.str("");
            }
          }
          out.Add(text.str());
        } else {
          while (std::optional<Record> record = scan->Next()) {
            if (!out.Add(record->ToJson(meta).dump(-1, ' ', false, Json::error_handler_t::replace) + "\n")) {
              return scan->Close();
            }
          }
        }
        out.Flush();
      };
      return response;
    }
    case Kind::kBulk: {
      const std::string mode = request.Query("mode") ? *request.Query("mode") : "insert";
      if (mode != "insert" && mode != "upsert")
        return ServerProblem(400, "query parameter 'mode' must be insert or upsert");
      // Each line is a record; a line that is not one is answered on its own line.
      std::vector<Json> results;
      std::vector<Json> items;
      std::vector<size_t> item_result;  // items[i] answers results[item_result[i]]
      size_t line_number = 0;
      std::istringstream lines(request.body);
      for (std::string line; std::getline(lines, line);) {
        ++line_number;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.find_first_not_of(" \t") == std::string::npos) continue;
        HttpResponse line_problem;
        std::optional<Json> record = ParseBody(line, line_problem, "the line");
        if (record && mode == "upsert" && !(record->contains("id") && (*record)["id"].is_string())) {
          line_problem = ServerProblem(400, "an upserted record needs an \"id\" string");
          record.reset();
        }
        if (!record) {
          results.push_back(
              {{"line", line_number}, {"status", line_problem.status}, {"problem", Json::parse(line_problem.body)}});
          continue;
        }
        item_result.push_back(results.size());
        results.push_back({{"line", line_number}});
        items.push_back(std::move(*record));
      }
      // Both modes through one bulk call (the store's event loop where it has one).
      std::vector<Record> written;
      std::vector<BulkItemError> errors;
      if (mode == "insert") {
        InsertManyResult done = resource.InsertMany(items);
        written = std::move(done.inserted);
        errors = std::move(done.errors);
      } else {
        UpsertManyResult done = resource.UpsertMany(items);
        written = std::move(done.upserted);
        errors = std::move(done.errors);
      }
      std::vector<bool> failed(items.size(), false);
      for (const BulkItemError& error : errors) {
        failed[error.index] = true;
        const int status = HttpStatusOf(error.code);
        Json line_problem{{"status", status},
                          {"code", ErrorCodeName(error.code)},
                          {"exitCode", ExitCodeOf(error.code)},
                          {"detail", error.message}};
        if (!error.fields.empty()) {
          Json fields = Json::array();
          for (const FieldError& field : error.fields) {
            fields.push_back({{"path", field.path}, {"rule", field.rule}, {"message", field.message}});
          }
          line_problem["errors"] = fields;
        }
        Json& result = results[item_result[error.index]];
        result["status"] = status;
        if (!error.id.empty()) result["id"] = error.id;
        result["problem"] = std::move(line_problem);
      }
      size_t next_written = 0;
      for (size_t i = 0; i < items.size(); ++i) {
        if (failed[i] || next_written >= written.size()) continue;
        const Record& record = written[next_written++];
        Json& result = results[item_result[i]];
        result["status"] = mode == "insert" ? 201 : 200;
        result["id"] = record.id;
        result["etag"] = record.etag;
      }
      HttpResponse response;
      response.SetHeader("Content-Type", "application/x-ndjson");
      for (const Json& result : results)
        response.body += result.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
      return response;
    }
    case Kind::kRecord:
      break;
    default:
      return ServerProblem(404, "no route for " + request.path);
  }

  // One record.
  const std::string& id = route.id;
  const std::string if_match = request.Header("if-match");
  const std::string if_none_match = request.Header("if-none-match");
  if (method == "GET") {
    Record record = resource.Get(id);
    if (!if_none_match.empty() && EtagListMatches(if_none_match, record.etag)) {
      HttpResponse response = Empty(304);
      response.SetHeader("ETag", record.etag);
      return response;
    }
    return RecordAnswer(200, record, meta);
  }
  if (method == "HEAD") return Empty(resource.Exists(id) ? 200 : 404);
  if (method == "DELETE") {
    DeleteOptions options;
    if (!if_match.empty() && if_match != "*") options.if_match = Unquoted(if_match);
    try {
      resource.Delete(id, options);
    } catch (const NotFound& error) {
      if (if_match.empty()) throw;
      return ProblemFor(PreconditionFailed(error.what(), route.resource, id));  // If-Match on nothing
    }
    return Empty(204);
  }
  std::optional<Json> body = ParseBody(request.body, problem, method == "PATCH" ? "the patch" : "the record");
  if (!body) return problem;
  if (body->contains("id") && (*body)["id"] != id) {
    return ServerProblem(400, "the body's \"id\" differs from the path's id '" + id + "'");
  }
  UpdateOptions update;
  if (!if_match.empty() && if_match != "*") update.if_match = Unquoted(if_match);
  if (method == "PATCH") {
    try {
      return RecordAnswer(200, resource.Update(id, *body, update), meta);
    } catch (const NotFound& error) {
      if (if_match.empty()) throw;
      return ProblemFor(PreconditionFailed(error.what(), route.resource, id));
    }
  }
  // PUT: the whole record.
  update.replace = true;
  if (if_none_match == "*") {
    if (!if_match.empty()) return ServerProblem(400, "If-Match and If-None-Match: * together can never hold");
    Json data = *body;
    data["id"] = id;
    try {
      return RecordAnswer(201, resource.Insert(std::move(data)), meta);
    } catch (const AlreadyExists& error) {
      if (!resource.Exists(id)) throw;  // a unique value is taken: 409
      return ProblemFor(PreconditionFailed(error.what(), route.resource, id));
    }
  }
  if (!if_match.empty()) {
    try {
      return RecordAnswer(200, resource.Update(id, *body, update), meta);
    } catch (const NotFound& error) {
      return ProblemFor(PreconditionFailed(error.what(), route.resource, id));
    }
  }
  for (int attempt = 0; attempt < 16; ++attempt) {  // replace, or create: whichever holds when it lands
    try {
      return RecordAnswer(200, resource.Update(id, *body, update), meta);
    } catch (const NotFound&) {
    }
    Json data = *body;
    data["id"] = id;
    try {
      return RecordAnswer(201, resource.Insert(std::move(data)), meta);
    } catch (const AlreadyExists&) {
      if (!resource.Exists(id)) throw;
    }
  }
  throw Conflict("record '" + id + "' of resource '" + route.resource + "' kept appearing and disappearing during PUT",
                 route.resource, id);
}

}  // namespace s3db::serve

#include "problem.h"

#include "s3db/error_mapping.h"
#include "s3db/record.h"

namespace s3db::serve {

namespace {

const char* TitleFor(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Content";
    case 428:
      return "Precondition Required";
    case 431:
      return "Request Header Fields Too Large";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return status < 500 ? "Client Error" : "Internal Server Error";
  }
}

Json ProblemJson(int status, const std::string& code_name, int exit_code, const std::string& detail) {
  return Json{{"type", ProblemTypeOf(code_name)},
              {"title", TitleFor(status)},
              {"status", status},
              {"detail", detail},
              {"code", code_name},
              {"exitCode", exit_code}};
}

HttpResponse FromJson(int status, const Json& problem) {
  HttpResponse response;
  response.status = status;
  response.SetHeader("Content-Type", "application/problem+json");
  response.body = problem.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (status == 503) response.SetHeader("Retry-After", "1");
  return response;
}

}  // namespace

HttpResponse Problem(int status, const std::string& code_name, int exit_code, const std::string& detail) {
  return FromJson(status, ProblemJson(status, code_name, exit_code, detail));
}

HttpResponse ProblemFor(const std::exception& error) {
  const auto* coded = dynamic_cast<const Error*>(&error);
  if (coded == nullptr) return ServerProblem(500, std::string("internal error: ") + error.what());
  const int status = HttpStatusOf(coded->code());
  Json problem = ProblemJson(status, ErrorCodeName(coded->code()), ExitCodeOf(coded->code()), coded->what());
  if (!coded->resource().empty()) problem["resource"] = coded->resource();
  if (!coded->id().empty()) problem["id"] = coded->id();
  if (const auto* invalid = dynamic_cast<const ValidationError*>(coded)) {
    Json fields = Json::array();
    for (const FieldError& field : invalid->fields()) {
      Json entry{{"path", field.path}, {"rule", field.rule}, {"message", field.message}};
      if (!field.expected.empty()) entry["expected"] = field.expected;
      if (!field.actual.empty()) entry["actual"] = field.actual;
      fields.push_back(std::move(entry));
    }
    problem["errors"] = std::move(fields);
  }
  return FromJson(status, problem);
}

HttpResponse ServerProblem(int status, const std::string& detail) {
  std::string code = "invalid_argument";
  int exit_code = exit_codes::kInvalidInput;
  switch (status) {
    case 401:
      code = "unauthenticated";
      exit_code = exit_codes::kStorage;
      break;
    case 403:
      code = "forbidden";
      exit_code = exit_codes::kStorage;
      break;
    case 404:
      code = "not_found";
      exit_code = exit_codes::kNotFound;
      break;
    case 405:
      code = "method_not_allowed";
      exit_code = exit_codes::kUsage;
      break;
    case 413:
    case 431:
      code = "too_large";
      break;
    case 428:
      code = "precondition_required";
      exit_code = exit_codes::kConflict;
      break;
    default:
      if (status >= 500) {
        code = "internal";
        exit_code = exit_codes::kStorage;
      }
  }
  return Problem(status, code, exit_code, detail);
}

}  // namespace s3db::serve

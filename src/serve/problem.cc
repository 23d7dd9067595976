#include "problem.h"

#include "s3db/record.h"

namespace s3db::serve {

int HttpStatusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return 200;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kConflict:
      return 409;
    case ErrorCode::kPreconditionFailed:
      return 412;
    case ErrorCode::kInvalidArgument:
      return 400;
    case ErrorCode::kValidation:
    case ErrorCode::kInvalidSchema:
    case ErrorCode::kMetadataTooLarge:
      return 422;
    case ErrorCode::kSlowDown:
      return 503;
    case ErrorCode::kTimeout:
      return 504;
    case ErrorCode::kNetwork:
    case ErrorCode::kIOError:
    case ErrorCode::kAccessDenied:  // the store refused the server's credentials or passphrase
      return 502;
    case ErrorCode::kUnsupported:
      return 501;
    case ErrorCode::kCorruption:
    case ErrorCode::kInternal:
      return 500;
  }
  return 500;
}

int ExitCodeFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return 0;
    case ErrorCode::kNotFound:
      return 3;
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kValidation:
    case ErrorCode::kInvalidSchema:
    case ErrorCode::kMetadataTooLarge:
      return 4;
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kPreconditionFailed:
    case ErrorCode::kConflict:
      return 5;
    default:
      return 6;
  }
}

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
  return Json{{"type", "urn:s3db:problem:" + code_name},
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
  const int status = HttpStatusFor(coded->code());
  Json problem = ProblemJson(status, ErrorCodeName(coded->code()), ExitCodeFor(coded->code()), coded->what());
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
  int exit_code = 4;
  switch (status) {
    case 401:
      code = "unauthenticated";
      exit_code = 6;
      break;
    case 403:
      code = "forbidden";
      exit_code = 6;
      break;
    case 404:
      code = "not_found";
      exit_code = 3;
      break;
    case 405:
      code = "method_not_allowed";
      exit_code = 2;
      break;
    case 413:
    case 431:
      code = "too_large";
      break;
    case 428:
      code = "precondition_required";
      exit_code = 5;
      break;
    default:
      if (status >= 500) {
        code = "internal";
        exit_code = 6;
      }
  }
  return Problem(status, code, exit_code, detail);
}

}  // namespace s3db::serve

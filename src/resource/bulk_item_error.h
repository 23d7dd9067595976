// The BulkItemError that bulk calls and streams report for an item whose call threw, and
// the checks of an input record before its id is known.
//
// May call: index/, record/, schema/, format/, exec/, store/, util/; the database only
// through ResourceContext.
#pragma once

#include <cstddef>
#include <exception>
#include <string>
#include <utility>

#include "s3db/errors.h"
#include "s3db/json_limits.h"
#include "s3db/record.h"
#include "s3db/record_stream.h"

namespace s3db::core {

// The error's code and message, and a ValidationError's fields (so callers can name the
// failing fields without validating again); anything not an s3db::Error is kInternal.
inline BulkItemError ItemError(size_t index, std::string id, const std::exception& error) {
  BulkItemError out;
  out.index = index;
  out.id = std::move(id);
  out.message = error.what();
  if (const auto* e = dynamic_cast<const Error*>(&error)) out.code = e->code();
  if (const auto* invalid = dynamic_cast<const ValidationError*>(&error)) out.fields = invalid->fields();
  return out;
}

// The id an input record names ("id" as a string), for the error of an item that failed
// before it had one; empty otherwise.
inline std::string GivenId(const Json& item) {
  if (!item.is_object()) return "";
  const auto it = item.find("id");
  return it != item.end() && it->is_string() ? it->get<std::string>() : "";
}

// Checked before the first copy of an input record: copying a value nested ~70,000 deep
// overflows the stack.
inline void RefuseTooDeep(const std::string& resource, const std::string& id, const Json& data) {
  if (!JsonValueTooDeep(data)) return;
  const std::string subject = id.empty() ? "a new record" : "record '" + id + "'";
  throw InvalidArgument("resource '" + resource + "': " + subject + " is " + TooDeepText(), resource, id);
}

}  // namespace s3db::core

// How rules and values are put in words for error messages: a value shortened for quoting,
// the kind of a JSON value, a rule's type as a phrase ("an email address"); DescribeRule
// (schema_rules.h) builds on them. Internal to src/schema; pure functions.
//
// May call: format/, util/.
#pragma once

#include <string>
#include <vector>

#include "s3db/record.h"
#include "schema/schema_rules.h"

namespace s3db::core::rules {

std::string Shorten(const Json& v);                     // its JSON text, cut to 60 characters
std::string KindOf(const Json& v);                      // "a string", "a number", "null", ...
std::string Number(double d);                           // an integral value without ".0": 2 -> "2"
std::string EnumList(const std::vector<Json>& values);  // "one of [a,b,3]"
std::string TypePhrase(const FieldRule& rule);          // "a UUID", "a string or a number"

}  // namespace s3db::core::rules

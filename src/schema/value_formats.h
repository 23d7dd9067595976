// The text formats the rule types check and parse: email addresses, http(s) URLs, UUIDs,
// currency amounts written as text; and the text measures validation uses (code points,
// trimming). Pure functions; internal to src/schema, calling only util.
//
// May call: format/, util/.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "s3db/record.h"

namespace s3db::core::rules {

bool IsEmail(const std::string& s);  // local@domain.tld, no quoted or bracketed parts
bool IsUrl(const std::string& s);    // http:// or https:// with a host
bool IsUuid(const std::string& s);   // 8-4-4-4-12 hex digits, any case

// A currency amount written as text: optional sign, the rule's symbol (before or after the
// sign), digits with optional thousands separators, optional decimals. "$1,234.50" -> 1234.5.
// nullopt when the text is not such an amount.
std::optional<Json> ParseCurrencyText(const std::string& text, const std::string& symbol);

size_t CodePoints(const std::string& s);  // the length rules count characters, not bytes
std::string Trim(const std::string& s);   // ASCII white space at both ends

}  // namespace s3db::core::rules

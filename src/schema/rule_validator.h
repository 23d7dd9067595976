// The validator behind ValidateRecord and ValidateIdValue (schema_rules.h), reached from the
// parser too: a rule's default must pass its own rule. Internal to src/schema.
//
// May call: format/, util/.
#pragma once

#include <string>
#include <vector>

#include "s3db/errors.h"
#include "s3db/record.h"
#include "schema/schema_rules.h"

namespace s3db::core::rules {

// Checks a present value (null included) against `rule`, normalising it in place, and
// appends every failure to `errors` under `path`.
void ValidateField(const FieldRule& rule, Json& value, const std::string& path, std::vector<FieldError>* errors);

}  // namespace s3db::core::rules

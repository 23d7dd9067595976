// Resource definitions for tests: the common case, a name and its attributes with every other
// option at its default.
#pragma once

#include <string>
#include <utility>

#include "s3db/record.h"

namespace s3db::testing {

inline ResourceDefinition Def(const std::string& name, Json attributes) {
  ResourceDefinition def;
  def.name = name;
  def.attributes = std::move(attributes);
  return def;
}

}  // namespace s3db::testing

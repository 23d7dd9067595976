// The environment as the tests read it: a variable that is unset or empty is absent.
#pragma once

#include <cstdlib>

namespace s3db::testing {

// $name, or nullptr when it is unset or empty.
inline const char* Env(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : nullptr;
}

}  // namespace s3db::testing

// The five strategies for records over the metadata budget (docs/ARCHITECTURE.md "Design rules the code keeps").
//
// May call: format/, util/.
#pragma once

#include <optional>
#include <string>

namespace s3db::core {

enum class Behavior { kUserManaged, kEnforceLimits, kTruncateData, kBodyOverflow, kBodyOnly };

// Accepts the canonical names and the seeds' aliases ("user-management", "data-truncate").
std::optional<Behavior> ParseBehavior(const std::string& name);
const char* BehaviorName(Behavior behavior);  // canonical

}  // namespace s3db::core

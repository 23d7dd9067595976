// Implements include/s3db/json_limits.h; in util/ as it needs nothing of s3db.
#include "s3db/json_limits.h"

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

namespace s3db {

std::string TooDeepText() { return "nested deeper than " + std::to_string(kMaxJsonDepth) + " levels"; }

size_t JsonTextDepth(std::string_view text, size_t limit) {
  size_t depth = 0;
  size_t deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // the escaped character, '"' included
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > deepest && (deepest = depth) > limit) return deepest;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

namespace {

// The depth of `value` by recursion while it stays within `budget` levels, nullopt once it is
// deeper. Records are a few levels deep: this answers them without the walk's heap stack,
// and the recursion stays shallow whatever the value.
std::optional<size_t> ShallowDepth(const nlohmann::json& value, size_t budget) {
  if (!value.is_structured()) return 0;
  if (budget == 0) return std::nullopt;
  size_t deepest = 0;
  for (const nlohmann::json& child : value) {
    if (!child.is_structured()) continue;
    const std::optional<size_t> depth = ShallowDepth(child, budget - 1);
    if (!depth) return std::nullopt;
    deepest = std::max(deepest, *depth);
  }
  return deepest + 1;
}

constexpr size_t kShallowDepth = 16;

}  // namespace

size_t JsonValueDepth(const nlohmann::json& value, size_t limit) {
  if (!value.is_structured()) return 0;
  if (std::optional<size_t> depth = ShallowDepth(value, std::min(limit, kShallowDepth))) return *depth;
  // (container, its depth); a container deeper than `limit` ends the walk.
  std::vector<std::pair<const nlohmann::json*, size_t>> pending{{&value, 1}};
  size_t deepest = 0;
  while (!pending.empty()) {
    auto [node, depth] = pending.back();
    pending.pop_back();
    if (depth > deepest && (deepest = depth) > limit) return deepest;
    for (const nlohmann::json& child : *node) {
      if (child.is_structured()) pending.emplace_back(&child, depth + 1);
    }
  }
  return deepest;
}

namespace {

bool HoldsNul(std::string_view text) { return text.find('\0') != std::string_view::npos; }

}  // namespace

nlohmann::json ParseJsonOrDiscarded(std::string_view text) {
  if (HoldsNul(text)) return nlohmann::json(nlohmann::json::value_t::discarded);
  return nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
}

bool JsonTextAccepted(std::string_view text) { return !HoldsNul(text) && nlohmann::json::accept(text); }

}  // namespace s3db

// "Did you mean ...?" for names a person typed: the closest of the valid names, when one is
// close enough to be the likely intent.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vitrine {

// Suggestions are for names (protocols, sets, keys): nothing longer is looked up.
inline constexpr size_t kMaxSuggestedNameBytes = 64;

// The candidate nearest to `typed` by edit distance, ignoring case, if it is within a third
// of the typed name's length (at least 1, at most 3 edits); nullopt otherwise.
std::optional<std::string> closest_name(std::string_view typed, const std::vector<std::string>& candidates);

}  // namespace vitrine

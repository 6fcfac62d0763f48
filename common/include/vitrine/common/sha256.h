// The sha256 of a file, as lower-case hex: how vitrine names a golden image and an enforced
// policy, so that an operator can compare them with what was approved.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace vitrine {

// Throws std::runtime_error naming the file when it cannot be read.
std::string sha256_file(const std::filesystem::path& path);
std::string sha256_hex(std::string_view bytes);

}  // namespace vitrine

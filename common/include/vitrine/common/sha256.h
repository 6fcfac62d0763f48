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
// HMAC-SHA256 of `bytes` under `key`, as hex: a reference to a value (a patient identifier)
// that can be compared within one key's lifetime and never turned back into the value.
std::string hmac_sha256_hex(std::string_view key, std::string_view bytes);
// `n` bytes from the kernel's random source (for keys that live as long as a process).
std::string random_bytes(size_t n);

}  // namespace vitrine

// What an inspector's parser says of the bytes it was given: one type for every protocol, so
// that a reader of one parser reads them all, and an error carries the reason the inspector
// reports (vitrine/netmon/malformed_reason.h) instead of a status of its own to translate.
#pragma once

#include <cstddef>
#include <cstdint>

#include "vitrine/netmon/malformed_reason.h"

namespace vitrine::netmon {

enum class ParseStatus : uint8_t {
  Ok,          // read whole; the output is filled
  Incomplete,  // the bytes stop before what they start: `needed` says how many there must be
  Error,       // not this protocol, or against it: `reason` says what, when it is to be reported
};

struct ParseResult {
  ParseStatus status = ParseStatus::Ok;
  size_t needed = 0;                        // Incomplete: the length the bytes must have, at least
  const MalformedReason* reason = nullptr;  // Error: what was wrong (null: nothing to report)

  static constexpr ParseResult ok() { return {}; }
  static constexpr ParseResult incomplete(size_t needed) { return {ParseStatus::Incomplete, needed, nullptr}; }
  static constexpr ParseResult error(const MalformedReason* reason = nullptr) {
    return {ParseStatus::Error, 0, reason};
  }
  friend constexpr bool operator==(const ParseResult& r, ParseStatus s) { return r.status == s; }
};

}  // namespace vitrine::netmon

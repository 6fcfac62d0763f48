// UTF-8 as RFC 3629 defines it, for text a person wrote that goes where only UTF-8 may (metric
// label values, JSON events, a terminal): what is a sequence, and what is printable text.
#pragma once

#include <cstddef>
#include <string_view>

namespace vitrine {

// The length of the UTF-8 sequence of more than one byte at `s[at]`, or 0 when there is none
// (ASCII, a stray continuation byte, an overlong form, a surrogate, past U+10FFFF, cut short).
inline size_t utf8_sequence(std::string_view s, size_t at) {
  const auto b = [&](size_t i) { return static_cast<unsigned char>(s[at + i]); };
  const unsigned char lead = b(0);
  const size_t n = lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xf0 && lead <= 0xf4 ? 4 : 0;
  if (n == 0 || at + n > s.size()) return 0;
  for (size_t i = 1; i < n; ++i)
    if ((b(i) & 0xc0) != 0x80) return 0;
  if ((lead == 0xe0 && b(1) < 0xa0) || (lead == 0xed && b(1) > 0x9f) || (lead == 0xf0 && b(1) < 0x90) ||
      (lead == 0xf4 && b(1) > 0x8f))
    return 0;
  return n;
}

// The code point of the `n`-byte sequence at `s[at]` (utf8_sequence said n).
inline char32_t utf8_code_point(std::string_view s, size_t at, size_t n) {
  const auto b = [&](size_t i) { return static_cast<char32_t>(static_cast<unsigned char>(s[at + i])); };
  char32_t cp = b(0) & (n == 2 ? 0x1f : n == 3 ? 0x0f : 0x07);
  for (size_t i = 1; i < n; ++i) cp = cp << 6 | (b(i) & 0x3f);
  return cp;
}

// A character that moves, hides or reorders what a screen or a log shows: the C1 controls
// (U+0080-U+009F: an 8-bit CSI repaints a terminal as ESC [ does), the line and paragraph
// separators, and the bidirectional marks and overrides (text shown in another order than
// it is read).
inline bool invisible_control(char32_t cp) {
  return (cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 || cp == 0x200e || cp == 0x200f ||
         (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

// The length of the printable UTF-8 character of more than one byte at `s[at]`, or 0 (not
// UTF-8, or a control of invisible_control()).
inline size_t printable_sequence(std::string_view s, size_t at) {
  const size_t n = utf8_sequence(s, at);
  return n > 0 && !invisible_control(utf8_code_point(s, at, n)) ? n : 0;
}

// Valid UTF-8 with no control character (C0, DEL, C1, separators, bidirectional controls): a
// name fit for a label, an event, a screen.
inline bool printable_utf8(std::string_view s) {
  for (size_t at = 0; at < s.size(); ++at) {
    const auto c = static_cast<unsigned char>(s[at]);
    if (c >= 0x20 && c < 0x7f) continue;
    const size_t n = c >= 0x80 ? printable_sequence(s, at) : 0;
    if (n == 0) return false;
    at += n - 1;
  }
  return true;
}

}  // namespace vitrine

// SMB messages as bytes, for the SMB reader's unit tests.
#pragma once

#include <string>
#include <vector>

#include "packet_bytes.h"

namespace vitrine::testing::smb_bytes {

// An SMB1 message: header (command, reply flag, unicode flag, MID), words, bytes.
inline Bytes smb1(uint8_t cmd, const Bytes& words, const Bytes& bytes, uint16_t mid = 1, bool reply = false, bool unicode = true) {
  Bytes m = {0xff, 'S', 'M', 'B', cmd, 0, 0, 0, 0, static_cast<uint8_t>(reply ? 0x98 : 0x18)};
  put_le16(m, unicode ? 0xc807 : 0x4807);
  for (int i = 0; i < 12; ++i) m.push_back(0);  // PID high, signature, reserved
  put_le16(m, 0);  // TID
  put_le16(m, 0xfeff);  // PID
  put_le16(m, 0);  // UID
  put_le16(m, mid);
  m.push_back(static_cast<uint8_t>(words.size() / 2));
  append(m, words);
  put_le16(m, static_cast<uint32_t>(bytes.size()));
  append(m, bytes);
  return m;
}

// TRANSACTION or TRANSACTION2 request words with the given setup words.
inline Bytes trans_words(const std::vector<uint16_t>& setup) {
  Bytes w;
  for (int i = 0; i < 13; ++i) put_le16(w, 0);
  w.push_back(static_cast<uint8_t>(setup.size()));
  w.push_back(0);
  for (uint16_t s : setup) put_le16(w, s);
  return w;
}

inline Bytes netbios(const Bytes& msg) {
  Bytes b = {0, static_cast<uint8_t>(msg.size() >> 16), static_cast<uint8_t>(msg.size() >> 8), static_cast<uint8_t>(msg.size())};
  append(b, msg);
  return b;
}

inline Bytes utf16(const std::string& s) {
  Bytes b;
  for (char c : s) put_le16(b, static_cast<uint8_t>(c));
  put_le16(b, 0);
  return b;
}

}  // namespace vitrine::testing::smb_bytes

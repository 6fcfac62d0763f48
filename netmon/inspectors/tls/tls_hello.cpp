#include "tls_hello.h"

#include <algorithm>

namespace vitrine::netmon::tls {

namespace {

constexpr uint8_t kHandshakeRecord = 0x16;
constexpr uint8_t kServerHelloType = 0x02;
constexpr uint16_t kSupportedVersions = 43;
constexpr size_t kRecordHeader = 5;
constexpr size_t kHandshakeHeader = 4;
constexpr size_t kRandom = 32;

// A cursor that never reads past its end.
struct Reader {
  const uint8_t* p;
  size_t left;
  bool u8(uint8_t& v) {
    if (left < 1) return false;
    v = p[0];
    ++p, --left;
    return true;
  }
  bool u16(uint16_t& v) {
    if (left < 2) return false;
    v = static_cast<uint16_t>(p[0] << 8 | p[1]);
    p += 2, left -= 2;
    return true;
  }
  bool skip(size_t n) {
    if (left < n) return false;
    p += n, left -= n;
    return true;
  }
};

}  // namespace

ParseResult parse_server_hello(const uint8_t* data, size_t len, ServerHello& out) {
  if (len < kRecordHeader + kHandshakeHeader)
    return len == 0 ? ParseResult::incomplete(kRecordHeader + kHandshakeHeader) : ParseResult::error();
  // Record: type, version (3.x), length; then the handshake message's type and 24-bit length.
  if (data[0] != kHandshakeRecord || data[1] != 0x03 || data[5] != kServerHelloType) return ParseResult::error();
  const size_t body = size_t{data[6]} << 16 | size_t{data[7]} << 8 | data[8];
  Reader r{data + kRecordHeader + kHandshakeHeader, len - kRecordHeader - kHandshakeHeader};
  // Bytes that end before the hello does may be missing its extensions: never Ok.
  const bool whole = r.left >= body;
  // More bytes are needed: the hello's own length, or, where a field runs past that, one more
  // than given at least (a hello that lies about its lengths is never Ok).
  const ParseResult cut = ParseResult::incomplete(std::max(kRecordHeader + kHandshakeHeader + body, len + 1));
  const ParseResult end_of_bytes = whole ? ParseResult::ok() : cut;
  if (r.left > body) r.left = body;  // extensions end where the hello ends
  uint16_t legacy = 0;
  uint8_t session_id_len = 0;
  uint16_t cipher = 0, extensions_len = 0;
  uint8_t compression = 0;
  if (!r.u16(legacy) || !r.skip(kRandom) || !r.u8(session_id_len) || !r.skip(session_id_len) ||
      !r.u16(cipher) || !r.u8(compression))
    return cut;
  if ((legacy >> 8) != 0x03) return ParseResult::error();
  out.version = legacy;
  if (!r.u16(extensions_len)) return end_of_bytes;  // no extensions: TLS 1.2 or older
  if (r.left > extensions_len) r.left = extensions_len;
  else if (r.left < extensions_len) return cut;  // cut short, or lying
  while (r.left > 0) {
    uint16_t type = 0, ext_len = 0;
    if (!r.u16(type) || !r.u16(ext_len)) return cut;
    if (type == kSupportedVersions && ext_len == 2) {
      uint16_t chosen = 0;
      if (!r.u16(chosen)) return cut;
      out.version = chosen;
      return ParseResult::ok();
    }
    if (!r.skip(ext_len)) return cut;
  }
  return end_of_bytes;
}

}  // namespace vitrine::netmon::tls

#include "rdp/rdp_connect.h"

#include "rdp/rdp_malformed.h"
#include "vitrine/netmon/byte_order.h"

#include <algorithm>
#include <cstring>

namespace vitrine::netmon::rdp {

namespace {

constexpr size_t kTpktHeader = 4;
constexpr uint8_t kX224ConnectionRequest = 0xe0, kX224ConnectionConfirm = 0xd0, kX224Data = 0xf0,
                  kX224DisconnectRequest = 0x80, kX224Error = 0x70;
constexpr uint8_t kNegReq = 0x01, kNegRsp = 0x02, kNegFailure = 0x03;
constexpr uint16_t kClientNetworkData = 0xc003;
constexpr size_t kChannelDef = 12;  // name[8], options[4]
constexpr uint32_t kMaxChannels = 31;  // [MS-RDPBCGR] 2.2.1.3.4: at most 31 static channels
constexpr size_t kChannelNameChars = 7;

// The X.224 TPDU inside a TPKT: its length indicator and code; false if the TPKT is not one.
bool x224(const uint8_t* tpkt, size_t len, uint8_t& code, size_t& header_end) {
  if (len < kTpktHeader + 2 || tpkt[0] != 0x03) return false;  // the reserved byte: TpktFramer
  if (static_cast<size_t>(tpkt[2] << 8 | tpkt[3]) != len) return false;
  const size_t li = tpkt[kTpktHeader];
  header_end = kTpktHeader + 1 + li;
  if (header_end > len || li < 2) return false;
  code = tpkt[kTpktHeader + 1] & 0xf0;
  return true;
}

// The negotiation structure that ends a request or confirm: type, flags, length 8, value.
bool negotiation(const uint8_t* p, size_t len, uint8_t& type, uint32_t& value) {
  if (len < 8 || le16(p + 2) != 8) return false;
  type = p[0];
  value = le32(p + 4);
  return true;
}

// CS_NET ([MS-RDPBCGR] 2.2.1.3.4): the static channels asked for. A name is 8 bytes, of which
// the server reads 7 characters at most (CHANNEL_NAME_LEN): "MS_T120" followed by another byte
// than NUL is still MS_T120 to it.
bool channels(const uint8_t* block, size_t block_len, ConnectInitial& out) {
  if (block_len < 8) return false;
  const uint32_t count = le32(block + 4);
  if (count > kMaxChannels || 8 + size_t{count} * kChannelDef > block_len) return false;
  for (uint32_t i = 0; i < count; ++i) {
    const uint8_t* name = block + 8 + i * kChannelDef;
    std::string n;
    for (size_t c = 0; c < kChannelNameChars && name[c] != 0; ++c)
      n += (name[c] >= 0x20 && name[c] < 0x7f) ? static_cast<char>(name[c]) : '?';
    out.channels.push_back(n);
  }
  return true;
}

constexpr uint8_t kBerBoolean = 0x01, kBerOctetString = 0x04, kBerSequence = 0x30;

// One BER element with a definite length at `at`, whose tag must be `tag`: its contents' place.
// Moves `at` past it; false if it is another tag or does not fit in `len`.
bool ber_element(const uint8_t* p, size_t len, size_t& at, uint8_t tag, size_t& content, size_t& content_len) {
  if (at + 2 > len || p[at] != tag) return false;
  size_t n = p[at + 1], header = 2;
  if (n & 0x80) {  // long form: 1 or 2 length bytes (a TPKT holds at most 65535); indefinite refused
    const size_t bytes = n & 0x7f;
    if (bytes == 0 || bytes > 2 || at + 2 + bytes > len) return false;
    n = bytes == 1 ? p[at + 2] : size_t{p[at + 2]} << 8 | p[at + 3];
    header += bytes;
  }
  if (n > len - at - header) return false;
  content = at + header;
  content_len = n;
  at = content + n;
  return true;
}

// An aligned-PER length of up to 16383 ([X.691] 10.9); false for a fragmented one.
bool per_length(const uint8_t* p, size_t len, size_t& at, size_t& n) {
  if (at >= len) return false;
  if (!(p[at] & 0x80)) {
    n = p[at++];
    return true;
  }
  if ((p[at] & 0x40) || at + 2 > len) return false;
  n = size_t{p[at] & 0x3fu} << 8 | p[at + 1];
  at += 2;
  return true;
}

// MCS Connect-Initial's userData: a GCC Conference Create Request ([T.124], [MS-RDPBCGR]
// 2.2.1.3.1) in the one encoding every RDP client sends, then the client data blocks, which
// must fill it exactly. Another encoding is refused, not searched: what it hides is unknown.
ParseResult parse_gcc_client_data(const uint8_t* p, size_t len, ConnectInitial& out) {
  static const uint8_t kKey[] = {0x00, 0x05, 0x00, 0x14, 0x7c, 0x00, 0x01};  // T.124's object id
  static const uint8_t kRequest[] = {0x00, 0x08, 0x00, 0x10, 0x00, 0x01, 0xc0, 0x00, 'D', 'u', 'c', 'a'};
  size_t at = sizeof kKey, n = 0;
  if (len < at || std::memcmp(p, kKey, sizeof kKey) != 0) return ParseResult::error();
  if (!per_length(p, len, at, n) || n != len - at) return ParseResult::error();
  if (len - at < sizeof kRequest || std::memcmp(p + at, kRequest, sizeof kRequest) != 0) return ParseResult::error();
  at += sizeof kRequest;
  if (!per_length(p, len, at, n) || n != len - at) return ParseResult::error();
  out = ConnectInitial{};
  while (at < len) {
    if (len - at < 4) return ParseResult::error();
    const uint16_t type = le16(p + at);
    const size_t block_len = le16(p + at + 2);
    if (block_len < 4 || block_len > len - at) return ParseResult::error();
    if (type == kClientNetworkData && !channels(p + at, block_len, out)) return ParseResult::error();
    at += block_len;
  }
  return ParseResult::ok();
}

}  // namespace

ParseResult parse_connection_request(const uint8_t* tpkt, size_t len, ConnectionRequest& out) {
  uint8_t code = 0;
  size_t end = 0;
  if (!x224(tpkt, len, code, end) || code != kX224ConnectionRequest) return ParseResult::error();
  out = ConnectionRequest{};
  // After the fixed part (code, dst-ref, src-ref, class: 6 bytes) come an optional cookie line
  // and an optional RDP_NEG_REQ, both inside the X.224 header's length.
  size_t at = kTpktHeader + 1 + 6;
  if (at > end) return ParseResult::error();
  static const char kCookie[] = "Cookie: ";
  const size_t cookie_len = sizeof kCookie - 1;
  if (end - at >= cookie_len && std::memcmp(tpkt + at, kCookie, cookie_len) == 0) {
    const uint8_t* line = tpkt + at + cookie_len;
    const uint8_t* stop = tpkt + end;
    static const uint8_t kCrLf[] = {'\r', '\n'};
    const uint8_t* crlf = std::search(line, stop, kCrLf, kCrLf + 2);
    if (crlf == stop) return ParseResult::error();
    for (const uint8_t* c = line; c < crlf; ++c) out.cookie += (*c >= 0x20 && *c < 0x7f) ? static_cast<char>(*c) : '?';
    at = static_cast<size_t>(crlf - tpkt) + 2;
  }
  uint8_t type = 0;
  if (end - at >= 8 && negotiation(tpkt + at, end - at, type, out.requested_protocols)) {
    if (type != kNegReq) return ParseResult::error();
    out.negotiates = true;
  }
  return ParseResult::ok();
}

ParseResult parse_connection_confirm(const uint8_t* tpkt, size_t len, ConnectionConfirm& out) {
  uint8_t code = 0;
  size_t end = 0;
  if (!x224(tpkt, len, code, end) || code != kX224ConnectionConfirm) return ParseResult::error();
  out = ConnectionConfirm{};
  const size_t at = kTpktHeader + 1 + 6;
  uint8_t type = 0;
  uint32_t value = 0;
  if (at <= end && end - at >= 8 && negotiation(tpkt + at, end - at, type, value)) {
    out.negotiated = true;
    out.failure = type == kNegFailure;
    if (type == kNegRsp) out.selected_protocol = value;
    else if (type != kNegFailure) return ParseResult::error();
  }
  return ParseResult::ok();
}

ParseResult parse_connect_initial(const uint8_t* tpkt, size_t len, ConnectInitial& out) {
  uint8_t code = 0;
  size_t end = 0;
  if (!x224(tpkt, len, code, end) || code != kX224Data) return ParseResult::error();
  // MCS Connect-Initial ([T.125] 11.1, BER): application tag 101, filling the TPDU.
  size_t at = end, body = 0, body_len = 0;
  if (len - at < 2 || tpkt[at] != 0x7f || tpkt[at + 1] != 0x65) return ParseResult::error();
  at += 1;  // the tag's second byte is read as if it were the tag, below
  if (!ber_element(tpkt, len, at, 0x65, body, body_len) || body + body_len != len) return ParseResult::error();
  // Read element by element, as the server does: a "Duca" in a domain selector is not the
  // GCC request's (searching for the key found the first one anywhere).
  at = body;
  size_t user = 0, user_len = 0;
  static const uint8_t kFields[] = {kBerOctetString, kBerOctetString, kBerBoolean, kBerSequence, kBerSequence, kBerSequence};
  for (const uint8_t tag : kFields)
    if (!ber_element(tpkt, len, at, tag, user, user_len)) return ParseResult::error();
  if (!ber_element(tpkt, len, at, kBerOctetString, user, user_len) || at != len) return ParseResult::error();
  return parse_gcc_client_data(tpkt + user, user_len, out);
}

Recognition looks_like_connection_request(const uint8_t* data, size_t len) {
  // TPKT version 3; its reserved byte is not looked at here (the inspector reports one that
  // is not 0), or a client could hide its connection from the inspector by setting it.
  if (len == 0) return Recognition::NeedMore;
  if (data[0] != 0x03) return Recognition::No;
  if (len < kTpktHeader) return Recognition::NeedMore;
  const size_t tpkt_len = static_cast<size_t>(data[2] << 8 | data[3]);
  // A TPKT-framed X.224 stream is read as RDP's whatever its first TPDU: a connection request
  // is RDP's whatever follows its fixed part (a server that does not know a negotiation type or
  // a cookie's end ignores them: XP predates negotiation), and a stream that puts anything else
  // first (an empty TPKT, a data TPDU) must not go unread on that account: the inspector
  // reports it malformed, as what it cannot parse of a request. What is not X.224 inside a
  // TPKT-like header (TDS, whose RPC packets also start with 3) is not RDP.
  if (tpkt_len == kTpktHeader) return Recognition::Yes;
  if (tpkt_len < kTpktHeader + 2) return Recognition::No;
  if (len < kTpktHeader + 2) return Recognition::NeedMore;
  const uint8_t li = data[kTpktHeader], code = data[kTpktHeader + 1] & 0xf0;
  const bool x224 = code == kX224ConnectionRequest || code == kX224ConnectionConfirm || code == kX224Data ||
                    code == kX224DisconnectRequest || code == kX224Error;
  return x224 && li >= 2 && size_t{li} + 1 <= tpkt_len - kTpktHeader ? Recognition::Yes : Recognition::No;
}

FrameHeader TpktHeader::read(const uint8_t* h) const {
  const size_t n = size_t{h[2]} << 8 | h[3];
  if (h[0] != 0x03 || n < kHeaderBytes) return FrameHeader::end();  // not TPKT: reading stops
  FrameHeader frame = FrameHeader::frame(n - kHeaderBytes, kMaxTpktBytes);
  if (h[1] != 0x00) frame.odd = &malformed::kTpktReserved;
  return frame;
}

}  // namespace vitrine::netmon::rdp

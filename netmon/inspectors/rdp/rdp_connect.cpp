#include "rdp/rdp_connect.h"

#include "vitrine/netmon/byte_order.h"

#include <algorithm>
#include <cstring>

namespace vitrine::netmon::rdp {

namespace {

constexpr size_t kTpktHeader = 4;
constexpr uint8_t kX224ConnectionRequest = 0xe0, kX224ConnectionConfirm = 0xd0, kX224Data = 0xf0;
constexpr uint8_t kNegReq = 0x01, kNegRsp = 0x02, kNegFailure = 0x03;
constexpr uint16_t kClientNetworkData = 0xc003;
constexpr size_t kChannelDef = 12;  // name[8], options[4]
constexpr uint32_t kMaxChannels = 31;  // [MS-RDPBCGR] 2.2.1.3.4: at most 31 static channels

// The X.224 TPDU inside a TPKT: its length indicator and code; false if the TPKT is not one.
bool x224(const uint8_t* tpkt, size_t len, uint8_t& code, size_t& header_end) {
  if (len < kTpktHeader + 2 || tpkt[0] != 0x03 || tpkt[1] != 0x00) return false;
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

}  // namespace

ParseStatus parse_connection_request(const uint8_t* tpkt, size_t len, ConnectionRequest& out) {
  uint8_t code = 0;
  size_t end = 0;
  if (!x224(tpkt, len, code, end) || code != kX224ConnectionRequest) return ParseStatus::Error;
  out = ConnectionRequest{};
  // After the fixed part (code, dst-ref, src-ref, class: 6 bytes) come an optional cookie line
  // and an optional RDP_NEG_REQ, both inside the X.224 header's length.
  size_t at = kTpktHeader + 1 + 6;
  if (at > end) return ParseStatus::Error;
  static const char kCookie[] = "Cookie: ";
  const size_t cookie_len = sizeof kCookie - 1;
  if (end - at >= cookie_len && std::memcmp(tpkt + at, kCookie, cookie_len) == 0) {
    const uint8_t* line = tpkt + at + cookie_len;
    const uint8_t* stop = tpkt + end;
    static const uint8_t kCrLf[] = {'\r', '\n'};
    const uint8_t* crlf = std::search(line, stop, kCrLf, kCrLf + 2);
    if (crlf == stop) return ParseStatus::Error;
    for (const uint8_t* c = line; c < crlf; ++c) out.cookie += (*c >= 0x20 && *c < 0x7f) ? static_cast<char>(*c) : '?';
    at = static_cast<size_t>(crlf - tpkt) + 2;
  }
  uint8_t type = 0;
  if (end - at >= 8 && negotiation(tpkt + at, end - at, type, out.requested_protocols)) {
    if (type != kNegReq) return ParseStatus::Error;
    out.negotiates = true;
  }
  return ParseStatus::Ok;
}

ParseStatus parse_connection_confirm(const uint8_t* tpkt, size_t len, ConnectionConfirm& out) {
  uint8_t code = 0;
  size_t end = 0;
  if (!x224(tpkt, len, code, end) || code != kX224ConnectionConfirm) return ParseStatus::Error;
  out = ConnectionConfirm{};
  const size_t at = kTpktHeader + 1 + 6;
  uint8_t type = 0;
  uint32_t value = 0;
  if (at <= end && end - at >= 8 && negotiation(tpkt + at, end - at, type, value)) {
    out.negotiated = true;
    out.failure = type == kNegFailure;
    if (type == kNegRsp) out.selected_protocol = value;
    else if (type != kNegFailure) return ParseStatus::Error;
  }
  return ParseStatus::Ok;
}

ParseStatus parse_connect_initial(const uint8_t* tpkt, size_t len, ConnectInitial& out) {
  uint8_t code = 0;
  size_t end = 0;
  if (!x224(tpkt, len, code, end) || code != kX224Data) return ParseStatus::Error;
  // MCS Connect-Initial is BER (application tag 101: 7F 65); inside it, the GCC conference
  // create request carries the client data blocks after the H.221 key "Duca" and a PER length.
  if (len - end < 2 || tpkt[end] != 0x7f || tpkt[end + 1] != 0x65) return ParseStatus::Error;
  static const uint8_t kDuca[] = {'D', 'u', 'c', 'a'};
  const uint8_t* key = std::search(tpkt + end, tpkt + len, kDuca, kDuca + 4);
  if (key == tpkt + len) return ParseStatus::Error;
  size_t at = static_cast<size_t>(key - tpkt) + 4;
  if (at >= len) return ParseStatus::Error;
  at += (tpkt[at] & 0x80) ? 2 : 1;  // PER length of the blocks
  out = ConnectInitial{};
  while (at + 4 <= len) {
    const uint16_t type = le16(tpkt + at);
    const size_t block_len = le16(tpkt + at + 2);
    if (block_len < 4 || block_len > len - at) return ParseStatus::Error;
    if (type == kClientNetworkData) {
      if (block_len < 8) return ParseStatus::Error;
      const uint32_t count = le32(tpkt + at + 4);
      if (count > kMaxChannels || 8 + size_t{count} * kChannelDef > block_len) return ParseStatus::Error;
      for (uint32_t i = 0; i < count; ++i) {
        const uint8_t* name = tpkt + at + 8 + i * kChannelDef;
        std::string n;
        for (size_t c = 0; c < 8 && name[c] != 0; ++c) n += (name[c] >= 0x20 && name[c] < 0x7f) ? static_cast<char>(name[c]) : '?';
        out.channels.push_back(n);
      }
    }
    at += block_len;
  }
  return ParseStatus::Ok;
}

Recognition looks_like_connection_request(const uint8_t* data, size_t len) {
  static const uint8_t kTpkt[] = {0x03, 0x00};  // TPKT version 3, reserved
  if (starts_with(data, len, kTpkt, sizeof kTpkt) != Recognition::Yes) return starts_with(data, len, kTpkt, sizeof kTpkt);
  if (len < kTpktHeader) return Recognition::NeedMore;
  const size_t tpkt_len = static_cast<size_t>(data[2] << 8 | data[3]);
  if (tpkt_len < kTpktHeader + 7) return Recognition::No;
  if (len < kTpktHeader + 2) return Recognition::NeedMore;
  if ((data[kTpktHeader + 1] & 0xf0) != kX224ConnectionRequest) return Recognition::No;
  // A request longer than a recogniser may wait for is still read whole by the inspector,
  // which reports it malformed if it is not one: padding it must not hide it.
  if (tpkt_len > len) return tpkt_len > kMaxRecognitionBytes ? Recognition::Yes : Recognition::NeedMore;
  ConnectionRequest ignored;
  return parse_connection_request(data, tpkt_len, ignored) == ParseStatus::Ok ? Recognition::Yes : Recognition::No;
}

void TpktFramer::feed(const uint8_t* data, size_t len, std::vector<std::vector<uint8_t>>& tpkts, bool& not_tpkt) {
  buffer_.insert(buffer_.end(), data, data + len);
  size_t at = 0;
  while (buffer_.size() - at >= kTpktHeader) {
    if (buffer_[at] != 0x03 || buffer_[at + 1] != 0x00) {
      not_tpkt = true;  // TLS after negotiation, fast-path PDUs, or not RDP: stop reading
      buffer_.clear();
      return;
    }
    const size_t n = static_cast<size_t>(buffer_[at + 2] << 8 | buffer_[at + 3]);
    if (n < kTpktHeader) {
      not_tpkt = true;
      buffer_.clear();
      return;
    }
    if (buffer_.size() - at < n) break;
    tpkts.emplace_back(buffer_.begin() + static_cast<long>(at), buffer_.begin() + static_cast<long>(at + n));
    at += n;
  }
  buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<long>(at));
}

}  // namespace vitrine::netmon::rdp

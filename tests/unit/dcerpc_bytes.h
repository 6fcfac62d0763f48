// DCE/RPC connection-oriented PDUs as bytes ([C706] 12.6), little-endian NDR, for the unit tests
// of the pipe reader and of the SMB inspector that feeds it.
#pragma once

#include <vector>

#include "packet_bytes.h"
#include "smb/dcerpc.h"

namespace vitrine::testing::dcerpc_bytes {

inline constexpr uint8_t kFirstFrag = 0x01, kLastFrag = 0x02;

inline Bytes rpc_pdu(uint8_t type, uint8_t flags, uint32_t call_id, const Bytes& body) {
  Bytes b = {5, 0, type, flags, 0x10, 0, 0, 0};
  put_le16(b, static_cast<uint32_t>(16 + body.size()));
  put_le16(b, 0);
  put_le32(b, call_id);
  append(b, body);
  return b;
}

// A bind (11) or alter_context (14) offering `interfaces` as contexts 0, 1, ...
inline Bytes rpc_bind(const std::vector<netmon::smb::Uuid>& interfaces, uint8_t type = 11) {
  Bytes body = {0xb8, 0x10, 0xb8, 0x10, 0, 0, 0, 0, static_cast<uint8_t>(interfaces.size()), 0, 0, 0};
  for (size_t i = 0; i < interfaces.size(); ++i) {
    put_le16(body, static_cast<uint32_t>(i));
    append(body, {1, 0});
    append(body, Bytes(interfaces[i].begin(), interfaces[i].end()));
    put_le32(body, 3);
    append(body, Bytes(20, 0x8a));  // NDR's transfer syntax (its bytes do not matter here)
  }
  return rpc_pdu(type, kFirstFrag | kLastFrag, 1, body);
}

inline Bytes rpc_request(uint16_t context, uint16_t opnum, const Bytes& stub, uint8_t flags = kFirstFrag | kLastFrag,
                         uint32_t call_id = 2) {
  Bytes body;
  put_le32(body, static_cast<uint32_t>(stub.size()));
  put_le16(body, context);
  put_le16(body, opnum);
  append(body, stub);
  return rpc_pdu(0, flags, call_id, body);
}

}  // namespace vitrine::testing::dcerpc_bytes

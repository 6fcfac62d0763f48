// The start of an RDP connection ([MS-RDPBCGR] 2.2.1): TPKT (RFC 1006) frames carrying the
// X.224 connection request and confirm, and the MCS Connect-Initial whose client network data
// lists the static virtual channels the client asks for. Only the start is readable: once TLS
// or CredSSP is negotiated, the rest is encrypted. Pure: no I/O, no logging, bounded reads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "vitrine/netmon/length_prefixed.h"
#include "vitrine/netmon/parse_result.h"
#include "vitrine/netmon/recognition.h"

namespace vitrine::netmon::rdp {

// requestedProtocols / selectedProtocol bits ([MS-RDPBCGR] 2.2.1.1.1).
inline constexpr uint32_t kProtocolSsl = 0x1, kProtocolHybrid = 0x2, kProtocolHybridEx = 0x8;


struct ConnectionRequest {
  std::string cookie;               // "mstshash=NAME" without the "Cookie: " and CR LF, if sent
  bool negotiates = false;          // an RDP_NEG_REQ follows
  uint32_t requested_protocols = 0; // 0: standard RDP security only
};
struct ConnectionConfirm {
  bool negotiated = false;
  bool failure = false;           // RDP_NEG_FAILURE
  uint32_t selected_protocol = 0; // 0: standard RDP security: what follows is readable
};
struct ConnectInitial {
  std::vector<std::string> channels;  // static virtual channel names, as sent (up to 7 chars)
};

// One whole TPKT (header included) of each kind.
ParseResult parse_connection_request(const uint8_t* tpkt, size_t len, ConnectionRequest& out);
ParseResult parse_connection_confirm(const uint8_t* tpkt, size_t len, ConnectionConfirm& out);
ParseResult parse_connect_initial(const uint8_t* tpkt, size_t len, ConnectInitial& out);

// Whether a client's first payload starts with a TPKT carrying an X.224 connection request.
Recognition looks_like_connection_request(const uint8_t* data, size_t len);

// TPKT framing (RFC 1006) for the shared framer: a frame's bytes are the whole TPKT, header
// included, as the parsers above take it. Bytes that are not TPKT version 3 end the framing
// without a fault (TLS after negotiation, fast-path PDUs); a reserved byte that is not zero is
// framed all the same, as a receiver that reads the version and the length does, and is odd.
struct TpktHeader {
  static constexpr size_t kHeaderBytes = 4;
  // A TPKT says its own length in 16 bits; the connection sequence's are a few hundred bytes.
  static constexpr size_t kMaxTpktBytes = 65535;
  FrameHeader read(const uint8_t* header) const;
};
using TpktFramer = LengthPrefixedFramer<TpktHeader>;

}  // namespace vitrine::netmon::rdp

// Zero-copy decoding of one captured frame down to layer 4. The data path decodes every
// frame, so this reads the bytes in place and allocates nothing (a general packet library
// builds an object per layer). Every frame either decodes or gets a named reason; nothing
// here trusts a length field it has not checked against the bytes actually present.
#pragma once

#include <cstddef>
#include <cstdint>

#include "vitrine/common/net_types.h"

namespace vitrine::netmon {

enum class LinkType : uint8_t { Ethernet, Null, Raw, LinuxSll };

// Frames that cannot be judged. Names are metric label values, so the set is fixed.
enum class Malformed : uint8_t {
  None,
  TruncatedLink,       // shorter than its link-layer header
  TooManyVlanTags,     // more than kMaxVlanTags 802.1Q/802.1ad tags
  TruncatedArp,
  TruncatedIp,         // shorter than the IP header or than its own total length says
  BadIpHeader,         // wrong version, header length below minimum, total length too small
  TooManyIpv6Headers,  // more than kMaxIpv6ExtensionHeaders extension headers
  TruncatedL4,         // TCP/UDP/ICMP header cut short
  BadTcpHeader,        // data offset below 5 words or beyond the segment
  BadUdpLength,        // a UDP length below its header or beyond the IP payload
  BadIpOptions,        // an IPv4 option list that runs past the header or has a bad length
  UnknownLinkType,
  FrameTooLarge,       // live capture kept only part of the frame: it cannot be forwarded whole
  kCount
};
const char* to_string(Malformed m);

// 802.1Q inside 802.1ad (QinQ) is the deepest stacking seen on hospital access networks.
inline constexpr unsigned kMaxVlanTags = 2;
// RFC 8200 recommends at most one of each; eight leaves room and stops header-chain floods.
inline constexpr unsigned kMaxIpv6ExtensionHeaders = 8;

enum class FrameKind : uint8_t { Ip, Arp, OtherL2 };

// What the TCP options of a segment say, as far as the stream engine needs them.
struct TcpOptions {
  bool bad = false;         // a length below 2, past the header, or wrong for its kind
  int8_t window_scale = -1; // the shift a SYN offers (RFC 7323), -1 when absent
  bool sack_permitted = false;
  bool has_timestamp = false;
  uint32_t ts_val = 0;
  uint32_t ts_ecr = 0;
};

struct ArpInfo {
  uint16_t operation = 0;
  MacAddr sender_mac;
  IpAddr sender_ip;
  IpAddr target_ip;
};

struct Decoded {
  FrameKind kind = FrameKind::OtherL2;
  bool has_ethernet = false;
  MacAddr src_mac;
  MacAddr dst_mac;
  uint16_t ethertype = 0;  // innermost, after VLAN tags
  uint8_t vlan_tags = 0;
  uint16_t vlan_ids[kMaxVlanTags] = {0, 0};  // outermost first
  ArpInfo arp;  // kind == Arp

  // kind == Ip
  uint8_t ip_version = 0;
  const uint8_t* l3 = nullptr;  // IP header, as nDPI wants it
  uint32_t l3_len = 0;          // IP total length, without link padding
  IpAddr src_ip;
  IpAddr dst_ip;
  uint8_t l4_protocol = 0;
  uint16_t ip_header_len = 0;   // IPv4: the header with its options; IPv6: 40
  bool ip_options = false;
  bool ip_source_route = false; // IPv4 loose or strict source route (XP SP2 drops them)
  bool fragment = false;        // any fragment, first or later
  bool later_fragment = false;  // offset > 0: no L4 header
  bool snap_truncated = false;  // the capture kept fewer bytes than the IP length says

  // Transport, when present (not in later fragments).
  bool has_l4 = false;
  uint16_t src_port = 0;  // ICMP: 0
  uint16_t dst_port = 0;
  uint8_t tcp_flags = 0;
  uint32_t tcp_seq = 0;
  uint32_t tcp_ack = 0;
  uint16_t tcp_window = 0;      // as sent, before any scaling
  TcpOptions tcp_options;
  const uint8_t* l4 = nullptr;  // the transport header, for its checksum
  uint32_t l4_len = 0;          // transport header and payload (UDP: its own length)
  const uint8_t* payload = nullptr;
  uint32_t payload_len = 0;
};

namespace tcp_flag {
inline constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10, kUrg = 0x20;
}

// "TCP", "UDP", "ICMP", "ICMPv6", "IGMP", or "IP" for any other IP protocol.
const char* l4_name(uint8_t ip_protocol);

// caplen: bytes present; wirelen: the frame's length on the wire (caplen when not captured).
Malformed decode_frame(LinkType link, const uint8_t* data, size_t caplen, size_t wirelen,
                       Decoded& out);

}  // namespace vitrine::netmon

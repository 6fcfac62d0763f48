#include "vitrine/netmon/layer2_police.h"

#include <netinet/in.h>

#include <algorithm>

#include "vitrine/netmon/byte_order.h"
#include "vitrine/netmon/flow.h"

namespace vitrine::netmon {

const char* to_string(L2Drop r) {
  switch (r) {
    case L2Drop::SpoofedMac: return "spoofed_mac";
    case L2Drop::SpoofedIp: return "spoofed_ip";
    case L2Drop::ArpSpoof: return "arp_spoof";
    case L2Drop::NonIp: return "non_ip";
    case L2Drop::DhcpServer: return "dhcp_server";
    case L2Drop::NotForGuest: return "not_for_guest";
    case L2Drop::kCount: break;
  }
  return "?";
}

const char* to_string(DhcpOutcome o) {
  switch (o) {
    case DhcpOutcome::None: return "none";
    case DhcpOutcome::Passed: return "passed";
    case DhcpOutcome::NotDhcp: return "not_dhcp";
    case DhcpOutcome::WrongClient: return "wrong_client";
    case DhcpOutcome::WrongServer: return "wrong_server";
    case DhcpOutcome::WrongDestination: return "wrong_destination";
    case DhcpOutcome::kCount: break;
  }
  return "?";
}

namespace {

constexpr uint16_t kDhcpServerPort = 67, kDhcpClientPort = 68;
// BOOTP's fixed part (RFC 2131 §2): op to file, then the magic cookie that makes it DHCP.
constexpr size_t kBootpFixed = 236;
constexpr size_t kYiaddr = 16, kChaddr = 28, kChaddrBytes = 16;
constexpr uint8_t kCookie[] = {0x63, 0x82, 0x53, 0x63};
constexpr uint8_t kBootRequest = 1, kBootReply = 2;
constexpr uint8_t kOptionPad = 0, kOptionEnd = 255, kOptionMessageType = 53, kOptionOverload = 52;
// sname and file (RFC 2131 §2): 64 and 128 bytes a client leaves empty.
constexpr size_t kSname = 44, kSnameAndFileBytes = 64 + 128;

bool all_zero(const uint8_t* p, size_t len) {
  return std::all_of(p, p + len, [](uint8_t b) { return b == 0; });
}

bool is_guest_address(const policy::GuestIdentity& g, const IpAddr& ip) {
  return ip == g.ipv4 || std::find(g.ipv6.begin(), g.ipv6.end(), ip) != g.ipv6.end();
}

// The DHCP message type (option 53) of a message whose options are well formed, or 0. Well
// formed: each option within the datagram, one message type, an End option with nothing but
// padding after it (RFC 2132 §3.2), and from a client no option overload (52): sname and file
// then stay empty. Anything else would be bytes no DHCP agent reads: a channel.
uint8_t dhcp_message_type(const uint8_t* options, size_t len, uint8_t op) {
  uint8_t type = 0;
  size_t at = 0;
  while (at < len) {
    const uint8_t code = options[at];
    if (code == kOptionEnd) return all_zero(options + at + 1, len - at - 1) ? type : 0;
    if (code == kOptionOverload && op == kBootRequest) return 0;
    if (code == kOptionPad) {
      ++at;
      continue;
    }
    if (at + 1 >= len || at + 2 + options[at + 1] > len) return 0;  // runs past the datagram
    if (code == kOptionMessageType) {
      if (options[at + 1] != 1 || type != 0) return 0;  // one, one byte long
      type = options[at + 2];
    }
    at += 2 + options[at + 1];
  }
  return 0;  // no end option
}

// A well-formed DHCP message with BOOTP op `op` whose type is one a client (or a server)
// sends, for the guest's hardware address. NotDhcp / WrongClient / Passed.
DhcpOutcome judge_message(const policy::GuestIdentity& g, const Decoded& d, uint8_t op) {
  // Untagged (XP tags nothing: a tagged copy is for another VLAN), and a datagram that is the
  // whole IP payload: bytes past its UDP length are read by no DHCP agent.
  if (d.vlan_tags != 0 || d.l3_len - d.ip_header_len != d.l4_len) return DhcpOutcome::NotDhcp;
  const uint8_t* m = d.payload;
  const size_t len = d.payload_len;
  if (len < kBootpFixed + sizeof kCookie || m[0] != op || m[1] != 1 || m[2] != 6) return DhcpOutcome::NotDhcp;
  if (!std::equal(kCookie, kCookie + 4, m + kBootpFixed)) return DhcpOutcome::NotDhcp;
  const uint8_t type = dhcp_message_type(m + kBootpFixed + 4, len - kBootpFixed - 4, op);
  // Client: DISCOVER, REQUEST, DECLINE, RELEASE, INFORM; server: OFFER, ACK, NAK.
  const bool client_type = type == 1 || type == 3 || type == 4 || type == 7 || type == 8;
  const bool server_type = type == 2 || type == 5 || type == 6;
  if (op == kBootRequest ? !client_type : !server_type) return DhcpOutcome::NotDhcp;
  // A client sets neither hops nor a relay address: one that does pretends to be a relay.
  if (op == kBootRequest && (m[3] != 0 || be32(m + 24) != 0)) return DhcpOutcome::NotDhcp;
  // A client leaves empty what only a server fills: yiaddr and siaddr, sname and file, and
  // chaddr past its 6-byte Ethernet address (RFC 2131 table 5).
  if (op == kBootRequest && (!all_zero(m + kYiaddr, 8) || !all_zero(m + kChaddr + 6, kChaddrBytes - 6) ||
                             !all_zero(m + kSname, kSnameAndFileBytes)))
    return DhcpOutcome::NotDhcp;
  if (!std::equal(g.mac.bytes.begin(), g.mac.bytes.end(), m + kChaddr)) return DhcpOutcome::WrongClient;
  return DhcpOutcome::Passed;
}

bool is_dhcp_server(const policy::Layer2& l2, const IpAddr& ip) {
  return std::any_of(l2.dhcp_servers.begin(), l2.dhcp_servers.end(), [&](const Cidr& c) { return c.contains(ip); });
}

// A datagram between DHCP's ports, with dhcpClient on: Forward (the guest's DHCP exchange),
// or Inspect (the flow rules judge it), with the outcome counted.
L2Decision police_dhcp(const policy::Policy& p, Side from, const Decoded& d) {
  const auto& g = *p.guest;
  L2Decision out;
  out.result = L2Result::Inspect;
  if (from == Side::Guest) {
    out.dhcp = judge_message(g, d, kBootRequest);
    // To every host of the link (255.255.255.255, in a broadcast frame), or to a server (a
    // renewal, unicast); a multicast group or a broadcast address in a frame to one host is
    // neither.
    const bool broadcast = d.dst_ip == IpAddr::v4(0xffffffff) && d.dst_mac.is_broadcast();
    const bool to_server = broadcast || is_dhcp_server(p.layer2, d.dst_ip);
    if (out.dhcp == DhcpOutcome::Passed && !to_server) out.dhcp = DhcpOutcome::WrongDestination;
    if (out.dhcp == DhcpOutcome::Passed && !d.src_ip.is_unspecified() && !is_guest_address(g, d.src_ip))
      out.dhcp = DhcpOutcome::NotDhcp;
  } else {
    out.dhcp = judge_message(g, d, kBootReply);
    if (out.dhcp == DhcpOutcome::Passed && !p.layer2.dhcp_servers.empty() && !is_dhcp_server(p.layer2, d.src_ip))
      out.dhcp = DhcpOutcome::WrongServer;
  }
  if (out.dhcp == DhcpOutcome::Passed) out.result = L2Result::Forward;
  return out;
}

L2Decision refuse(L2Drop reason) {
  L2Decision out;
  out.result = L2Result::Drop;
  out.reason = reason;
  return out;
}

L2Decision from_guest(const policy::Policy& p, const Decoded& d, bool dhcp_ports) {
  const auto& g = *p.guest;
  if (d.has_ethernet && d.src_mac != g.mac) return refuse(L2Drop::SpoofedMac);
  switch (d.kind) {
    case FrameKind::Arp:
      if (d.arp.sender_mac != g.mac || (d.arp.sender_ip != g.ipv4 && !d.arp.sender_ip.is_unspecified()))
        return refuse(L2Drop::ArpSpoof);
      return {L2Result::Forward};
    case FrameKind::OtherL2: return refuse(L2Drop::NonIp);
    case FrameKind::Ip: {
      const bool udp = d.l4_protocol == IPPROTO_UDP && d.has_l4;
      if (udp && d.src_port == kDhcpServerPort) return refuse(L2Drop::DhcpServer);
      L2Decision dhcp;
      if (dhcp_ports) {
        dhcp = police_dhcp(p, Side::Guest, d);
        if (dhcp.result == L2Result::Forward) return dhcp;
      }
      if (!is_guest_address(g, d.src_ip)) {
        L2Decision out = refuse(L2Drop::SpoofedIp);
        out.dhcp = dhcp.dhcp;
        return out;
      }
      return dhcp;
    }
  }
  return refuse(L2Drop::NonIp);
}

L2Decision from_network(const policy::Policy& p, const Decoded& d, bool dhcp_ports) {
  const auto& g = *p.guest;
  if (d.has_ethernet && d.dst_mac != g.mac && !d.dst_mac.is_multicast()) return refuse(L2Drop::NotForGuest);
  switch (d.kind) {
    case FrameKind::Arp:
      if (d.arp.target_ip != g.ipv4) return refuse(L2Drop::NotForGuest);
      return {L2Result::Forward};
    case FrameKind::OtherL2: return refuse(L2Drop::NonIp);
    case FrameKind::Ip: {
      L2Decision dhcp;
      if (dhcp_ports) {
        dhcp = police_dhcp(p, Side::Uplink, d);
        if (dhcp.result == L2Result::Forward) return dhcp;
      }
      if (!is_guest_address(g, d.dst_ip) && !d.dst_ip.is_broadcast_or_multicast()) {
        L2Decision out = refuse(L2Drop::NotForGuest);
        out.dhcp = dhcp.dhcp;
        return out;
      }
      return dhcp;
    }
  }
  return refuse(L2Drop::NonIp);
}

}  // namespace

L2Decision police_layer2(const policy::Policy& p, Side from, const Decoded& d) {
  if (!p.guest) return {d.kind == FrameKind::Ip ? L2Result::Inspect : L2Result::Forward};
  const bool udp = d.kind == FrameKind::Ip && d.l4_protocol == IPPROTO_UDP && d.has_l4 && !d.fragment;
  const bool client_to_server = udp && d.src_port == kDhcpClientPort && d.dst_port == kDhcpServerPort;
  const bool server_to_client = udp && d.src_port == kDhcpServerPort && d.dst_port == kDhcpClientPort;
  const bool dhcp_ports = p.layer2.dhcp_client && (from == Side::Guest ? client_to_server : server_to_client);
  return from == Side::Guest ? from_guest(p, d, dhcp_ports) : from_network(p, d, dhcp_ports);
}

}  // namespace vitrine::netmon

#include "vitrine/netmon/decode.h"

#include "vitrine/netmon/byte_order.h"

#include <netinet/in.h>

namespace vitrine::netmon {

const char* to_string(Malformed m) {
  switch (m) {
    case Malformed::None: return "none";
    case Malformed::TruncatedLink: return "truncated_link";
    case Malformed::TooManyVlanTags: return "too_many_vlan_tags";
    case Malformed::TruncatedArp: return "truncated_arp";
    case Malformed::TruncatedIp: return "truncated_ip";
    case Malformed::BadIpHeader: return "bad_ip_header";
    case Malformed::TooManyIpv6Headers: return "too_many_ipv6_headers";
    case Malformed::TruncatedL4: return "truncated_l4";
    case Malformed::BadTcpHeader: return "bad_tcp_header";
    case Malformed::BadUdpLength: return "bad_udp_length";
    case Malformed::BadIpOptions: return "bad_ip_options";
    case Malformed::UnknownLinkType: return "unknown_link_type";
    case Malformed::FrameTooLarge: return "frame_too_large";
    case Malformed::kCount: break;
  }
  return "?";
}

const char* l4_name(uint8_t ip_protocol) {
  switch (ip_protocol) {
    case IPPROTO_TCP: return "TCP";
    case IPPROTO_UDP: return "UDP";
    case IPPROTO_ICMP: return "ICMP";
    case IPPROTO_ICMPV6: return "ICMPv6";
    case IPPROTO_IGMP: return "IGMP";
    default: return "IP";
  }
}

namespace {

constexpr uint16_t kEthIpv4 = 0x0800, kEthIpv6 = 0x86dd, kEthArp = 0x0806;
constexpr uint16_t kEthVlan = 0x8100, kEthQinQ = 0x88a8;

// TCP options as a receiving stack reads them. A list that a stack could read two ways (a
// length that runs past the header, below 2, or wrong for its kind) is marked bad: the
// engine drops such a segment, since netmon cannot know which reading the host makes.
TcpOptions parse_tcp_options(const uint8_t* p, size_t len) {
  TcpOptions o;
  size_t at = 0;
  while (at < len) {
    const uint8_t kind = p[at];
    if (kind == 0) break;  // end of list
    if (kind == 1) {       // no-operation
      ++at;
      continue;
    }
    if (at + 1 >= len || p[at + 1] < 2 || at + p[at + 1] > len) {
      o.bad = true;
      break;
    }
    const uint8_t size = p[at + 1];
    const uint8_t* v = p + at + 2;
    switch (kind) {
      case 2: o.bad |= size != 4; break;  // maximum segment size
      case 3:                             // window scale
        if (size != 3) o.bad = true;
        else o.window_scale = static_cast<int8_t>(v[0] > 14 ? 14 : v[0]);  // RFC 7323 caps it at 14
        break;
      case 4: o.bad |= size != 2; o.sack_permitted = true; break;
      case 5: o.bad |= size < 10 || (size - 2) % 8 != 0; break;  // SACK blocks
      case 8:                                                    // timestamps
        if (size != 10) {
          o.bad = true;
        } else {
          o.has_timestamp = true;
          o.ts_val = be32(v);
          o.ts_ecr = be32(v + 4);
        }
        break;
      default: break;  // others: skipped by their length, as stacks do
    }
    at += size;
  }
  return o;
}

Malformed decode_l4(Decoded& out, const uint8_t* p, size_t len) {
  out.l4 = p;
  out.l4_len = static_cast<uint32_t>(len);
  switch (out.l4_protocol) {
    case IPPROTO_TCP: {
      if (len < 20) return Malformed::TruncatedL4;
      const size_t header = static_cast<size_t>(p[12] >> 4) * 4;
      if (header < 20 || header > len) return Malformed::BadTcpHeader;
      out.src_port = be16(p);
      out.dst_port = be16(p + 2);
      out.tcp_seq = be32(p + 4);
      out.tcp_ack = be32(p + 8);
      out.tcp_flags = p[13];
      out.tcp_window = be16(p + 14);
      if (header > 20) out.tcp_options = parse_tcp_options(p + 20, header - 20);
      out.payload = p + header;
      out.payload_len = static_cast<uint32_t>(len - header);
      break;
    }
    case IPPROTO_UDP: {
      if (len < 8) return Malformed::TruncatedL4;
      // The host reads the datagram its own length gives; bytes past it are not the payload.
      const size_t udp_len = be16(p + 4);
      if (udp_len < 8 || (udp_len > len && !out.snap_truncated)) return Malformed::BadUdpLength;
      const size_t kept = udp_len > len ? len : udp_len;
      out.l4_len = static_cast<uint32_t>(kept);
      out.src_port = be16(p);
      out.dst_port = be16(p + 2);
      out.payload = p + 8;
      out.payload_len = static_cast<uint32_t>(kept - 8);
      break;
    }
    case IPPROTO_ICMP:
    case IPPROTO_ICMPV6:
      if (len < 4) return Malformed::TruncatedL4;
      out.payload = p + 4;
      out.payload_len = static_cast<uint32_t>(len - 4);
      break;
    default:
      out.payload = p;
      out.payload_len = static_cast<uint32_t>(len);
      break;
  }
  out.has_l4 = true;
  return Malformed::None;
}

// IPv4 options: the list must be well formed (as for TCP options), and a source route is
// noted: Windows XP SP2 drops source-routed packets (DisableIPSourceRouting), so what such a
// packet says never reaches the guest.
Malformed check_ipv4_options(Decoded& out, const uint8_t* p, size_t len) {
  size_t at = 0;
  while (at < len) {
    const uint8_t type = p[at];
    if (type == 0) break;
    if (type == 1) {
      ++at;
      continue;
    }
    if (at + 1 >= len || p[at + 1] < 2 || at + p[at + 1] > len) return Malformed::BadIpOptions;
    if (type == 131 || type == 137) out.ip_source_route = true;  // LSRR, SSRR
    at += p[at + 1];
  }
  return Malformed::None;
}

// Cuts the link's padding (Ethernet pads to 60 bytes) off by the IP length; notes a capture
// that kept fewer bytes than the packet had (a snap length), which replay still decodes.
Malformed clip_ip(Decoded& out, size_t available, size_t ip_total, bool capture_short) {
  if (ip_total > available) {
    if (!capture_short) return Malformed::TruncatedIp;
    out.snap_truncated = true;
    ip_total = available;
  }
  out.l3_len = static_cast<uint32_t>(ip_total);
  return Malformed::None;
}

Malformed decode_ipv4(Decoded& out, const uint8_t* p, size_t len, bool capture_short) {
  if (len < 20) return Malformed::TruncatedIp;
  if ((p[0] >> 4) != 4) return Malformed::BadIpHeader;
  const size_t header = static_cast<size_t>(p[0] & 0x0f) * 4;
  const size_t total = be16(p + 2);
  if (header < 20 || total < header) return Malformed::BadIpHeader;
  if (header > len) return Malformed::TruncatedIp;
  if (auto m = clip_ip(out, len, total, capture_short); m != Malformed::None) return m;
  out.ip_version = 4;
  out.ip_header_len = static_cast<uint16_t>(header);
  out.l3 = p;
  out.src_ip = IpAddr::v4_from_network(p + 12);
  out.dst_ip = IpAddr::v4_from_network(p + 16);
  out.l4_protocol = p[9];
  out.ip_options = header > 20;
  if (out.ip_options)
    if (auto m = check_ipv4_options(out, p + 20, header - 20); m != Malformed::None) return m;
  const uint16_t frag = be16(p + 6);
  const bool more_fragments = (frag & 0x2000) != 0;
  const uint16_t offset = frag & 0x1fff;
  out.fragment = more_fragments || offset != 0;
  out.later_fragment = offset != 0;
  if (out.later_fragment) return Malformed::None;
  return decode_l4(out, p + header, out.l3_len - header);
}

bool is_ipv6_extension(uint8_t next) {
  switch (next) {
    case 0:    // hop-by-hop options
    case 43:   // routing
    case 44:   // fragment
    case 51:   // authentication header
    case 60:   // destination options
    case 135:  // mobility
      return true;
    default: return false;
  }
}

Malformed decode_ipv6(Decoded& out, const uint8_t* p, size_t len, bool capture_short) {
  if (len < 40) return Malformed::TruncatedIp;
  if ((p[0] >> 4) != 6) return Malformed::BadIpHeader;
  if (auto m = clip_ip(out, len, 40 + size_t{be16(p + 4)}, capture_short); m != Malformed::None)
    return m;
  out.ip_version = 6;
  out.ip_header_len = 40;
  out.l3 = p;
  out.src_ip = IpAddr::v6_from_network(p + 8);
  out.dst_ip = IpAddr::v6_from_network(p + 24);
  uint8_t next = p[6];
  size_t at = 40;
  for (unsigned count = 0; is_ipv6_extension(next); ++count) {
    if (count == kMaxIpv6ExtensionHeaders) return Malformed::TooManyIpv6Headers;
    if (at + 8 > out.l3_len) return Malformed::TruncatedIp;
    const uint8_t* ext = p + at;
    if (next == 44) {  // fragment header: fixed 8 bytes
      out.fragment = true;
      out.later_fragment = (be16(ext + 2) & 0xfff8) != 0;
      at += 8;
    } else if (next == 51) {
      at += (size_t{ext[1]} + 2) * 4;
    } else {
      at += (size_t{ext[1]} + 1) * 8;
    }
    if (at > out.l3_len) return Malformed::TruncatedIp;
    next = ext[0];
  }
  out.l4_protocol = next;
  if (out.later_fragment) return Malformed::None;
  return decode_l4(out, p + at, out.l3_len - at);
}

Malformed decode_arp(Decoded& out, const uint8_t* p, size_t len) {
  // Only Ethernet/IPv4 ARP (htype 1, ptype 0x0800, sizes 6 and 4) is meaningful here; any
  // other ARP is kept as ARP with zero addresses, which the layer-2 policy then refuses.
  if (len < 8) return Malformed::TruncatedArp;
  out.kind = FrameKind::Arp;
  out.arp.operation = be16(p + 6);
  if (be16(p) != 1 || be16(p + 2) != kEthIpv4 || p[4] != 6 || p[5] != 4) return Malformed::None;
  if (len < 28) return Malformed::TruncatedArp;
  for (int i = 0; i < 6; ++i) out.arp.sender_mac.bytes[i] = p[8 + i];
  out.arp.sender_ip = IpAddr::v4_from_network(p + 14);
  out.arp.target_ip = IpAddr::v4_from_network(p + 24);
  return Malformed::None;
}

Malformed decode_by_ethertype(Decoded& out, uint16_t ethertype, const uint8_t* p, size_t len,
                              bool capture_short) {
  out.ethertype = ethertype;
  switch (ethertype) {
    case kEthIpv4: out.kind = FrameKind::Ip; return decode_ipv4(out, p, len, capture_short);
    case kEthIpv6: out.kind = FrameKind::Ip; return decode_ipv6(out, p, len, capture_short);
    case kEthArp: return decode_arp(out, p, len);
    default: out.kind = FrameKind::OtherL2; return Malformed::None;
  }
}

}  // namespace

Malformed decode_frame(LinkType link, const uint8_t* data, size_t caplen, size_t wirelen,
                       Decoded& out) {
  out = Decoded{};
  const bool capture_short = caplen < wirelen;
  switch (link) {
    case LinkType::Ethernet: {
      if (caplen < 14) return Malformed::TruncatedLink;
      out.has_ethernet = true;
      for (int i = 0; i < 6; ++i) {
        out.dst_mac.bytes[i] = data[i];
        out.src_mac.bytes[i] = data[6 + i];
      }
      size_t at = 12;
      uint16_t type = be16(data + at);
      while (type == kEthVlan || type == kEthQinQ) {
        if (out.vlan_tags == kMaxVlanTags) return Malformed::TooManyVlanTags;
        if (at + 6 > caplen) return Malformed::TruncatedLink;
        out.vlan_ids[out.vlan_tags] = be16(data + at + 2) & 0x0fff;
        ++out.vlan_tags;
        at += 4;
        type = be16(data + at);
      }
      at += 2;
      return decode_by_ethertype(out, type, data + at, caplen - at, capture_short);
    }
    case LinkType::Null: {
      // BSD loopback: a 4-byte address family in the capturing host's byte order.
      if (caplen < 4) return Malformed::TruncatedLink;
      const uint32_t le = data[0] | (data[1] << 8) | (data[2] << 16) | (uint32_t{data[3]} << 24);
      const uint32_t family = le > 0xffff ? be32(data) : le;
      const uint8_t version = caplen > 4 ? (data[4] >> 4) : 0;
      if (family == 2 || version == 4)
        return decode_by_ethertype(out, kEthIpv4, data + 4, caplen - 4, capture_short);
      // BSD variants number AF_INET6 24, 28 or 30.
      if (family == 24 || family == 28 || family == 30 || version == 6)
        return decode_by_ethertype(out, kEthIpv6, data + 4, caplen - 4, capture_short);
      return Malformed::None;  // other families: an OtherL2 frame
    }
    case LinkType::Raw: {
      if (caplen < 1) return Malformed::TruncatedLink;
      const uint16_t type = (data[0] >> 4) == 6 ? kEthIpv6 : kEthIpv4;
      return decode_by_ethertype(out, type, data, caplen, capture_short);
    }
    case LinkType::LinuxSll: {
      if (caplen < 16) return Malformed::TruncatedLink;
      return decode_by_ethertype(out, be16(data + 14), data + 16, caplen - 16, capture_short);
    }
  }
  return Malformed::UnknownLinkType;
}

}  // namespace vitrine::netmon

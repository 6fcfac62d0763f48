// Builds test frames byte by byte, with correct checksums, so that unit tests feed the
// decoder and the engine exactly what a wire would carry.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vitrine/common/net_types.h"
#include "vitrine/netmon/tcp_reset.h"

namespace vitrine::testing {

using Bytes = std::vector<uint8_t>;

inline void put16(Bytes& b, size_t at, uint16_t v) {
  b[at] = static_cast<uint8_t>(v >> 8);
  b[at + 1] = static_cast<uint8_t>(v);
}
inline void put32(Bytes& b, size_t at, uint32_t v) {
  put16(b, at, static_cast<uint16_t>(v >> 16));
  put16(b, at + 2, static_cast<uint16_t>(v));
}

inline Bytes ethernet(const MacAddr& src, const MacAddr& dst, uint16_t ethertype,
                      const Bytes& payload) {
  Bytes f(14);
  for (int i = 0; i < 6; ++i) {
    f[i] = dst.bytes[i];
    f[6 + i] = src.bytes[i];
  }
  put16(f, 12, ethertype);
  f.insert(f.end(), payload.begin(), payload.end());
  return f;
}

inline Bytes ipv4(const IpAddr& src, const IpAddr& dst, uint8_t protocol, const Bytes& l4,
                  uint16_t frag_field = 0x4000, const Bytes& options = {}) {
  const size_t header = 20 + options.size();
  Bytes p(20);
  p.insert(p.end(), options.begin(), options.end());
  p[0] = static_cast<uint8_t>(0x40 | (header / 4));
  put16(p, 2, static_cast<uint16_t>(header + l4.size()));
  put16(p, 6, frag_field);
  p[8] = 64;
  p[9] = protocol;
  for (int i = 0; i < 4; ++i) {
    p[12 + i] = src.bytes[12 + i];
    p[16 + i] = dst.bytes[12 + i];
  }
  put16(p, 10, netmon::internet_checksum(p.data(), header));
  p.insert(p.end(), l4.begin(), l4.end());
  // The transport checksum, as a sender's stack fills it (whole datagrams only).
  const bool fragment = (frag_field & 0x3fff) != 0;
  const size_t at = protocol == 6 ? 16 : protocol == 17 ? 6 : protocol == 1 ? 2 : 0;
  if (at != 0 && !fragment && l4.size() >= at + 2) {
    uint32_t pseudo = 0;
    if (protocol != 1) {
      pseudo = static_cast<uint16_t>(~netmon::internet_checksum(p.data() + 12, 8)) + protocol +
               static_cast<uint32_t>(l4.size());
    }
    put16(p, header + at, netmon::internet_checksum(p.data() + header, l4.size(), pseudo));
  }
  return p;
}

inline Bytes tcp(uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
                 const std::string& payload = {}, const Bytes& options = {}, uint16_t window = 65535) {
  // Sized once: growing a vector by insert() trips a GCC 12 -Warray-bounds false positive.
  const size_t header = 20 + (options.size() + 3) / 4 * 4;
  Bytes t(header + payload.size());
  for (size_t i = 0; i < options.size(); ++i) t[20 + i] = options[i];
  for (size_t i = 0; i < payload.size(); ++i) t[header + i] = static_cast<uint8_t>(payload[i]);
  put16(t, 0, sport);
  put16(t, 2, dport);
  put32(t, 4, seq);
  put32(t, 8, ack);
  t[12] = static_cast<uint8_t>(header / 4 << 4);
  t[13] = flags;
  put16(t, 14, window);
  return t;  // checksum filled in by ipv4(), over its pseudo-header
}

// An Ethernet frame with one 802.1Q tag.
inline Bytes ethernet_vlan(const MacAddr& src, const MacAddr& dst, uint16_t vlan, uint16_t ethertype,
                           const Bytes& payload) {
  Bytes f(18);
  for (int i = 0; i < 6; ++i) {
    f[i] = dst.bytes[i];
    f[6 + i] = src.bytes[i];
  }
  put16(f, 12, 0x8100);
  put16(f, 14, vlan);
  put16(f, 16, ethertype);
  f.insert(f.end(), payload.begin(), payload.end());
  return f;
}

inline Bytes udp(uint16_t sport, uint16_t dport, const Bytes& payload) {
  Bytes u(8);
  put16(u, 0, sport);
  put16(u, 2, dport);
  put16(u, 4, static_cast<uint16_t>(8 + payload.size()));
  u.insert(u.end(), payload.begin(), payload.end());
  return u;
}

// A DNS query for `name` (type A), as a resolver client sends it.
inline Bytes dns_query(uint16_t id, const std::string& name) {
  Bytes q = {static_cast<uint8_t>(id >> 8), static_cast<uint8_t>(id), 0x01, 0x00, 0, 1, 0, 0,
             0, 0, 0, 0};
  size_t start = 0;
  while (start <= name.size()) {
    const size_t dot = name.find('.', start);
    const size_t end = dot == std::string::npos ? name.size() : dot;
    q.push_back(static_cast<uint8_t>(end - start));
    q.insert(q.end(), name.begin() + static_cast<long>(start), name.begin() + static_cast<long>(end));
    start = end + 1;
  }
  q.insert(q.end(), {0, 0, 1, 0, 1});
  return q;
}

// A DHCP message (RFC 2131): BOOTP op 1 (request) or 2 (reply), DHCP message type `type`, for
// client hardware address `chaddr`, with the magic cookie and an end option.
inline Bytes dhcp_message(uint8_t op, uint8_t type, const MacAddr& chaddr) {
  Bytes m(236, 0);
  m[0] = op;
  m[1] = 1;  // Ethernet
  m[2] = 6;
  put32(m, 4, 0x3903f326);  // xid
  for (int i = 0; i < 6; ++i) m[28 + i] = chaddr.bytes[i];
  for (uint8_t b : {0x63, 0x82, 0x53, 0x63, 53, 1, 0, 255}) m.push_back(b);
  m[236 + 6] = type;
  return m;
}

inline Bytes arp(uint16_t op, const MacAddr& sender_mac, const IpAddr& sender_ip,
                 const IpAddr& target_ip) {
  Bytes a(28, 0);
  put16(a, 0, 1);
  put16(a, 2, 0x0800);
  a[4] = 6;
  a[5] = 4;
  put16(a, 6, op);
  for (int i = 0; i < 6; ++i) a[8 + i] = sender_mac.bytes[i];
  for (int i = 0; i < 4; ++i) {
    a[14 + i] = sender_ip.bytes[12 + i];
    a[24 + i] = target_ip.bytes[12 + i];
  }
  return a;
}

inline MacAddr mac(const char* text) { return *MacAddr::parse(text); }
inline IpAddr ip(const char* text) { return *IpAddr::parse(text); }

}  // namespace vitrine::testing

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
  return p;
}

inline Bytes tcp(uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
                 const std::string& payload = {}) {
  // Sized once: growing a vector by insert() trips a GCC 12 -Warray-bounds false positive.
  Bytes t(20 + payload.size());
  for (size_t i = 0; i < payload.size(); ++i) t[20 + i] = static_cast<uint8_t>(payload[i]);
  put16(t, 0, sport);
  put16(t, 2, dport);
  put32(t, 4, seq);
  put32(t, 8, ack);
  t[12] = 5 << 4;
  t[13] = flags;
  put16(t, 14, 65535);
  return t;  // checksum left zero: nothing on this path verifies it
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

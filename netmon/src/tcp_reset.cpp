#include "vitrine/netmon/tcp_reset.h"

#include <netinet/in.h>

#include <cstring>

namespace vitrine::netmon {

namespace {
constexpr size_t kEthHeader = 14, kIpv4Header = 20, kIpv6Header = 40, kTcpHeader = 20;
// Linux's default; the value only matters to middleboxes that inspect it.
constexpr uint8_t kTtl = 64;

void put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
void put32(uint8_t* p, uint32_t v) {
  put16(p, static_cast<uint16_t>(v >> 16));
  put16(p + 2, static_cast<uint16_t>(v));
}
}  // namespace

std::vector<uint8_t> build_tcp_reset(const ResetSpec& s) {
  const bool v4 = s.src_ip.is_v4();
  const size_t ip_len = v4 ? kIpv4Header : kIpv6Header;
  std::vector<uint8_t> f(kEthHeader + ip_len + kTcpHeader, 0);

  std::memcpy(f.data(), s.dst_mac.bytes.data(), 6);
  std::memcpy(f.data() + 6, s.src_mac.bytes.data(), 6);
  put16(f.data() + 12, v4 ? 0x0800 : 0x86dd);

  uint8_t* ip = f.data() + kEthHeader;
  uint8_t* tcp = ip + ip_len;
  uint32_t pseudo = 0;
  if (v4) {
    ip[0] = 0x45;
    put16(ip + 2, static_cast<uint16_t>(kIpv4Header + kTcpHeader));
    put16(ip + 6, 0x4000);  // don't fragment
    ip[8] = kTtl;
    ip[9] = IPPROTO_TCP;
    std::memcpy(ip + 12, s.src_ip.bytes.data() + 12, 4);
    std::memcpy(ip + 16, s.dst_ip.bytes.data() + 12, 4);
    put16(ip + 10, internet_checksum(ip, kIpv4Header));
    pseudo = static_cast<uint16_t>(~internet_checksum(ip + 12, 8)) + IPPROTO_TCP + kTcpHeader;
  } else {
    ip[0] = 0x60;
    put16(ip + 4, static_cast<uint16_t>(kTcpHeader));
    ip[6] = IPPROTO_TCP;
    ip[7] = kTtl;
    std::memcpy(ip + 8, s.src_ip.bytes.data(), 16);
    std::memcpy(ip + 24, s.dst_ip.bytes.data(), 16);
    pseudo = static_cast<uint16_t>(~internet_checksum(ip + 8, 32)) + IPPROTO_TCP + kTcpHeader;
  }

  put16(tcp, s.src_port);
  put16(tcp + 2, s.dst_port);
  put32(tcp + 4, s.seq);
  put32(tcp + 8, s.ack.value_or(0));
  tcp[12] = 5 << 4;
  tcp[13] = 0x04 | (s.ack ? 0x10 : 0);  // RST, and ACK when acknowledging
  put16(tcp + 16, internet_checksum(tcp, kTcpHeader, pseudo));
  return f;
}

}  // namespace vitrine::netmon

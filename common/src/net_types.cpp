#include "vitrine/common/net_types.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstdio>
#include <cstring>

namespace vitrine {

namespace {
constexpr std::array<uint8_t, 12> kV4MappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
}

std::optional<MacAddr> MacAddr::parse(std::string_view text) {
  // Exactly six two-digit hex groups separated by ':' or '-'.
  if (text.size() != 17) return std::nullopt;
  MacAddr mac;
  for (size_t i = 0; i < 6; ++i) {
    const size_t at = i * 3;
    if (i > 0 && text[at - 1] != ':' && text[at - 1] != '-') return std::nullopt;
    unsigned value = 0;
    auto [end, ec] = std::from_chars(text.data() + at, text.data() + at + 2, value, 16);
    if (ec != std::errc{} || end != text.data() + at + 2) return std::nullopt;
    mac.bytes[i] = static_cast<uint8_t>(value);
  }
  return mac;
}

std::string MacAddr::str() const {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", bytes[0], bytes[1], bytes[2],
                bytes[3], bytes[4], bytes[5]);
  return buf;
}

IpAddr IpAddr::v4(uint32_t host_order) {
  IpAddr a;
  std::memcpy(a.bytes.data(), kV4MappedPrefix.data(), kV4MappedPrefix.size());
  a.bytes[12] = static_cast<uint8_t>(host_order >> 24);
  a.bytes[13] = static_cast<uint8_t>(host_order >> 16);
  a.bytes[14] = static_cast<uint8_t>(host_order >> 8);
  a.bytes[15] = static_cast<uint8_t>(host_order);
  return a;
}

IpAddr IpAddr::v4_from_network(const uint8_t* four_bytes) {
  IpAddr a;
  std::memcpy(a.bytes.data(), kV4MappedPrefix.data(), kV4MappedPrefix.size());
  std::memcpy(a.bytes.data() + 12, four_bytes, 4);
  return a;
}

IpAddr IpAddr::v6_from_network(const uint8_t* sixteen_bytes) {
  IpAddr a;
  std::memcpy(a.bytes.data(), sixteen_bytes, 16);
  return a;
}

std::optional<IpAddr> IpAddr::parse(std::string_view text) {
  const std::string s(text);
  uint8_t buf[16];
  if (inet_pton(AF_INET, s.c_str(), buf) == 1) return v4_from_network(buf);
  if (inet_pton(AF_INET6, s.c_str(), buf) == 1) return v6_from_network(buf);
  return std::nullopt;
}

bool IpAddr::is_v4() const {
  return std::memcmp(bytes.data(), kV4MappedPrefix.data(), kV4MappedPrefix.size()) == 0;
}

uint32_t IpAddr::v4_host_order() const {
  return (uint32_t{bytes[12]} << 24) | (uint32_t{bytes[13]} << 16) | (uint32_t{bytes[14]} << 8) |
         uint32_t{bytes[15]};
}

bool IpAddr::is_unspecified() const {
  if (is_v4()) return v4_host_order() == 0;
  for (auto b : bytes)
    if (b != 0) return false;
  return true;
}

bool IpAddr::is_broadcast_or_multicast() const {
  if (is_v4()) {
    const uint32_t a = v4_host_order();
    return a == 0xffffffffu || (a >> 28) == 0xe;
  }
  return bytes[0] == 0xff;
}

std::string IpAddr::str() const {
  char buf[INET6_ADDRSTRLEN];
  if (is_v4()) return inet_ntop(AF_INET, bytes.data() + 12, buf, sizeof buf);
  return inet_ntop(AF_INET6, bytes.data(), buf, sizeof buf);
}

std::optional<Cidr> Cidr::parse(std::string_view text) {
  const auto slash = text.find('/');
  auto addr = IpAddr::parse(text.substr(0, slash));
  if (!addr) return std::nullopt;
  const unsigned max_bits = addr->is_v4() ? 32 : 128;
  unsigned bits = max_bits;
  if (slash != std::string_view::npos) {
    const auto digits = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), bits);
    if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() ||
        bits > max_bits)
      return std::nullopt;
  }
  Cidr c;
  c.prefix_bits = static_cast<uint8_t>(addr->is_v4() ? bits + 96 : bits);
  c.network = *addr;
  // Clear host bits so that contains() is a plain masked compare.
  for (unsigned i = c.prefix_bits; i < 128; ++i) c.network.bytes[i / 8] &= ~(0x80u >> (i % 8));
  return c;
}

bool Cidr::contains(const IpAddr& addr) const {
  const unsigned full = prefix_bits / 8;
  if (std::memcmp(network.bytes.data(), addr.bytes.data(), full) != 0) return false;
  const unsigned rest = prefix_bits % 8;
  if (rest == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xff00u >> rest);
  return (addr.bytes[full] & mask) == network.bytes[full];
}

std::string Cidr::str() const {
  const bool v4 = network.is_v4() && prefix_bits >= 96;
  return network.str() + "/" + std::to_string(v4 ? prefix_bits - 96 : prefix_bits);
}

}  // namespace vitrine

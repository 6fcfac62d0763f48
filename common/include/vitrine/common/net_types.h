// Addresses as the data path and the policy both see them: fixed-size values, cheap to copy
// and compare, with parsing for configuration and formatting for events.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vitrine {

struct MacAddr {
  std::array<uint8_t, 6> bytes{};

  bool is_multicast() const { return (bytes[0] & 0x01) != 0; }  // includes broadcast
  bool is_broadcast() const {
    for (auto b : bytes)
      if (b != 0xff) return false;
    return true;
  }
  auto operator<=>(const MacAddr&) const = default;

  static std::optional<MacAddr> parse(std::string_view text);  // "52:54:00:12:34:56"
  std::string str() const;
};

// IPv4 is held as an IPv4-mapped IPv6 address (::ffff:a.b.c.d), so one type and one
// comparison serve both families.
struct IpAddr {
  std::array<uint8_t, 16> bytes{};

  static IpAddr v4(uint32_t host_order);
  static IpAddr v4_from_network(const uint8_t* four_bytes);
  static IpAddr v6_from_network(const uint8_t* sixteen_bytes);
  static std::optional<IpAddr> parse(std::string_view text);

  bool is_v4() const;
  uint32_t v4_host_order() const;  // only meaningful when is_v4()
  bool is_unspecified() const;
  bool is_broadcast_or_multicast() const;  // 255.255.255.255, 224/4, ff00::/8
  auto operator<=>(const IpAddr&) const = default;
  std::string str() const;
};

struct Cidr {
  IpAddr network;
  uint8_t prefix_bits = 0;  // counted over the 128-bit form: an IPv4 /24 is stored as /120

  // "10.0.0.0/8", "2001:db8::/32", or a bare address meaning a host route.
  static std::optional<Cidr> parse(std::string_view text);
  bool contains(const IpAddr& addr) const;
  std::string str() const;
};

}  // namespace vitrine

// The TCP reset that ends a denied flow at once, so that the endpoint sees a refusal rather
// than waiting for a timeout. Building one frame needs only header layout and the Internet
// checksum; a packet-crafting library would add a dependency for fifty bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "vitrine/common/net_types.h"
#include "vitrine/netmon/checksum.h"

namespace vitrine::netmon {

struct ResetSpec {
  MacAddr src_mac;
  MacAddr dst_mac;
  IpAddr src_ip;  // both IPv4 or both IPv6
  IpAddr dst_ip;
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  uint32_t seq = 0;
  std::optional<uint32_t> ack;  // sets the ACK flag when present
};

// An Ethernet frame (IPv4 or IPv6) carrying RST (and ACK when spec.ack is set).
std::vector<uint8_t> build_tcp_reset(const ResetSpec& spec);

}  // namespace vitrine::netmon

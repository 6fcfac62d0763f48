#include "vitrine/policy/rule_index.h"

#include <netinet/in.h>

#include <algorithm>
#include <bit>

#include "vitrine/policy/evaluate.h"
#include "vitrine/policy/policy.h"

namespace vitrine::policy {

namespace {

constexpr uint8_t kClassProtocol[5] = {IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_GRE};

size_t class_of(uint8_t ip_protocol) {
  switch (ip_protocol) {
    case IPPROTO_TCP: return 0;
    case IPPROTO_UDP: return 1;
    case IPPROTO_ICMP: return 2;
    case IPPROTO_ICMPV6: return 3;
    default: return 4;
  }
}

IpAddr first_of(const Cidr& c) {
  IpAddr a = c.network;
  for (unsigned bit = c.prefix_bits; bit < 128; ++bit) a.bytes[bit / 8] &= static_cast<uint8_t>(~(0x80u >> (bit % 8)));
  return a;
}

// The address after the last one of the CIDR; false when that would wrap past the top.
bool after_last_of(const Cidr& c, IpAddr& out) {
  IpAddr a = first_of(c);
  for (unsigned bit = c.prefix_bits; bit < 128; ++bit) a.bytes[bit / 8] |= static_cast<uint8_t>(0x80u >> (bit % 8));
  for (int i = 15; i >= 0; --i) {
    if (++a.bytes[static_cast<size_t>(i)] != 0) {
      out = a;
      return true;
    }
  }
  return false;
}

void set_bit(uint64_t* words, size_t i) { words[i / 64] |= uint64_t{1} << (i % 64); }

}  // namespace

RuleIndex::RuleIndex(const Policy& policy) : rules_(policy.rules.size()), words_((rules_ + 63) / 64) {
  const auto& rules = policy.rules;
  // Direction and transport: decided with the evaluator's own reading of 'any' and ports.
  for (int d = 0; d < 2; ++d) {
    for (size_t cls = 0; cls < 5; ++cls) {
      auto& bits = class_bits_[d][cls];
      bits.assign(words_, 0);
      for (size_t i = 0; i < rules.size(); ++i) {
        FlowFacts probe;
        probe.direction = d == 0 ? Direction::Egress : Direction::Ingress;
        probe.ip_protocol = kClassProtocol[cls];
        if (rules[i].direction == probe.direction &&
            transport_matches(rules[i].transport, probe.ip_protocol, !rules[i].ports.empty()))
          set_bit(bits.data(), i);
      }
    }
  }
  // Peers: every CIDR's first address and the one after its last bound an interval.
  peer_starts_.push_back(IpAddr{});  // :: — the whole space is covered
  for (const auto& r : rules) {
    for (const auto& c : r.peers) {
      peer_starts_.push_back(first_of(c));
      IpAddr next;
      if (after_last_of(c, next)) peer_starts_.push_back(next);
    }
  }
  std::sort(peer_starts_.begin(), peer_starts_.end());
  peer_starts_.erase(std::unique(peer_starts_.begin(), peer_starts_.end()), peer_starts_.end());
  peer_bits_.assign(peer_starts_.size() * words_, 0);
  for (size_t k = 0; k < peer_starts_.size(); ++k) {
    for (size_t i = 0; i < rules.size(); ++i) {
      const auto& r = rules[i];
      if (r.any_peer || std::any_of(r.peers.begin(), r.peers.end(),
                                    [&](const Cidr& c) { return c.contains(peer_starts_[k]); }))
        set_bit(&peer_bits_[k * words_], i);
    }
  }
  // Ports: the same over 0..65535.
  port_starts_.push_back(0);
  for (const auto& r : rules) {
    for (const auto& p : r.ports) {
      port_starts_.push_back(p.first);
      if (p.last < 65535) port_starts_.push_back(uint32_t{p.last} + 1);
    }
  }
  std::sort(port_starts_.begin(), port_starts_.end());
  port_starts_.erase(std::unique(port_starts_.begin(), port_starts_.end()), port_starts_.end());
  port_bits_.assign(port_starts_.size() * words_, 0);
  for (size_t k = 0; k < port_starts_.size(); ++k) {
    for (size_t i = 0; i < rules.size(); ++i) {
      const auto& r = rules[i];
      if (r.ports.empty() || std::any_of(r.ports.begin(), r.ports.end(), [&](const PortRange& p) {
            return port_starts_[k] >= p.first && port_starts_[k] <= p.last;
          }))
        set_bit(&port_bits_[k * words_], i);
    }
  }
}

void RuleIndex::candidates(const FlowFacts& facts, std::vector<uint32_t>& out) const {
  out.clear();
  if (rules_ == 0) return;
  const uint64_t* cls = class_bits_[facts.direction == Direction::Egress ? 0 : 1][class_of(facts.ip_protocol)].data();
  const size_t peer = static_cast<size_t>(
      std::upper_bound(peer_starts_.begin(), peer_starts_.end(), facts.peer) - peer_starts_.begin() - 1);
  const size_t port = static_cast<size_t>(
      std::upper_bound(port_starts_.begin(), port_starts_.end(), uint32_t{facts.service_port}) - port_starts_.begin() - 1);
  const uint64_t* peers = &peer_bits_[peer * words_];
  const uint64_t* ports = &port_bits_[port * words_];
  for (size_t w = 0; w < words_; ++w) {
    uint64_t bits = cls[w] & peers[w] & ports[w];
    while (bits != 0) {
      out.push_back(static_cast<uint32_t>(w * 64 + static_cast<size_t>(std::countr_zero(bits))));
      bits &= bits - 1;
    }
  }
}

}  // namespace vitrine::policy

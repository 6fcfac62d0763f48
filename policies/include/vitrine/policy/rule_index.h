// The rules compiled for the data path: for a flow's direction and transport, its peer and its
// port, the rules whose address and port conditions it meets, as bitsets found by binary
// search over elementary address and port intervals and intersected a word at a time. The cost
// of a decision grows with log(distinct address and port bounds) and rules/64, not with the
// rules one by one. Built once when the policy is loaded; immutable after.
#pragma once

#include <cstdint>
#include <vector>

#include "vitrine/common/net_types.h"

namespace vitrine::policy {

struct Policy;
struct FlowFacts;

class RuleIndex {
 public:
  explicit RuleIndex(const Policy& policy);

  // The rules (indices, in order) whose direction, transport, peer and port match `facts`.
  // `out` is reused by the caller to avoid allocating per decision.
  void candidates(const FlowFacts& facts, std::vector<uint32_t>& out) const;

  size_t rules() const { return rules_; }

 private:
  using Words = std::vector<uint64_t>;
  const uint64_t* class_bits(const FlowFacts& facts) const;

  size_t rules_ = 0;
  size_t words_ = 0;  // uint64 words per bitset
  // [direction][transport class]: tcp, udp, icmp, icmpv6, other
  Words class_bits_[2][5];
  // Elementary intervals: each starts at starts[i] and ends before starts[i + 1]; its rules
  // are bits[i * words_ .. (i + 1) * words_).
  std::vector<IpAddr> peer_starts_;
  Words peer_bits_;
  std::vector<uint32_t> port_starts_;
  Words port_bits_;
};

}  // namespace vitrine::policy

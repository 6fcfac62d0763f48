// The compiled rule index decides exactly as walking the rules one by one does, on random
// policies and flows built to hit the edges: overlapping and nested CIDRs, host routes, /0,
// IPv6, port ranges touching 0 and 65535, empty sets, protocol and risk rules, ICMP.
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <random>

#include "vitrine/policy/evaluate.h"
#include "vitrine/policy/rule_index.h"

using namespace vitrine;
using namespace vitrine::policy;

namespace {

class Generator {
 public:
  explicit Generator(uint32_t seed) : rng_(seed) {}

  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }

  IpAddr address() {
    // Few distinct networks, so that rules and flows meet often.
    if (pick(5) == 0) return *IpAddr::parse("2001:db8::" + std::to_string(pick(4)));
    return *IpAddr::parse("10." + std::to_string(pick(3)) + "." + std::to_string(pick(4)) + "." + std::to_string(pick(6)));
  }
  Cidr cidr() {
    const IpAddr a = address();
    if (pick(10) == 0) return *Cidr::parse(a.is_v4() ? "0.0.0.0/0" : "::/0");
    const int bits = a.is_v4() ? std::vector<int>{8, 16, 24, 30, 32}[static_cast<size_t>(pick(5))]
                               : std::vector<int>{32, 64, 126, 128}[static_cast<size_t>(pick(4))];
    return *Cidr::parse(a.str() + "/" + std::to_string(bits));
  }
  uint16_t port() { return std::vector<uint16_t>{0, 1, 22, 53, 80, 443, 445, 2575, 65534, 65535}[static_cast<size_t>(pick(10))]; }

  Policy policy(size_t rules) {
    Policy p;
    p.default_action = static_cast<Action>(pick(3));
    for (size_t i = 0; i < rules; ++i) {
      Rule r;
      r.name = "r" + std::to_string(i);
      r.direction = pick(2) ? Direction::Egress : Direction::Ingress;
      r.transport = static_cast<Transport>(pick(4));
      if (pick(3) != 0) {
        r.any_peer = false;
        for (int n = pick(3); n >= 0; --n)
          if (pick(6) != 0) r.peers.push_back(cidr());  // sometimes none: an empty set
      }
      if (r.transport != Transport::Icmp && pick(2)) {
        for (int n = pick(2); n >= 0; --n) {
          const uint16_t a = port(), b = port();
          r.ports.push_back({std::min(a, b), std::max(a, b)});
        }
      }
      if (pick(4) == 0) r.protocols.push_back(static_cast<uint16_t>(1 + pick(3)));
      if (pick(6) == 0) r.risks = uint64_t{1} << (1 + pick(3));
      r.action = static_cast<Action>(pick(3));
      p.rules.push_back(r);
    }
    return p;
  }

  FlowFacts flow() {
    FlowFacts f;
    f.direction = pick(2) ? Direction::Egress : Direction::Ingress;
    f.ip_protocol = std::vector<uint8_t>{IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_GRE}
        [static_cast<size_t>(pick(5))];
    f.peer = address();
    f.service_port = (f.ip_protocol == IPPROTO_TCP || f.ip_protocol == IPPROTO_UDP) ? port() : 0;
    if (pick(2)) f.l7 = L7Facts{static_cast<uint16_t>(pick(4)), static_cast<uint16_t>(pick(4)), uint64_t{1} << (1 + pick(3))};
    return f;
  }

 private:
  std::mt19937 rng_;
};

}  // namespace

TEST(RuleIndex, DecidesExactlyAsTheLinearWalkDoes) {
  Generator g(20261127);
  size_t decisions = 0, definitive = 0, by_rule = 0;
  for (int round = 0; round < 300; ++round) {
    Policy p = g.policy(static_cast<size_t>(1 + g.pick(80)));
    compile(p);
    for (int i = 0; i < 300; ++i) {
      const FlowFacts f = g.flow();
      const Decision want = evaluate_linear(p, f);
      const Decision got = evaluate(p, f);
      ASSERT_EQ(got.rule, want.rule) << "round " << round << " flow " << i << " peer " << f.peer.str() << " port " << f.service_port;
      ASSERT_EQ(got.action, want.action);
      ASSERT_EQ(got.definitive, want.definitive);
      ++decisions;
      definitive += want.definitive;
      by_rule += want.rule != kDefaultRule;
    }
  }
  // The generator must exercise both kinds of outcome, or the comparison proves little.
  EXPECT_GT(by_rule, decisions / 4);
  EXPECT_LT(by_rule, decisions);
  EXPECT_LT(definitive, decisions);
}

TEST(RuleIndex, AnEmptyPolicyHasNoCandidates) {
  Policy p;
  compile(p);
  std::vector<uint32_t> out = {7};
  FlowFacts f;
  p.index->candidates(f, out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(evaluate(p, f).rule, kDefaultRule);
}

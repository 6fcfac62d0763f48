#include <gtest/gtest.h>
#include <netinet/in.h>

#include "vitrine/netmon/flow.h"

using namespace vitrine;
using namespace vitrine::netmon;

namespace {
FlowKey key(uint16_t port, uint8_t proto = IPPROTO_TCP) {
  return FlowKey::of(*IpAddr::parse("10.77.0.2"), port, *IpAddr::parse("10.77.0.1"), 80, proto);
}
FlowTimeouts timeouts(uint64_t tcp_s, uint64_t udp_s) {
  policy::Limits l;
  l.tcp_idle_timeout_s = static_cast<uint32_t>(tcp_s);
  l.udp_idle_timeout_s = static_cast<uint32_t>(udp_s);
  l.tcp_closed_timeout_s = 1;
  l.other_idle_timeout_s = 1;
  return FlowTimeouts::from(l);
}
constexpr uint64_t kSecond = 1000000;
}  // namespace

TEST(FlowKey, BothDirectionsGiveOneKey) {
  const auto a = *IpAddr::parse("10.77.0.2"), b = *IpAddr::parse("10.77.0.1");
  EXPECT_EQ(FlowKey::of(a, 1000, b, 80, IPPROTO_TCP), FlowKey::of(b, 80, a, 1000, IPPROTO_TCP));
  EXPECT_FALSE(FlowKey::of(a, 1000, b, 80, IPPROTO_TCP) == FlowKey::of(a, 1000, b, 80, IPPROTO_UDP));
  EXPECT_EQ(FlowKeyHash{}(FlowKey::of(a, 1, b, 2, 6)), FlowKeyHash{}(FlowKey::of(b, 2, a, 1, 6)));
}

TEST(FlowTable, RefusesInsertWhenFull) {
  FlowTable t(2, timeouts(100, 100));
  ASSERT_NE(t.insert(key(1), TimeoutClass::Tcp, 0), nullptr);
  ASSERT_NE(t.insert(key(2), TimeoutClass::Tcp, 0), nullptr);
  EXPECT_EQ(t.insert(key(3), TimeoutClass::Tcp, 0), nullptr);
  EXPECT_EQ(t.size(), 2u);
  EXPECT_NE(t.find(key(1)), nullptr);
  EXPECT_EQ(t.find(key(3)), nullptr);
}

TEST(FlowTable, ExpiresEachClassByItsOwnTimeout) {
  FlowTable t(16, timeouts(100, 10));
  t.insert(key(1), TimeoutClass::Tcp, 0);
  t.insert(key(2, IPPROTO_UDP), TimeoutClass::Udp, 0);
  std::vector<uint16_t> ended;
  auto on_end = [&](Flow& f) { ended.push_back(f.key->low_port == 80 ? f.key->high_port : f.key->low_port); };
  t.expire(9 * kSecond, on_end);
  EXPECT_TRUE(ended.empty());
  t.expire(10 * kSecond, on_end);
  EXPECT_EQ(ended, std::vector<uint16_t>{2});
  t.expire(99 * kSecond, on_end);
  EXPECT_EQ(t.size(), 1u);
  t.expire(100 * kSecond, on_end);
  EXPECT_EQ(t.size(), 0u);
}

TEST(FlowTable, TouchKeepsAFlowAliveAndOldestFollowsActivity) {
  FlowTable t(16, timeouts(100, 100));
  Flow* a = t.insert(key(1), TimeoutClass::Tcp, 0);
  Flow* b = t.insert(key(2), TimeoutClass::Tcp, 1);
  EXPECT_EQ(t.oldest(), a);
  t.touch(*a, TimeoutClass::Tcp, 50 * kSecond);
  EXPECT_EQ(t.oldest(), b);
  int ended = 0;
  t.expire(120 * kSecond, [&](Flow&) { ++ended; });
  EXPECT_EQ(ended, 1);
  EXPECT_NE(t.find(key(1)), nullptr);
}

TEST(FlowTable, ClosedTcpMovesToTheShortTimeout) {
  FlowTable t(16, timeouts(100, 100));
  Flow* a = t.insert(key(1), TimeoutClass::Tcp, 0);
  t.touch(*a, TimeoutClass::TcpClosed, 0);
  int ended = 0;
  t.expire(1 * kSecond, [&](Flow&) { ++ended; });
  EXPECT_EQ(ended, 1);
}

TEST(FlowTable, DrainEndsEveryFlow) {
  FlowTable t(16, timeouts(100, 100));
  for (uint16_t p = 1; p <= 5; ++p) t.insert(key(p), TimeoutClass::Tcp, 0);
  int ended = 0;
  t.drain([&](Flow&) { ++ended; });
  EXPECT_EQ(ended, 5);
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.oldest(), nullptr);
}

// Which frames get a flow entry: scans and floods of denied SYNs take none, unanswered flows
// are bounded per side and per network source, half-open flows go within seconds, and the
// cabinet's answered flows are never what a flood evicts.
#include <gtest/gtest.h>
#include <netinet/in.h>

#include "engine_fixture.h"
#include "vitrine/netmon/decode.h"

using namespace vitrine;
using namespace vitrine::netmon;
using namespace vitrine::testing;
using netmon::tcp_flag::kAck;
using netmon::tcp_flag::kPsh;
using netmon::tcp_flag::kRst;
using netmon::tcp_flag::kSyn;

namespace {

constexpr const char* kRules = R"(rules:
  - name: web
    direction: egress
    transport: tcp
    ports: [8080]
    action: allow
  - name: vendor-rdp
    direction: ingress
    transport: tcp
    ports: [3389]
    action: allow
virtualPatches: {ms17-010: off, ms08-067: off, cve-2019-0708: off, ms06-040: off, ms04-011: off, ms05-039: off}
limits:
  maxFlows: 1024
)";

class AdmissionTest : public EngineTest {
 protected:
  // A SYN from a hospital host (10.77.x.y) to the guest.
  void syn_from_network(uint32_t host, uint16_t sport, uint16_t dport) {
    const IpAddr src = IpAddr::v4(0x0a4d0000u | (host & 0xffff));
    from_uplink(ethernet(kGatewayMac, kGuestMac, 0x0800, ipv4(src, kGuestIp, 6, tcp(sport, dport, 7, 0, kSyn))));
  }
  size_t resets_to(Side side) {
    size_t n = 0;
    for (const Bytes& f : sink_.to(side)) {
      Decoded d;
      if (decode_frame(LinkType::Ethernet, f.data(), f.size(), f.size(), d) == Malformed::None && (d.tcp_flags & kRst)) ++n;
    }
    return n;
  }
};

}  // namespace

TEST_F(AdmissionTest, AFullPortScanTakesNoFlowEntry) {
  start(kRules);
  for (uint32_t port = 1; port <= 5000; ++port) {
    if (port == 3389) continue;
    syn_from_network(9, 40000, static_cast<uint16_t>(port));
    now_us_ += 100;  // 10,000 SYNs a second
  }
  EXPECT_EQ(engine_->flows().size(), 0u);
  EXPECT_LE(engine_->denied_flows_remembered(), kDeniedFlowsRemembered);
  EXPECT_EQ(metric("vitrine_netmon_rule_hits_total", {{"rule", "default"}, {"action", "deny"}}), 4999);
  EXPECT_TRUE(sink_.to(Side::Guest).empty()) << "no SYN reaches the cabinet";
  // Half a second of scan: the first thousand answered, the rest rate-limited.
  EXPECT_EQ(resets_to(Side::Uplink), kMaxFirstPacketResetsPerSecond);
  EXPECT_EQ(metric("vitrine_netmon_tcp_resets_suppressed_total"), 4999 - kMaxFirstPacketResetsPerSecond);
  // The cabinet's own connection opens in the middle of it.
  connect(50000, 8080);
  const Flow* flow = engine_->flows().find(FlowKey::of(kGuestIp, 50000, kServerIp, 8080, IPPROTO_TCP));
  ASSERT_NE(flow, nullptr);
  EXPECT_TRUE(flow->answered);
}

TEST_F(AdmissionTest, ARetransmittedDeniedSynIsTheSameDeniedFlow) {
  start(kRules);
  for (int i = 0; i < 3; ++i) {
    syn_from_network(9, 40000, 445);
    now_us_ += 3'000'000;  // XP's SYN retransmissions: 3 s, then 6 s
  }
  EXPECT_EQ(metric("vitrine_netmon_rule_hits_total", {{"rule", "default"}, {"action", "deny"}}), 1);
  EXPECT_EQ(events_.count(Event::Kind::FlowDenied), 1u);
  EXPECT_EQ(resets_to(Side::Uplink), 3u) << "each SYN gets its refusal";
  now_us_ += kDeniedFlowLifetimeUs;
  syn_from_network(9, 40000, 445);
  EXPECT_EQ(events_.count(Event::Kind::FlowDenied), 2u) << "after the denied flow is forgotten: a new one";
}

TEST_F(AdmissionTest, AFloodOfSynsFromForgedSourcesFillsOnlyTheNetworksShare) {
  start(kRules);
  connect(50000, 8080);  // the cabinet's open session
  for (uint32_t i = 0; i < 3000; ++i) {
    syn_from_network(i, static_cast<uint16_t>(1024 + i), 3389);
    now_us_ += 10;
  }
  const size_t share = 1024 / 4;
  EXPECT_EQ(engine_->flows().unanswered(Side::Uplink), share);
  EXPECT_EQ(metric("vitrine_netmon_flow_table_evictions_total", {{"reason", "unanswered_from_network"}}), 3000 - share);
  EXPECT_NE(engine_->flows().find(FlowKey::of(kGuestIp, 50000, kServerIp, 8080, IPPROTO_TCP)), nullptr)
      << "the open session is never what the flood evicts";
  connect(50001, 8080);  // and a new one opens during it
  const Flow* fresh = engine_->flows().find(FlowKey::of(kGuestIp, 50001, kServerIp, 8080, IPPROTO_TCP));
  ASSERT_NE(fresh, nullptr);
  EXPECT_TRUE(fresh->answered);
}

TEST_F(AdmissionTest, OneHostMayHaveOnlySoManyUnansweredFlows) {
  start(std::string(kRules) + "  maxUnansweredFlowsPerSource: 8\n");
  for (uint16_t i = 0; i < 20; ++i) syn_from_network(5, static_cast<uint16_t>(2000 + i), 3389);
  EXPECT_EQ(engine_->flows().unanswered(Side::Uplink), 8u);
  EXPECT_EQ(metric("vitrine_netmon_limit_reached_total", {{"limit", "maxUnansweredFlowsPerSource"}}), 12);
  const IpAddr host = IpAddr::v4(0x0a4d0005u);
  EXPECT_EQ(engine_->flows().find(FlowKey::of(host, 2011, kGuestIp, 3389, IPPROTO_TCP)), nullptr) << "its oldest went";
  EXPECT_NE(engine_->flows().find(FlowKey::of(host, 2019, kGuestIp, 3389, IPPROTO_TCP)), nullptr) << "its newest came in";
  syn_from_network(6, 2000, 3389);
  EXPECT_EQ(engine_->flows().unanswered(Side::Uplink), 9u) << "another host still gets in";
}

TEST_F(AdmissionTest, AFloodInAnAllowedHostsNameDoesNotKeepItsRealConnectionOut) {
  start(std::string(kRules) + "  maxUnansweredFlowsPerSource: 256\n");
  const IpAddr host = IpAddr::v4(0x0a4d0005u);
  auto flood = [&](uint16_t first) {
    for (uint16_t i = 0; i < 300; ++i) {
      syn_from_network(5, static_cast<uint16_t>(first + i), 3389);
      now_us_ += 10;
    }
  };
  flood(10000);  // SYNs forged in the support host's name
  syn_from_network(5, 40000, 3389);  // the host's own
  const FlowKey real = FlowKey::of(host, 40000, kGuestIp, 3389, IPPROTO_TCP);
  ASSERT_NE(engine_->flows().find(real), nullptr) << "admitted while its name is flooded";
  from_guest(ethernet(kGuestMac, kGatewayMac, 0x0800, ipv4(kGuestIp, host, 6, tcp(3389, 40000, 900, 8, kSyn | kAck))));
  from_uplink(ethernet(kGatewayMac, kGuestMac, 0x0800, ipv4(host, kGuestIp, 6, tcp(40000, 3389, 8, 901, kAck))));
  ASSERT_TRUE(engine_->flows().find(real)->answered) << "its handshake completed";
  flood(20000);
  EXPECT_NE(engine_->flows().find(real), nullptr) << "answered: no longer the flood's to evict";
  EXPECT_EQ(engine_->flows().unanswered_from(host), 256u);
}

TEST_F(AdmissionTest, HalfOpenFlowsAreGoneWithinSeconds) {
  start(kRules);
  syn_from_network(5, 2000, 3389);
  connect(50000, 8080);
  ASSERT_EQ(engine_->flows().size(), 2u);
  now_us_ += uint64_t{policy_->limits.tcp_half_open_timeout_s} * 1'000'000;
  engine_->on_tick(now_us_);
  EXPECT_EQ(engine_->flows().size(), 1u) << "the answered flow stays (tcpIdleTimeout)";
  EXPECT_EQ(engine_->flows().unanswered(Side::Uplink), 0u);
}

TEST_F(AdmissionTest, AGuestFloodingItsOwnAllowedPortEvictsOnlyItsOwnUnansweredFlows) {
  start(kRules);
  connect(40000, 8080);
  for (uint16_t i = 0; i < 2000; ++i) {
    from_guest(guest_tcp(static_cast<uint16_t>(1024 + i), 8080, 5, 0, kSyn));
    now_us_ += 10;
  }
  EXPECT_EQ(engine_->flows().unanswered(Side::Guest), 1024u / 4);
  EXPECT_NE(engine_->flows().find(FlowKey::of(kGuestIp, 40000, kServerIp, 8080, IPPROTO_TCP)), nullptr);
  syn_from_network(5, 2000, 3389);
  EXPECT_EQ(engine_->flows().unanswered(Side::Uplink), 1u) << "the network's share is untouched";
  connect(60000, 8080);
  const Flow* fresh = engine_->flows().find(FlowKey::of(kGuestIp, 60000, kServerIp, 8080, IPPROTO_TCP));
  ASSERT_NE(fresh, nullptr);
  EXPECT_TRUE(fresh->answered);
}

TEST_F(AdmissionTest, TheUnansweredShareIsBoundedByThePolicyFile) {
  EXPECT_THROW(start(std::string(kRules) + "  maxUnansweredFlows: 600\n"), policy::PolicyError)
      << "more than half of maxFlows";
}

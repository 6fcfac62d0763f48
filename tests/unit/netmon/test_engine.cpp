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
  - name: dns
    direction: egress
    transport: udp
    ports: [53]
    protocols: [DNS]
    action: allow
  - name: no-smb
    direction: egress
    transport: tcp
    ports: [445]
    action: deny
  - name: watch-telnet
    direction: egress
    transport: tcp
    ports: [23]
    action: alert
)";

Decoded decoded(const Bytes& f) {
  Decoded d;
  EXPECT_EQ(decode_frame(LinkType::Ethernet, f.data(), f.size(), f.size(), d), Malformed::None);
  return d;
}

}  // namespace

TEST_F(EngineTest, DeniedSynIsDroppedAndTheGuestGetsAReset) {
  start(kRules);
  from_guest(guest_tcp(49152, 445, 1000, 0, kSyn));
  EXPECT_TRUE(sink_.to(Side::Uplink).empty()) << "the SYN must not reach the network";
  const auto to_guest = sink_.to(Side::Guest);
  ASSERT_EQ(to_guest.size(), 1u);
  const Decoded rst = decoded(to_guest[0]);
  EXPECT_EQ(rst.src_ip, kServerIp);
  EXPECT_EQ(rst.dst_ip, kGuestIp);
  EXPECT_EQ(rst.src_port, 445);
  EXPECT_EQ(rst.dst_port, 49152);
  EXPECT_EQ(rst.tcp_flags, kRst | kAck);
  EXPECT_EQ(rst.tcp_ack, 1001u) << "acknowledges the SYN, so the guest's stack accepts it";
  EXPECT_EQ(rst.dst_mac, kGuestMac);
  ASSERT_EQ(events_.count(Event::Kind::FlowDenied), 1u);
  EXPECT_EQ(events_.events[0].rule, "no-smb");
  EXPECT_EQ(events_.events[0].dport, 445);
  EXPECT_EQ(events_.events[0].direction, "egress");
  EXPECT_EQ(metric("vitrine_netmon_packets_total", {{"direction", "egress"}, {"verdict", "deny"}}), 1);
  EXPECT_EQ(metric("vitrine_netmon_rule_hits_total", {{"rule", "no-smb"}}), 1);
  EXPECT_EQ(metric("vitrine_netmon_tcp_resets_sent_total"), 1);
  // Later packets of the flow are dropped too, without a second event.
  from_guest(guest_tcp(49152, 445, 1000, 0, kSyn));
  EXPECT_TRUE(sink_.to(Side::Uplink).empty());
  EXPECT_EQ(events_.count(Event::Kind::FlowDenied), 1u);
}

TEST_F(EngineTest, DefaultDenyCoversUnlistedPeersAndIngress) {
  start(kRules);
  from_guest(guest_tcp(49152, 22, 1, 0, kSyn));
  from_uplink(server_tcp(40000, 3389, 1, 0, kSyn));
  EXPECT_TRUE(sink_.to(Side::Uplink).size() == 1u) << "only the reset to the ingress initiator";
  EXPECT_EQ(events_.count(Event::Kind::FlowDenied), 2u);
  EXPECT_EQ(events_.events[1].direction, "ingress");
  EXPECT_EQ(events_.events[1].rule, "default");
  const Decoded rst = decoded(sink_.to(Side::Uplink)[0]);
  EXPECT_EQ(rst.dst_ip, kServerIp);
  EXPECT_EQ(rst.src_port, 3389);
}

TEST_F(EngineTest, AllowedFlowPassesBothWays) {
  start(kRules);
  from_guest(guest_tcp(49152, 8080, 1, 0, kSyn));
  from_uplink(server_tcp(8080, 49152, 100, 2, kSyn | kAck));
  from_guest(guest_tcp(49152, 8080, 2, 101, kAck | kPsh, "hello"));
  EXPECT_EQ(sink_.to(Side::Uplink).size(), 2u);
  EXPECT_EQ(sink_.to(Side::Guest).size(), 1u);
  EXPECT_EQ(sink_.to(Side::Uplink)[1], guest_tcp(49152, 8080, 2, 101, kAck | kPsh, "hello"));
  EXPECT_EQ(metric("vitrine_netmon_packets_total", {{"direction", "egress"}, {"verdict", "allow"}}), 2);
  EXPECT_EQ(metric("vitrine_netmon_packets_total", {{"direction", "ingress"}, {"verdict", "allow"}}), 1);
  EXPECT_TRUE(events_.events.empty());
}

TEST_F(EngineTest, ProtocolRuleLetsRealDnsThrough) {
  start(kRules);
  const Bytes query = guest_udp(40000, 53, dns_query(0x1234, "pharmacy.hospital.local"));
  from_guest(query);
  ASSERT_EQ(sink_.to(Side::Uplink).size(), 1u);
  EXPECT_EQ(sink_.to(Side::Uplink)[0], query);
  EXPECT_EQ(metric("vitrine_netmon_rule_hits_total", {{"rule", "dns"}, {"action", "allow"}}), 1);
}

TEST_F(EngineTest, NotDnsOnPort53IsHeldThenDeniedAtTheDeadline) {
  start(std::string(kRules) + "limits:\n  holdMilliseconds: 500\n");
  from_guest(guest_udp(40000, 53, Bytes(40, 0x41)));
  EXPECT_TRUE(sink_.to(Side::Uplink).empty()) << "held while nDPI decides";
  EXPECT_EQ(metric("vitrine_netmon_held_packets"), 1);
  EXPECT_EQ(engine_->next_deadline_us(), now_us_ + 500'000);
  engine_->on_tick(now_us_ + 499'999);
  EXPECT_EQ(events_.count(Event::Kind::FlowDenied), 0u);
  engine_->on_tick(now_us_ + 500'000);
  EXPECT_TRUE(sink_.to(Side::Uplink).empty()) << "the held packet was never sent";
  EXPECT_EQ(events_.count(Event::Kind::LimitReached), 1u);
  EXPECT_EQ(events_.count(Event::Kind::FlowDenied), 1u);
  EXPECT_EQ(metric("vitrine_netmon_limit_reached_total", {{"limit", "holdMilliseconds"}}), 1);
  EXPECT_EQ(metric("vitrine_netmon_held_packets"), 0);
  EXPECT_EQ(metric("vitrine_netmon_packets_total", {{"direction", "egress"}, {"verdict", "deny"}}), 1);
}

TEST_F(EngineTest, HoldBoundReleasesHeldFramesInOrderWhenUndeterminedIsAllow) {
  start(R"(rules:
  - name: hl7
    direction: egress
    transport: tcp
    ports: [2575]
    protocols: [HTTP]
    action: allow
limits:
  holdPackets: 2
outcomes:
  onUndetermined: allow
)");
  from_guest(guest_tcp(49152, 2575, 1, 0, kSyn));
  from_uplink(server_tcp(2575, 49152, 500, 2, kSyn | kAck));
  from_guest(guest_tcp(49152, 2575, 2, 501, kAck));
  ASSERT_EQ(sink_.to(Side::Uplink).size(), 2u) << "handshake passes while pending";
  // Bytes neither nDPI nor an inspector of netmon's can name.
  const Bytes m1 = guest_tcp(49152, 2575, 2, 501, kAck | kPsh, "CABINET order 1");
  const Bytes m2 = guest_tcp(49152, 2575, 19, 501, kAck | kPsh, "second segment...");
  const Bytes m3 = guest_tcp(49152, 2575, 36, 501, kAck | kPsh, "third segment....");
  from_guest(m1);
  from_guest(m2);
  EXPECT_EQ(sink_.to(Side::Uplink).size(), 2u) << "payload held";
  from_guest(m3);  // the third would exceed holdPackets: 2
  const auto up = sink_.to(Side::Uplink);
  ASSERT_EQ(up.size(), 5u);
  EXPECT_EQ(up[2], m1);
  EXPECT_EQ(up[3], m2);
  EXPECT_EQ(up[4], m3);
  EXPECT_EQ(metric("vitrine_netmon_limit_reached_total", {{"limit", "holdPackets"}}), 1);
  EXPECT_EQ(metric("vitrine_netmon_rule_hits_total", {{"rule", "onUndetermined"}, {"action", "allow"}}), 1);
}

TEST_F(EngineTest, DenyAfterHandshakeResetsBothEndsAtTheRightSequence) {
  start(R"(rules:
  - name: web-only
    direction: egress
    transport: tcp
    ports: [2575]
    protocols: [HTTP]
    action: allow
limits:
  holdPackets: 1
)");
  from_guest(guest_tcp(49152, 2575, 1000, 0, kSyn));
  from_uplink(server_tcp(2575, 49152, 5000, 1001, kSyn | kAck));
  from_guest(guest_tcp(49152, 2575, 1001, 5001, kAck));
  from_guest(guest_tcp(49152, 2575, 1001, 5001, kAck | kPsh, "not http at all"));
  from_guest(guest_tcp(49152, 2575, 1016, 5001, kAck | kPsh, "still not http"));
  const auto up = sink_.to(Side::Uplink);
  ASSERT_EQ(up.size(), 3u) << "SYN, ACK, then the reset; no payload";
  const Decoded to_server = decoded(up[2]);
  EXPECT_EQ(to_server.tcp_flags & kRst, kRst);
  EXPECT_EQ(to_server.src_ip, kGuestIp);
  EXPECT_EQ(to_server.tcp_seq, 1001u) << "what the server expects next: held bytes never reached it";
  const auto down = sink_.to(Side::Guest);
  ASSERT_EQ(down.size(), 2u) << "SYN-ACK, then the reset";
  const Decoded to_guest = decoded(down[1]);
  EXPECT_EQ(to_guest.tcp_flags & kRst, kRst);
  EXPECT_EQ(to_guest.tcp_seq, 5001u);
  EXPECT_EQ(metric("vitrine_netmon_tcp_resets_sent_total"), 2);
}

TEST_F(EngineTest, AlertRulePassesAndReports) {
  start(kRules);
  from_guest(guest_tcp(49152, 23, 1, 0, kSyn));
  EXPECT_EQ(sink_.to(Side::Uplink).size(), 1u);
  ASSERT_EQ(events_.count(Event::Kind::FlowAlert), 1u);
  EXPECT_EQ(events_.events[0].rule, "watch-telnet");
}

TEST_F(EngineTest, MonitorModeLetsThroughAndRecordsWhatEnforceWouldDeny) {
  const std::string rules = R"(rules:
  - name: no-smb
    direction: egress
    transport: tcp
    ports: [445]
    action: deny
    mode: monitor
  - name: no-rdp
    direction: egress
    transport: tcp
    ports: [3389]
    action: deny
)";
  start(rules);
  from_guest(guest_tcp(49152, 445, 1000, 0, kSyn));
  from_uplink(server_tcp(445, 49152, 5000, 1001, kSyn | kAck));
  from_guest(guest_tcp(49152, 445, 1001, 5001, kAck | kPsh, "smb"));
  EXPECT_EQ(sink_.to(Side::Uplink).size(), 2u) << "monitor: the flow passes";
  EXPECT_EQ(sink_.to(Side::Guest).size(), 1u) << "and no reset is sent";
  ASSERT_EQ(events_.count(Event::Kind::FlowWouldDeny), 1u) << "recorded once per flow";
  EXPECT_EQ(events_.count(Event::Kind::FlowDenied), 0u);
  EXPECT_EQ(events_.events[0].rule, "no-smb");
  EXPECT_EQ(metric("vitrine_netmon_would_deny_flows_total", {{"rule", "no-smb"}}), 1);
  EXPECT_EQ(metric("vitrine_netmon_packets_total", {{"direction", "egress"}, {"verdict", "deny"}}), 0);
  // The same traffic under the enforced rule is denied.
  from_guest(guest_tcp(49153, 3389, 1000, 0, kSyn));
  EXPECT_EQ(sink_.to(Side::Uplink).size(), 2u);
  EXPECT_EQ(events_.count(Event::Kind::FlowDenied), 1u);
  EXPECT_EQ(metric("vitrine_netmon_would_deny_flows_total", {{"rule", "no-rdp"}}), -1);
}

TEST_F(EngineTest, AReloadedPolicyCutsTheAllowedFlowsItDenies) {
  start(kRules);
  from_guest(guest_tcp(49152, 8080, 1, 0, kSyn));
  from_uplink(server_tcp(8080, 49152, 100, 2, kSyn | kAck));
  from_guest(guest_tcp(49152, 8080, 2, 101, kAck | kPsh, "hello"));
  from_guest(guest_tcp(49153, 23, 1, 0, kSyn));  // alert: allowed, and still allowed after
  from_uplink(server_tcp(23, 49153, 500, 2, kSyn | kAck));
  ASSERT_EQ(sink_.to(Side::Uplink).size(), 3u);
  const size_t resets_before = sink_.sent.size();
  auto next = std::make_shared<const policy::Policy>(policy::load_policy_text(
      std::string(kPolicyHeader) + "rules:\n  - {name: no-web, direction: egress, transport: tcp, ports: [8080], action: deny}\n"
                                   "  - {name: telnet, direction: egress, transport: tcp, ports: [23], action: alert}\n",
      "next.yaml", classifier_));
  const auto result = engine_->replace_policy(next, now_us_);
  EXPECT_EQ(result.rejudged, 2u);
  EXPECT_EQ(result.cut, 1u);
  EXPECT_EQ(sink_.sent.size(), resets_before + 2) << "a reset to each end of the cut flow";
  ASSERT_EQ(events_.count(Event::Kind::FlowDenied), 1u);
  EXPECT_EQ(events_.events.back().rule, "no-web");
  EXPECT_EQ(events_.events.back().reason, "policy reload");
  const size_t uplink_before = sink_.to(Side::Uplink).size();
  from_guest(guest_tcp(49152, 8080, 7, 101, kAck | kPsh, "more"));
  EXPECT_EQ(sink_.to(Side::Uplink).size(), uplink_before) << "nothing more of it is forwarded";
  from_guest(guest_tcp(49153, 23, 2, 501, kAck));
  EXPECT_EQ(sink_.to(Side::Uplink).size(), uplink_before + 1) << "the flow it still allows goes on";
}

// A reload that cut the cabinet's syslog, undone: its datagrams pass again at once, not after
// the cut's ten minutes. (A cut TCP flow was reset at both ends and starts with a handshake.)
TEST_F(EngineTest, AReloadUndoneLetsTheDatagramsItCutPassAgain) {
  const std::string allow = "rules:\n  - {name: syslog, direction: egress, transport: udp, ports: [514], action: allow}\n";
  const std::string deny = "rules:\n  - {name: no-syslog, direction: egress, transport: udp, ports: [514], action: deny}\n";
  auto policy = [&](const std::string& rules) {
    return std::make_shared<const policy::Policy>(
        policy::load_policy_text(std::string(kPolicyHeader) + rules, "p.yaml", classifier_));
  };
  start(allow);
  from_guest(guest_udp(40000, 514, Bytes{'a'}));
  ASSERT_EQ(sink_.to(Side::Uplink).size(), 1u);
  EXPECT_EQ(engine_->replace_policy(policy(deny), now_us_).cut, 1u);
  from_guest(guest_udp(40000, 514, Bytes{'b'}));
  EXPECT_EQ(sink_.to(Side::Uplink).size(), 1u) << "cut by the reload";
  engine_->replace_policy(policy(allow), now_us_);
  from_guest(guest_udp(40000, 514, Bytes{'c'}));
  EXPECT_EQ(sink_.to(Side::Uplink).size(), 2u) << "judged afresh under the policy in force again";
}

TEST_F(EngineTest, Layer2PoliceDropsSpoofsFromTheGuest) {
  start(kRules);
  const MacAddr other_mac = mac("52:54:00:99:99:99");
  from_guest(ethernet(other_mac, kGatewayMac, 0x0800, ipv4(kGuestIp, kServerIp, 6, tcp(1, 8080, 1, 0, kSyn))));
  from_guest(ethernet(kGuestMac, kGatewayMac, 0x0800, ipv4(ip("10.77.0.3"), kServerIp, 6, tcp(1, 8080, 1, 0, kSyn))));
  from_guest(ethernet(kGuestMac, mac("ff:ff:ff:ff:ff:ff"), 0x0806, arp(2, kGuestMac, kServerIp, kServerIp)));
  from_guest(ethernet(kGuestMac, kGatewayMac, 0x88cc, Bytes(40, 0)));
  from_guest(guest_udp(67, 68, Bytes(300, 0)));
  EXPECT_TRUE(sink_.to(Side::Uplink).empty());
  EXPECT_EQ(events_.count(Event::Kind::Layer2Violation), 5u);
  for (const char* reason : {"spoofed_mac", "spoofed_ip", "arp_spoof", "non_ip", "dhcp_server"})
    EXPECT_EQ(metric("vitrine_netmon_layer2_dropped_packets_total", {{"reason", reason}}), 1) << reason;
  // The guest's own ARP passes.
  from_guest(ethernet(kGuestMac, mac("ff:ff:ff:ff:ff:ff"), 0x0806, arp(1, kGuestMac, kGuestIp, kServerIp)));
  EXPECT_EQ(sink_.to(Side::Uplink).size(), 1u);
}

TEST_F(EngineTest, FramesForOtherHostsStayOnTheLan) {
  start(kRules);
  from_uplink(ethernet(kGatewayMac, mac("52:54:00:00:00:09"), 0x0800,
                       ipv4(kServerIp, ip("10.77.0.9"), 6, tcp(80, 1, 1, 0, kSyn))));
  from_uplink(ethernet(kGatewayMac, mac("ff:ff:ff:ff:ff:ff"), 0x0806, arp(1, kGatewayMac, kServerIp, ip("10.77.0.9"))));
  EXPECT_TRUE(sink_.to(Side::Guest).empty());
  EXPECT_EQ(metric("vitrine_netmon_layer2_dropped_packets_total", {{"reason", "not_for_guest"}}), 2);
  EXPECT_TRUE(events_.events.empty()) << "not the guest's doing: counted, not reported";
  from_uplink(ethernet(kGatewayMac, mac("ff:ff:ff:ff:ff:ff"), 0x0806, arp(1, kGatewayMac, kServerIp, kGuestIp)));
  EXPECT_EQ(sink_.to(Side::Guest).size(), 1u);
}

TEST_F(EngineTest, DhcpClientOnlyWhenThePolicySaysSo) {
  start(kRules);
  const Bytes discover = ethernet(kGuestMac, mac("ff:ff:ff:ff:ff:ff"), 0x0800,
                                  ipv4(ip("0.0.0.0"), ip("255.255.255.255"), 17,
                                       udp(68, 67, dhcp_message(1, 1, kGuestMac))));
  from_guest(discover);
  EXPECT_TRUE(sink_.to(Side::Uplink).empty());
  start(std::string(kRules) + "layer2:\n  dhcpClient: true\n");
  from_guest(discover);
  EXPECT_EQ(sink_.to(Side::Uplink).size(), 1u);
}

TEST_F(EngineTest, FullTableDeniesNewFlowsByDefault) {
  start(std::string(kRules) + "limits:\n  maxFlows: 16\n");
  for (uint16_t p = 0; p < 16; ++p) connect(static_cast<uint16_t>(50000 + p), 8080);
  EXPECT_EQ(engine_->flows().size(), 16u);
  const size_t before = sink_.to(Side::Uplink).size();
  from_guest(guest_tcp(50016, 8080, 1, 0, kSyn));
  EXPECT_EQ(sink_.to(Side::Uplink).size(), before);
  EXPECT_EQ(engine_->flows().size(), 16u);
  EXPECT_EQ(metric("vitrine_netmon_limit_reached_total", {{"limit", "maxFlows"}}), 1);
  EXPECT_EQ(events_.count(Event::Kind::LimitReached), 1u);
  EXPECT_EQ(events_.events[0].limit_value, 16u);
}

TEST_F(EngineTest, FullTableCanEvictTheOldestInstead) {
  start(std::string(kRules) + "limits:\n  maxFlows: 16\noutcomes:\n  onFlowTableFull: evictOldest\n");
  for (uint16_t p = 0; p < 17; ++p) {
    connect(static_cast<uint16_t>(50000 + p), 8080);
    now_us_ += 1000;
  }
  EXPECT_NE(engine_->flows().find(FlowKey::of(kGuestIp, 50016, kServerIp, 8080, IPPROTO_TCP)), nullptr);
  EXPECT_EQ(engine_->flows().find(FlowKey::of(kGuestIp, 50000, kServerIp, 8080, IPPROTO_TCP)), nullptr);
  EXPECT_EQ(engine_->flows().size(), 16u);
  EXPECT_EQ(metric("vitrine_netmon_flow_table_evictions_total", {{"reason", "table_full"}}), 1);
}

TEST_F(EngineTest, IdleFlowsExpireAndAreCounted) {
  start(kRules);
  from_guest(guest_udp(40000, 53, dns_query(1, "a.hospital.local")));
  EXPECT_EQ(engine_->flows().size(), 1u);
  engine_->on_tick(now_us_ + uint64_t{policy_->limits.udp_idle_timeout_s} * 1'000'000);
  EXPECT_EQ(engine_->flows().size(), 0u);
  EXPECT_EQ(metric("vitrine_netmon_flow_table_evictions_total", {{"reason", "idle_timeout"}}), 1);
  EXPECT_EQ(metric("vitrine_netmon_flows_total", {{"protocol", "DNS"}, {"verdict", "allow"}}), 1);
}

TEST_F(EngineTest, FragmentsAndMalformedFramesFollowTheirOutcomes) {
  start(kRules);
  from_guest(ethernet(kGuestMac, kGatewayMac, 0x0800, ipv4(kGuestIp, kServerIp, 17, udp(1, 53, {1}), 0x2000)));
  Bytes bad = guest_tcp(1, 8080, 1, 0, kSyn);
  bad[14 + 20 + 12] = 0x10;  // TCP data offset 1 word
  from_guest(bad);
  EXPECT_TRUE(sink_.to(Side::Uplink).empty());
  EXPECT_EQ(metric("vitrine_netmon_fragments_total", {{"verdict", "deny"}}), 1);
  EXPECT_EQ(metric("vitrine_netmon_malformed_packets_total", {{"reason", "bad_tcp_header"}}), 1);
  EXPECT_EQ(metric("vitrine_netmon_packets_total", {{"direction", "egress"}, {"verdict", "deny"}}), 2);
}

TEST_F(EngineTest, EventsAreRateLimitedAndTheRestCounted) {
  start(kRules);
  const MacAddr other_mac = mac("52:54:00:99:99:99");
  const Bytes spoof = ethernet(other_mac, kGatewayMac, 0x0800, ipv4(kGuestIp, kServerIp, 6, tcp(1, 8080, 1, 0, kSyn)));
  for (uint32_t i = 0; i < kMaxEventsPerSecond + 50; ++i) from_guest(spoof);
  EXPECT_EQ(events_.events.size(), kMaxEventsPerSecond);
  EXPECT_EQ(metric("vitrine_netmon_events_suppressed_total"), 50);
  now_us_ += 1'000'000;
  from_guest(spoof);
  EXPECT_EQ(events_.events.size(), kMaxEventsPerSecond + 1);
}

TEST_F(EngineTest, EveryFrameIsTimed) {
  start(kRules);
  from_guest(guest_tcp(1, 8080, 1, 0, kSyn));
  from_guest(Bytes(3, 0));
  EXPECT_EQ(metric("vitrine_netmon_packet_processing_seconds"), 2);
}

TEST_F(EngineTest, NdpiStateIsAllocatedPastTheSynAndFreedWhenDone) {
  start(kRules);
  const FlowKey key = FlowKey::of(kGuestIp, 49152, kServerIp, 8080, IPPROTO_TCP);
  from_guest(guest_tcp(49152, 8080, 1, 0, kSyn));
  const Flow* flow = engine_->flows().find(key);
  ASSERT_NE(flow, nullptr);
  EXPECT_EQ(flow->classification.state, nullptr) << "a bare SYN allocates no nDPI state";
  from_uplink(server_tcp(8080, 49152, 100, 2, kSyn | kAck));
  EXPECT_NE(flow->classification.state, nullptr);
  from_guest(guest_tcp(49152, 8080, 2, 101, kAck));
  from_guest(guest_tcp(49152, 8080, 2, 101, kAck | kPsh,
                       "GET /formulary HTTP/1.1\r\nHost: pharmacy\r\nUser-Agent: cabinet\r\n\r\n"));
  from_uplink(server_tcp(8080, 49152, 101, 60, kAck | kPsh,
                         "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"));
  EXPECT_TRUE(flow->classification.by_inspection);
  EXPECT_EQ(classifier_.app_name(flow->classification.protocol), "HTTP");
  EXPECT_TRUE(flow->classification.completed);
  EXPECT_EQ(flow->classification.state, nullptr) << "freed once nDPI has nothing more to learn";
}

TEST_F(EngineTest, ASynOnAClosedFlowIsJudgedAfresh) {
  start(kRules);
  from_guest(guest_tcp(49152, 8080, 1, 0, kSyn));
  from_guest(guest_tcp(49152, 8080, 2, 0, kRst));
  const size_t before = sink_.to(Side::Uplink).size();
  from_guest(guest_tcp(49152, 8080, 900, 0, kSyn));
  EXPECT_EQ(sink_.to(Side::Uplink).size(), before + 1);
  EXPECT_EQ(metric("vitrine_netmon_rule_hits_total", {{"rule", "web"}}), 2) << "two flows, two verdicts";
}

TEST_F(EngineTest, AFlowTheClassifierGivesUpOnFollowsItsOwnOutcome) {
  // Garbage to port 53 under a DNS-only rule: nDPI gives up after 3 packets.
  start(std::string(kRules) + "limits:\n  dpiMaxPacketsUdp: 3\noutcomes:\n  onUndetermined: deny\n  onClassifierGaveUp: alert\n");
  for (int i = 0; i < 3; ++i) from_guest(guest_udp(40000, 53, Bytes(40, static_cast<uint8_t>(0x41 + i))));
  ASSERT_EQ(events_.count(Event::Kind::FlowAlert), 1u) << "alert: passed and recorded";
  EXPECT_EQ(events_.count(Event::Kind::FlowDenied), 0u);
  bool reported = false;
  for (const auto& e : events_.events)
    reported |= e.limit == "classifierGaveUp" && e.reason == "verdict still pending: onClassifierGaveUp is alert";
  EXPECT_TRUE(reported);
  EXPECT_EQ(metric("vitrine_netmon_rule_hits_total", {{"rule", "onClassifierGaveUp"}}), 1);
}

TEST_F(EngineTest, UnnameableFlowsReportTheDpiBudget) {
  start(std::string(kRules) + "limits:\n  dpiMaxPacketsUdp: 3\n");
  for (int i = 0; i < 3; ++i) from_guest(guest_udp(40000, 53, Bytes(40, static_cast<uint8_t>(0x41 + i))));
  EXPECT_EQ(metric("vitrine_netmon_limit_reached_total", {{"limit", "dpiMaxPacketsUdp"}}), 1);
  bool reported = false;
  for (const auto& e : events_.events) reported |= e.limit == "dpiMaxPacketsUdp" && e.value == 3;
  EXPECT_TRUE(reported);
}

TEST_F(EngineTest, EventsThatCannotBeWrittenAreCounted) {
  start(kRules);
  events_.failing = true;
  from_guest(guest_tcp(49152, 445, 1, 0, kSyn));
  EXPECT_EQ(metric("vitrine_netmon_event_write_errors_total"), 1);
}

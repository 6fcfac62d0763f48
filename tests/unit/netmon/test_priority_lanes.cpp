// The priority lanes' filters, compiled by libpcap as the kernel gets them and run on frames:
// the cabinet's own traffic is in the lane, a flood with forged sources is not.
#include <gtest/gtest.h>
#include <netinet/in.h>

#include "fake_catalog.h"
#include "frames.h"
#include "vitrine/netmon/bpf_program.h"
#include "vitrine/netmon/packet_io.h"
#include "vitrine/netmon/priority_lanes.h"
#include "vitrine/policy/load.h"

using namespace vitrine;
using namespace vitrine::netmon;
using namespace vitrine::testing;

namespace {

const MacAddr kGuest = mac("52:54:00:77:00:02"), kGateway = mac("52:54:00:77:00:01");
const IpAddr kGuestIp = ip("10.77.0.2"), kPharmacy = ip("10.77.0.1"), kVendor = ip("10.99.0.7");

policy::Policy lanes_policy() {
  FakeCatalog catalog;
  return policy::load_policy_text(R"(apiVersion: vitrine/v1
name: lanes
guest: {mac: "52:54:00:77:00:02", ipv4: 10.77.0.2}
defaultAction: deny
layer2: {dhcpClient: true}
rules:
  - {name: hl7, direction: egress, peers: [10.77.0.1], transport: tcp, ports: [2575], action: allow}
  - {name: web, direction: egress, transport: tcp, ports: [8080], action: allow}
  - {name: support, direction: ingress, peers: [10.99.0.0/24], transport: tcp, ports: [3389], action: alert}
  - {name: no-smb, direction: egress, peers: [10.77.0.1], transport: tcp, ports: [445], action: deny}
)", "lanes.yaml", catalog);
}

bool matches(const std::string& expression, const Bytes& frame) {
  const BpfProgram program(expression, 2048);
  pcap_pkthdr h{};
  h.caplen = h.len = static_cast<bpf_u_int32>(frame.size());
  return pcap_offline_filter(&program.get(), &h, frame.data()) != 0;
}

Bytes to_guest(const IpAddr& from, uint16_t sport, uint16_t dport, uint8_t flags) {
  return ethernet(kGateway, kGuest, 0x0800, ipv4(from, kGuestIp, 6, tcp(sport, dport, 1, 1, flags)));
}
Bytes from_guest(const IpAddr& to, uint16_t sport, uint16_t dport) {
  return ethernet(kGuest, kGateway, 0x0800, ipv4(kGuestIp, to, 6, tcp(sport, dport, 1, 1, 0x10)));
}

std::string services(const policy::Policy& p, Side side) { return services_filter_ethernet(lane_filters(p, side, {})); }
std::string flows(Side side, const std::vector<LaneFlow>& f) { return lane_filters(policy::Policy{}, side, f).flows; }

// The lane a fanout group's program chooses for a received frame (which it sees from its IP
// header on, as the kernel shows it).
uint32_t lane_of(const BpfCode& code, const Bytes& frame) {
  const Bytes ip(frame.begin() + 14, frame.end());
  return bpf_filter(code.data(), ip.data(), static_cast<u_int>(ip.size()), static_cast<u_int>(ip.size()));
}

}  // namespace

TEST(PriorityLanes, TheRulesPeersAndPortsAreInTheServicesLaneFromTheFirstPacket) {
  const auto p = lanes_policy();
  const std::string uplink = services(p, Side::Uplink);
  const std::string guest = services(p, Side::Guest);
  EXPECT_TRUE(matches(uplink, to_guest(kPharmacy, 2575, 49152, 0x12))) << "the pharmacy's SYN-ACK";
  EXPECT_TRUE(matches(guest, from_guest(kPharmacy, 49152, 2575))) << "the guest's order";
  EXPECT_TRUE(matches(uplink, to_guest(kVendor, 50000, 3389, 0x02))) << "the vendor's support session";
  EXPECT_TRUE(matches(guest, from_guest(kVendor, 3389, 50000)));
  EXPECT_FALSE(matches(uplink, to_guest(kPharmacy, 445, 49152, 0x12))) << "a deny rule gives no lane";
  EXPECT_FALSE(matches(uplink, to_guest(kPharmacy, 2576, 49152, 0x12)));
  EXPECT_FALSE(matches(uplink, to_guest(ip("203.0.113.9"), 1234, 3389, 0x02))) << "a forged source";
  EXPECT_FALSE(matches(uplink, to_guest(ip("198.51.100.4"), 8080, 49153, 0x12))) << "a rule without peers: by flow only";
}

TEST(PriorityLanes, AnAnsweredFlowIsInTheFlowsLaneByItsExactEndpoints) {
  const IpAddr web = ip("198.51.100.4");
  const std::string uplink = flows(Side::Uplink, {{IPPROTO_TCP, 49153, web, 8080}});
  const std::string guest = flows(Side::Guest, {{IPPROTO_TCP, 49153, web, 8080}});
  EXPECT_TRUE(matches(uplink, to_guest(web, 8080, 49153, 0x10)));
  EXPECT_TRUE(matches(guest, from_guest(web, 49153, 8080)));
  EXPECT_FALSE(matches(uplink, to_guest(web, 8080, 49154, 0x10))) << "another guest port";
  EXPECT_FALSE(matches(uplink, to_guest(ip("198.51.100.5"), 8080, 49153, 0x10))) << "another host";
}

TEST(PriorityLanes, ArpAndDhcpForTheGuestAreInTheServicesLane) {
  const auto p = lanes_policy();
  const std::string uplink = services(p, Side::Uplink);
  EXPECT_TRUE(matches(uplink, ethernet(kGateway, kGuest, 0x0806, arp(2, kGateway, kPharmacy, kGuestIp))));
  EXPECT_FALSE(matches(uplink, ethernet(kGateway, mac("ff:ff:ff:ff:ff:ff"), 0x0806, arp(1, kGateway, kPharmacy, ip("10.77.0.9")))));
  EXPECT_TRUE(matches(uplink, ethernet(kGateway, kGuest, 0x0800,
                                       ipv4(kPharmacy, ip("255.255.255.255"), 17, udp(67, 68, dhcp_message(2, 2, kGuest))))));
}

TEST(PriorityLanes, TheMostFlowsALaneTakesCompileIntoOneSocketFilter) {
  const auto p = lanes_policy();
  std::vector<LaneFlow> flows;
  for (uint16_t i = 0; i < kMaxLaneFlows + 20; ++i) flows.push_back({IPPROTO_TCP, static_cast<uint16_t>(40000 + i), ip("198.51.100.4"), 8080});
  for (Side side : {Side::Guest, Side::Uplink}) {
    // The services lane as a socket filter: its own terms, and not the flows lane's.
    const LaneFilters f = lane_filters(p, side, flows);
    const BpfProgram program("(" + services_filter_ethernet(f) + ") and not (" + f.flows + ")", 2048);
    EXPECT_LE(program.get().bf_len, 4096u) << "BPF_MAXINSNS";
    const BpfProgram bulk("not ((" + f.flows + ") or (" + services_filter_ethernet(f) + "))", 2048);
    EXPECT_LE(bulk.get().bf_len, 4096u);
    // And as one fanout program choosing among the three.
    const BpfCode choice = lane_choice({{BpfProgram(f.flows, 2048, DLT_RAW).code(), 0}, {arp_for(f.arp_ip, f.arp_offset), 1},
                                        {BpfProgram(f.services, 2048, DLT_RAW).code(), 1}}, 2);
    EXPECT_LE(choice.size(), 4096u);
  }
}

TEST(PriorityLanes, OneFanoutProgramChoosesEachFramesLane) {
  const auto p = lanes_policy();
  const IpAddr web = ip("198.51.100.4");
  const LaneFilters f = lane_filters(p, Side::Uplink, {{IPPROTO_TCP, 49153, web, 8080}});
  const BpfCode choice = lane_choice({{BpfProgram(f.flows, 2048, DLT_RAW).code(), 0},
                                      {BpfProgram(f.services, 2048, DLT_RAW).code(), 1}}, 2);
  EXPECT_EQ(lane_of(choice, to_guest(web, 8080, 49153, 0x10)), 0u) << "an open session";
  EXPECT_EQ(lane_of(choice, to_guest(kPharmacy, 2575, 49152, 0x12)), 1u) << "a new connection to a named service";
  EXPECT_EQ(lane_of(choice, to_guest(ip("203.0.113.9"), 1234, 3389, 0x02)), 2u) << "a forged source: bulk";
  EXPECT_EQ(lane_of(choice, to_guest(web, 8080, 49154, 0x10)), 2u);
}

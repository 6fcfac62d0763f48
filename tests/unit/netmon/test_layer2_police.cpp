// The layer-2 police's DHCP snooping: only the guest's own DHCP exchange takes the shortcut
// past the flow rules; anything else on DHCP's ports is judged like any UDP.
#include <gtest/gtest.h>

#include "frames.h"
#include "vitrine/netmon/flow.h"
#include "vitrine/netmon/layer2_police.h"
#include "vitrine/policy/load.h"

#include "fake_catalog.h"

using namespace vitrine;
using namespace vitrine::netmon;
using namespace vitrine::testing;

namespace {

const MacAddr kGuest = mac("52:54:00:77:00:02"), kServerMac = mac("52:54:00:77:00:01");
const MacAddr kOther = mac("52:54:00:55:55:55"), kBroadcast = mac("ff:ff:ff:ff:ff:ff");
const IpAddr kNone = ip("0.0.0.0"), kAll = ip("255.255.255.255"), kGuestIp = ip("10.77.0.2");
const IpAddr kDhcpServer = ip("10.77.0.1"), kElsewhere = ip("192.0.2.9");

policy::Policy policy_with(const std::string& layer2) {
  FakeCatalog catalog;
  return policy::load_policy_text("apiVersion: vitrine/v1\nname: l2\nguest: {mac: \"52:54:00:77:00:02\", ipv4: 10.77.0.2}\n"
                                  "defaultAction: deny\nlayer2: " + layer2 + "\n",
                                  "l2.yaml", catalog);
}

L2Decision judge(const policy::Policy& p, Side from, const Bytes& frame) {
  Decoded d;
  EXPECT_EQ(decode_frame(LinkType::Ethernet, frame.data(), frame.size(), frame.size(), d), Malformed::None);
  return police_layer2(p, from, d);
}

Bytes from_guest(const IpAddr& src, const IpAddr& dst, const Bytes& message, uint16_t sport = 68, uint16_t dport = 67) {
  return ethernet(kGuest, kBroadcast, 0x0800, ipv4(src, dst, 17, udp(sport, dport, message)));
}
Bytes to_guest(const IpAddr& src, const IpAddr& dst, const Bytes& message, const MacAddr& to = kBroadcast) {
  return ethernet(kServerMac, to, 0x0800, ipv4(src, dst, 17, udp(67, 68, message)));
}

}  // namespace

TEST(DhcpSnooping, TheGuestsOwnExchangePasses) {
  const auto p = policy_with("{dhcpClient: true, dhcpServers: [10.77.0.1]}");
  const L2Decision discover = judge(p, Side::Guest, from_guest(kNone, kAll, dhcp_message(1, 1, kGuest)));
  EXPECT_EQ(discover.result, L2Result::Forward);
  EXPECT_EQ(discover.dhcp, DhcpOutcome::Passed);
  EXPECT_EQ(judge(p, Side::Uplink, to_guest(kDhcpServer, kAll, dhcp_message(2, 2, kGuest))).result, L2Result::Forward);
  EXPECT_EQ(judge(p, Side::Guest, from_guest(kGuestIp, kDhcpServer, dhcp_message(1, 3, kGuest))).result, L2Result::Forward)
      << "a renewal sent to its server";
  EXPECT_EQ(judge(p, Side::Uplink, to_guest(kDhcpServer, kGuestIp, dhcp_message(2, 5, kGuest), kGuest)).result,
            L2Result::Forward);
}

TEST(DhcpSnooping, AnythingElseOnDhcpsPortsIsJudgedByTheRules) {
  const auto p = policy_with("{dhcpClient: true, dhcpServers: [10.77.0.1]}");
  struct Case {
    const char* what;
    Side from;
    Bytes frame;
    DhcpOutcome outcome;
    L2Result result;
  };
  const Bytes garbage(300, 0x41);
  Bytes no_cookie = dhcp_message(1, 1, kGuest);
  no_cookie[236] = 0;
  Bytes relayed = dhcp_message(1, 1, kGuest);
  relayed[24] = 10;  // giaddr: the guest pretending to be a relay
  Bytes overrun = dhcp_message(1, 1, kGuest);
  overrun[overrun.size() - 1] = 61;  // the end option becomes an option that runs past the datagram
  const Case cases[] = {
      {"a payload that is not DHCP, out to anyone", Side::Guest, from_guest(kGuestIp, kElsewhere, garbage),
       DhcpOutcome::NotDhcp, L2Result::Inspect},
      {"without the magic cookie", Side::Guest, from_guest(kNone, kAll, no_cookie), DhcpOutcome::NotDhcp, L2Result::Drop},
      {"a relay's request", Side::Guest, from_guest(kNone, kAll, relayed), DhcpOutcome::NotDhcp, L2Result::Drop},
      {"options that run past the end", Side::Guest, from_guest(kNone, kAll, overrun), DhcpOutcome::NotDhcp, L2Result::Drop},
      {"a server's message from the guest", Side::Guest, from_guest(kNone, kAll, dhcp_message(1, 2, kGuest)),
       DhcpOutcome::NotDhcp, L2Result::Drop},
      {"for another client", Side::Guest, from_guest(kNone, kAll, dhcp_message(1, 1, kOther)), DhcpOutcome::WrongClient,
       L2Result::Drop},
      {"a request unicast to a host that is no DHCP server", Side::Guest,
       from_guest(kGuestIp, kElsewhere, dhcp_message(1, 3, kGuest)), DhcpOutcome::WrongDestination, L2Result::Inspect},
      {"a reply from a host that is no DHCP server", Side::Uplink, to_guest(kElsewhere, kAll, dhcp_message(2, 2, kGuest)),
       DhcpOutcome::WrongServer, L2Result::Inspect},
      {"a reply for another client", Side::Uplink, to_guest(kDhcpServer, kAll, dhcp_message(2, 5, kOther)),
       DhcpOutcome::WrongClient, L2Result::Inspect},
      {"a payload that is not DHCP, in from anyone", Side::Uplink, to_guest(kElsewhere, kGuestIp, garbage, kGuest),
       DhcpOutcome::NotDhcp, L2Result::Inspect},
  };
  for (const Case& c : cases) {
    const L2Decision d = judge(p, c.from, c.frame);
    EXPECT_EQ(d.dhcp, c.outcome) << c.what;
    // From 0.0.0.0, what is not DHCP is a spoofed source; anything else goes to the rules.
    EXPECT_EQ(d.result, c.result) << c.what;
  }
}

TEST(DhcpSnooping, AClientMessageCarriesNothingADhcpAgentDoesNotRead) {
  const auto p = policy_with("{dhcpClient: true, dhcpServers: [10.77.0.1]}");
  Bytes after_end = dhcp_message(1, 1, kGuest);
  for (char c : std::string("exfiltrated")) after_end.push_back(static_cast<uint8_t>(c));
  Bytes in_sname = dhcp_message(1, 1, kGuest);
  in_sname[44] = 'x';
  Bytes in_file = dhcp_message(1, 1, kGuest);
  in_file[235] = 'x';
  Bytes overload = dhcp_message(1, 1, kGuest);
  overload.pop_back();  // End
  for (uint8_t b : {52, 1, 3, 255}) overload.push_back(b);  // "options in sname and file too"
  Bytes in_chaddr = dhcp_message(1, 1, kGuest);
  in_chaddr[40] = 'x';  // past the 6-byte address
  Bytes in_yiaddr = dhcp_message(1, 1, kGuest);
  in_yiaddr[17] = 1;
  Bytes padded = dhcp_message(1, 1, kGuest);
  padded.insert(padded.end(), 60, 0);  // padding after End, as a minimum-size datagram has
  EXPECT_EQ(judge(p, Side::Guest, from_guest(kNone, kAll, padded)).dhcp, DhcpOutcome::Passed);
  for (const Bytes* m : {&after_end, &in_sname, &in_file, &overload, &in_chaddr, &in_yiaddr})
    EXPECT_EQ(judge(p, Side::Guest, from_guest(kNone, kAll, *m)).result, L2Result::Drop) << m - &after_end;
  Bytes reply_after_end = dhcp_message(2, 2, kGuest);
  reply_after_end.push_back('x');
  EXPECT_EQ(judge(p, Side::Uplink, to_guest(kDhcpServer, kAll, reply_after_end)).dhcp, DhcpOutcome::NotDhcp);
}

TEST(DhcpSnooping, OnlyAnUntaggedDatagramThatIsTheWholeIpPayloadIsDhcp) {
  const auto p = policy_with("{dhcpClient: true, dhcpServers: [10.77.0.1]}");
  const Bytes discover = dhcp_message(1, 1, kGuest);
  Bytes tagged = from_guest(kNone, kAll, discover);
  tagged.insert(tagged.begin() + 12, {0x81, 0x00, 0x00, 20});  // 802.1Q, VLAN 20
  EXPECT_EQ(judge(p, Side::Guest, tagged).dhcp, DhcpOutcome::NotDhcp);
  // Bytes after the datagram inside the IP packet: the IP length counts them, UDP's does not.
  Bytes datagram = udp(68, 67, discover);
  for (char c : std::string("exfiltrated")) datagram.push_back(static_cast<uint8_t>(c));
  const Bytes trailing = ethernet(kGuest, kBroadcast, 0x0800, ipv4(kNone, kAll, 17, datagram));
  EXPECT_EQ(judge(p, Side::Guest, trailing).result, L2Result::Drop);
}

TEST(DhcpSnooping, ABroadcastIsToTheWholeLinkAndNoMulticastGroupIsAServer) {
  const auto p = policy_with("{dhcpClient: true, dhcpServers: [10.77.0.1]}");
  const Bytes discover = dhcp_message(1, 1, kGuest);
  // 255.255.255.255 in a frame to one host: a DHCP server never sees it as a broadcast.
  const Bytes unicast_frame = ethernet(kGuest, kOther, 0x0800, ipv4(kNone, kAll, 17, udp(68, 67, discover)));
  EXPECT_EQ(judge(p, Side::Guest, unicast_frame).dhcp, DhcpOutcome::WrongDestination);
  EXPECT_EQ(judge(p, Side::Guest, from_guest(kNone, ip("239.1.2.3"), discover)).dhcp, DhcpOutcome::WrongDestination);
  EXPECT_EQ(judge(p, Side::Guest, from_guest(kNone, kAll, discover)).dhcp, DhcpOutcome::Passed);
}

TEST(DhcpSnooping, WithoutServersListedRepliesComeFromAnyButRequestsOnlyBroadcast) {
  const auto p = policy_with("{dhcpClient: true}");
  EXPECT_EQ(judge(p, Side::Uplink, to_guest(kElsewhere, kAll, dhcp_message(2, 2, kGuest))).dhcp, DhcpOutcome::Passed);
  EXPECT_EQ(judge(p, Side::Guest, from_guest(kGuestIp, kElsewhere, dhcp_message(1, 3, kGuest))).dhcp,
            DhcpOutcome::WrongDestination);
}

TEST(DhcpSnooping, OffWhenThePolicyDoesNotMakeTheGuestADhcpClient) {
  const auto p = policy_with("{dhcpClient: false}");
  const L2Decision d = judge(p, Side::Guest, from_guest(kNone, kAll, dhcp_message(1, 1, kGuest)));
  EXPECT_EQ(d.dhcp, DhcpOutcome::None);
  EXPECT_EQ(d.result, L2Result::Drop);
  EXPECT_EQ(d.reason, L2Drop::SpoofedIp);
  EXPECT_EQ(judge(p, Side::Guest, from_guest(kGuestIp, kAll, dhcp_message(1, 1, kGuest), 67, 68)).reason,
            L2Drop::DhcpServer);
}

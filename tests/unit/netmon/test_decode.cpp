#include <gtest/gtest.h>
#include <netinet/in.h>

#include "frames.h"
#include "vitrine/netmon/decode.h"

using namespace vitrine;
using namespace vitrine::netmon;
using namespace vitrine::testing;

namespace {
const MacAddr kGuestMac = mac("52:54:00:77:00:02");
const MacAddr kGatewayMac = mac("52:54:00:77:00:01");
const IpAddr kGuest = ip("10.77.0.2");
const IpAddr kServer = ip("10.77.0.1");

Malformed decode(const Bytes& f, Decoded& d) {
  return decode_frame(LinkType::Ethernet, f.data(), f.size(), f.size(), d);
}

Bytes syn_frame() {
  return ethernet(kGuestMac, kGatewayMac, 0x0800,
                  ipv4(kGuest, kServer, IPPROTO_TCP, tcp(49152, 445, 1000, 0, tcp_flag::kSyn)));
}
}  // namespace

TEST(Decode, TcpOverIpv4) {
  Bytes f = ethernet(kGuestMac, kGatewayMac, 0x0800,
                     ipv4(kGuest, kServer, IPPROTO_TCP,
                          tcp(49152, 8080, 7, 9, tcp_flag::kAck | tcp_flag::kPsh, "GET /")));
  f.resize(f.size() + 6, 0);  // Ethernet padding must not count as payload
  Decoded d;
  ASSERT_EQ(decode(f, d), Malformed::None);
  EXPECT_EQ(d.kind, FrameKind::Ip);
  EXPECT_EQ(d.src_mac, kGuestMac);
  EXPECT_EQ(d.src_ip, kGuest);
  EXPECT_EQ(d.dst_ip, kServer);
  EXPECT_EQ(d.src_port, 49152);
  EXPECT_EQ(d.dst_port, 8080);
  EXPECT_EQ(d.tcp_seq, 7u);
  EXPECT_EQ(d.payload_len, 5u);
  EXPECT_EQ(d.l3_len, 20u + 20u + 5u);
  EXPECT_FALSE(d.fragment);
}

TEST(Decode, EveryTruncationIsNamedNeverRead) {
  // Every prefix of a valid frame must decode or fail with a reason; under ASan a read past
  // the end would abort the test.
  const Bytes full = syn_frame();
  for (size_t len = 0; len < full.size(); ++len) {
    Bytes cut(full.begin(), full.begin() + static_cast<long>(len));
    cut.shrink_to_fit();
    Decoded d;
    const Malformed m = decode(cut, d);
    EXPECT_NE(m, Malformed::None) << "length " << len;
  }
}

TEST(Decode, SnapLengthCutIsTruncatedCaptureNotMalformed) {
  const Bytes full = syn_frame();
  Decoded d;
  const size_t kept = 14 + 20 + 20 - 0;
  Bytes padded = full;
  // Claim the wire frame was longer than what the capture kept, as a snap length does.
  EXPECT_EQ(decode_frame(LinkType::Ethernet, padded.data(), kept, kept + 100, d), Malformed::None);
}

TEST(Decode, VlanTagsUpToTheLimit) {
  Bytes inner = ipv4(kGuest, kServer, IPPROTO_UDP, udp(5000, 53, {1, 2, 3}));
  auto tagged = [&](int tags) {
    Bytes f(12);
    for (int i = 0; i < 6; ++i) {
      f[i] = kGatewayMac.bytes[i];
      f[6 + i] = kGuestMac.bytes[i];
    }
    for (int t = 0; t < tags; ++t) f.insert(f.end(), {0x81, 0x00, 0x00, 0x05});
    f.insert(f.end(), {0x08, 0x00});
    f.insert(f.end(), inner.begin(), inner.end());
    return f;
  };
  Decoded d;
  ASSERT_EQ(decode(tagged(1), d), Malformed::None);
  EXPECT_EQ(d.vlan_tags, 1);
  EXPECT_EQ(d.dst_port, 53);
  ASSERT_EQ(decode(tagged(2), d), Malformed::None);
  EXPECT_EQ(d.vlan_tags, 2);
  EXPECT_EQ(decode(tagged(3), d), Malformed::TooManyVlanTags);
}

TEST(Decode, IpOptionsAreSkipped) {
  const Bytes options = {0x94, 0x04, 0x00, 0x00};  // router alert
  Decoded d;
  ASSERT_EQ(decode(ethernet(kGuestMac, kGatewayMac, 0x0800,
                            ipv4(kGuest, kServer, IPPROTO_UDP, udp(1, 2, {9}), 0, options)),
                   d),
            Malformed::None);
  EXPECT_TRUE(d.ip_options);
  EXPECT_EQ(d.dst_port, 2);
  EXPECT_EQ(d.payload_len, 1u);
}

TEST(Decode, FragmentsAreMarked) {
  Decoded d;
  ASSERT_EQ(decode(ethernet(kGuestMac, kGatewayMac, 0x0800,
                            ipv4(kGuest, kServer, IPPROTO_UDP, udp(1, 2, {9}), 0x2000)),
                   d),
            Malformed::None);
  EXPECT_TRUE(d.fragment);
  EXPECT_FALSE(d.later_fragment);
  ASSERT_EQ(decode(ethernet(kGuestMac, kGatewayMac, 0x0800,
                            ipv4(kGuest, kServer, IPPROTO_UDP, Bytes(16, 0xee), 0x0003)),
                   d),
            Malformed::None);
  EXPECT_TRUE(d.later_fragment);
  EXPECT_FALSE(d.has_l4);
}

TEST(Decode, BadHeaderLengths) {
  Bytes f = syn_frame();
  Decoded d;
  Bytes bad_ihl = f;
  bad_ihl[14] = 0x44;  // IHL 4 words: below the minimum
  EXPECT_EQ(decode(bad_ihl, d), Malformed::BadIpHeader);
  Bytes long_total = f;
  put16(long_total, 16, 1500);  // says 1500 bytes, carries 40
  EXPECT_EQ(decode(long_total, d), Malformed::TruncatedIp);
  Bytes bad_offset = f;
  bad_offset[14 + 20 + 12] = 0x20;  // TCP data offset 2 words
  EXPECT_EQ(decode(bad_offset, d), Malformed::BadTcpHeader);
  Bytes past_end = f;
  past_end[14 + 20 + 12] = 0xf0;  // 60-byte header in a 20-byte segment
  EXPECT_EQ(decode(past_end, d), Malformed::BadTcpHeader);
}

namespace {
Bytes ipv6_with_extensions(int count, uint8_t final_protocol, const Bytes& l4) {
  Bytes chain;
  for (int i = 0; i < count; ++i) {
    const uint8_t next = i + 1 < count ? 60 : final_protocol;  // destination options
    chain.insert(chain.end(), {next, 0, 1, 4, 0, 0, 0, 0});      // 8 bytes, PadN
  }
  chain.insert(chain.end(), l4.begin(), l4.end());
  Bytes p(40, 0);
  p[0] = 0x60;
  put16(p, 4, static_cast<uint16_t>(chain.size()));
  p[6] = count > 0 ? 60 : final_protocol;
  p[7] = 64;
  p[8] = 0x20;
  p[9] = 0x01;
  p[23] = 1;
  p[24] = 0x20;
  p[25] = 0x01;
  p[39] = 2;
  p.insert(p.end(), chain.begin(), chain.end());
  return ethernet(kGuestMac, kGatewayMac, 0x86dd, p);
}
}  // namespace

TEST(Decode, Ipv6ExtensionHeaderChain) {
  Decoded d;
  ASSERT_EQ(decode(ipv6_with_extensions(3, IPPROTO_UDP, udp(546, 547, {1})), d), Malformed::None);
  EXPECT_EQ(d.ip_version, 6);
  EXPECT_EQ(d.l4_protocol, IPPROTO_UDP);
  EXPECT_EQ(d.dst_port, 547);
  EXPECT_EQ(decode(ipv6_with_extensions(kMaxIpv6ExtensionHeaders + 1, IPPROTO_UDP, udp(1, 2, {})), d),
            Malformed::TooManyIpv6Headers);
}

TEST(Decode, ArpAndOtherEthertypes) {
  Decoded d;
  ASSERT_EQ(decode(ethernet(kGuestMac, mac("ff:ff:ff:ff:ff:ff"), 0x0806,
                            arp(1, kGuestMac, kGuest, kServer)),
                   d),
            Malformed::None);
  EXPECT_EQ(d.kind, FrameKind::Arp);
  EXPECT_EQ(d.arp.sender_ip, kGuest);
  EXPECT_EQ(d.arp.target_ip, kServer);
  ASSERT_EQ(decode(ethernet(kGuestMac, kGatewayMac, 0x88cc, Bytes(30, 0)), d), Malformed::None);
  EXPECT_EQ(d.kind, FrameKind::OtherL2);
  Bytes short_arp = arp(1, kGuestMac, kGuest, kServer);
  short_arp.resize(27);
  EXPECT_EQ(decode(ethernet(kGuestMac, kGatewayMac, 0x0806, short_arp), d), Malformed::TruncatedArp);
}

TEST(Decode, BsdLoopbackAndRaw) {
  Bytes ip_packet = ipv4(kGuest, kServer, IPPROTO_UDP, udp(1, 2, {3}));
  Bytes null_frame = {2, 0, 0, 0};
  null_frame.insert(null_frame.end(), ip_packet.begin(), ip_packet.end());
  Decoded d;
  ASSERT_EQ(decode_frame(LinkType::Null, null_frame.data(), null_frame.size(), null_frame.size(), d),
            Malformed::None);
  EXPECT_EQ(d.dst_port, 2);
  EXPECT_FALSE(d.has_ethernet);
  ASSERT_EQ(decode_frame(LinkType::Raw, ip_packet.data(), ip_packet.size(), ip_packet.size(), d),
            Malformed::None);
  EXPECT_EQ(d.src_ip, kGuest);
}

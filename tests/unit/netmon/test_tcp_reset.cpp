#include <gtest/gtest.h>

#include "frames.h"
#include "vitrine/netmon/decode.h"
#include "vitrine/netmon/tcp_reset.h"

using namespace vitrine;
using namespace vitrine::netmon;
using namespace vitrine::testing;

TEST(InternetChecksum, MatchesRfc1071Example) {
  // RFC 1071 section 3: the sum of these words is ddf2, so the checksum is its complement.
  const uint8_t data[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(internet_checksum(data, sizeof data), static_cast<uint16_t>(~0xddf2));
}

TEST(TcpReset, Ipv4FrameDecodesWithValidChecksums) {
  ResetSpec s;
  s.src_mac = mac("52:54:00:77:00:01");
  s.dst_mac = mac("52:54:00:77:00:02");
  s.src_ip = ip("10.77.0.1");
  s.dst_ip = ip("10.77.0.2");
  s.src_port = 445;
  s.dst_port = 49152;
  s.seq = 0xdeadbeef;
  s.ack = 1001;
  const auto f = build_tcp_reset(s);
  Decoded d;
  ASSERT_EQ(decode_frame(LinkType::Ethernet, f.data(), f.size(), f.size(), d), Malformed::None);
  EXPECT_EQ(d.src_mac, s.src_mac);
  EXPECT_EQ(d.dst_ip, s.dst_ip);
  EXPECT_EQ(d.tcp_seq, 0xdeadbeefu);
  EXPECT_EQ(d.tcp_ack, 1001u);
  EXPECT_EQ(d.tcp_flags, tcp_flag::kRst | tcp_flag::kAck);
  EXPECT_EQ(internet_checksum(d.l3, 20), 0) << "IPv4 header checksum";
  // TCP checksum over the pseudo-header and segment folds to zero when right.
  uint32_t pseudo = 0;
  for (int i = 12; i < 20; i += 2) pseudo += (d.l3[i] << 8) | d.l3[i + 1];
  pseudo += 6 + 20;
  EXPECT_EQ(internet_checksum(d.l3 + 20, 20, pseudo), 0);
}

TEST(TcpReset, Ipv6AndNoAck) {
  ResetSpec s;
  s.src_ip = ip("2001:db8::1");
  s.dst_ip = ip("2001:db8::2");
  s.src_port = 1;
  s.dst_port = 2;
  s.seq = 7;
  const auto f = build_tcp_reset(s);
  Decoded d;
  ASSERT_EQ(decode_frame(LinkType::Ethernet, f.data(), f.size(), f.size(), d), Malformed::None);
  EXPECT_EQ(d.ip_version, 6);
  EXPECT_EQ(d.tcp_flags, tcp_flag::kRst);
  uint32_t pseudo = 0;
  for (int i = 8; i < 40; i += 2) pseudo += (d.l3[i] << 8) | d.l3[i + 1];
  pseudo += 6 + 20;
  EXPECT_EQ(internet_checksum(d.l3 + 40, 20, pseudo), 0);
}

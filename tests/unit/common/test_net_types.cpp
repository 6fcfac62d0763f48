#include <gtest/gtest.h>

#include "vitrine/common/net_types.h"

using namespace vitrine;

TEST(MacAddr, ParsesAndFormats) {
  auto m = MacAddr::parse("52:54:00:AB:cd:0f");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->str(), "52:54:00:ab:cd:0f");
  EXPECT_FALSE(m->is_multicast());
  EXPECT_TRUE(MacAddr::parse("ff:ff:ff:ff:ff:ff")->is_broadcast());
  EXPECT_TRUE(MacAddr::parse("01:00:5e:00:00:fb")->is_multicast());
}

TEST(MacAddr, RefusesMalformedText) {
  for (const char* bad : {"", "52:54:00:ab:cd", "52:54:00:ab:cd:0g", "5254.00ab.cd0f",
                          "52:54:00:ab:cd:0f:00", "52:54:00:ab:cd:+f"})
    EXPECT_FALSE(MacAddr::parse(bad)) << bad;
}

TEST(IpAddr, ParsesBothFamilies) {
  auto v4 = IpAddr::parse("10.77.0.2");
  ASSERT_TRUE(v4);
  EXPECT_TRUE(v4->is_v4());
  EXPECT_EQ(v4->v4_host_order(), 0x0a4d0002u);
  EXPECT_EQ(v4->str(), "10.77.0.2");
  auto v6 = IpAddr::parse("2001:db8::1");
  ASSERT_TRUE(v6);
  EXPECT_FALSE(v6->is_v4());
  EXPECT_EQ(v6->str(), "2001:db8::1");
  EXPECT_FALSE(IpAddr::parse("10.77.0.256"));
  EXPECT_FALSE(IpAddr::parse("host.example"));
}

TEST(IpAddr, KnowsBroadcastAndMulticast) {
  EXPECT_TRUE(IpAddr::parse("255.255.255.255")->is_broadcast_or_multicast());
  EXPECT_TRUE(IpAddr::parse("224.0.0.252")->is_broadcast_or_multicast());
  EXPECT_TRUE(IpAddr::parse("ff02::1:3")->is_broadcast_or_multicast());
  EXPECT_FALSE(IpAddr::parse("10.77.0.255")->is_broadcast_or_multicast());
}

TEST(Cidr, ContainsByPrefix) {
  auto net = Cidr::parse("10.77.0.0/24");
  ASSERT_TRUE(net);
  EXPECT_TRUE(net->contains(*IpAddr::parse("10.77.0.200")));
  EXPECT_FALSE(net->contains(*IpAddr::parse("10.77.1.1")));
  EXPECT_FALSE(net->contains(*IpAddr::parse("::ffff:10.78.0.1")));
  EXPECT_EQ(net->str(), "10.77.0.0/24");
  auto odd = Cidr::parse("10.77.0.130/25");  // host bits are cleared
  ASSERT_TRUE(odd);
  EXPECT_TRUE(odd->contains(*IpAddr::parse("10.77.0.129")));
  EXPECT_FALSE(odd->contains(*IpAddr::parse("10.77.0.127")));
  EXPECT_TRUE(Cidr::parse("0.0.0.0/0")->contains(*IpAddr::parse("192.0.2.1")));
  EXPECT_FALSE(Cidr::parse("0.0.0.0/0")->contains(*IpAddr::parse("2001:db8::1")));
  EXPECT_TRUE(Cidr::parse("2001:db8::/32")->contains(*IpAddr::parse("2001:db8:ffff::1")));
  EXPECT_TRUE(Cidr::parse("10.0.0.1")->contains(*IpAddr::parse("10.0.0.1")));
}

TEST(Cidr, RefusesBadPrefixes) {
  for (const char* bad : {"10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8x", "::/129", "x/8"})
    EXPECT_FALSE(Cidr::parse(bad)) << bad;
}

// Both packet ports (AF_PACKET rings and libpcap) on a veth pair of their own (one a test): a frame sent on
// one end arrives whole at the other, what a port sends is not captured back by it, a frame
// the link cannot carry is refused without stalling the ones after it, and a kernel filter
// chooses what is received. Needs root (it makes the pair); skipped otherwise.
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "vitrine/netmon/packet_io.h"

using namespace vitrine::netmon;

namespace {

using Frame = std::vector<uint8_t>;

// A broadcast Ethernet frame of an unused EtherType, carrying `payload`, padded to 60 bytes.
Frame frame(uint16_t ether_type, const std::string& payload, size_t min_len = 60) {
  Frame f = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0x77, 0x00, 0x09,
             static_cast<uint8_t>(ether_type >> 8), static_cast<uint8_t>(ether_type)};
  for (const char c : payload) f.push_back(static_cast<uint8_t>(c));
  if (f.size() < min_len) f.resize(min_len, 0);
  return f;
}

class VethPair {
 public:
  explicit VethPair(const std::string& prefix) : a(prefix + "-a"), b(prefix + "-b") {
    std::system(("ip link del " + a + " 2>/dev/null").c_str());
    ok = std::system(("ip link add " + a + " type veth peer name " + b + " && ip link set " + a + " up && ip link set " +
                      b + " up && sysctl -qw net.ipv6.conf." + a + ".disable_ipv6=1 net.ipv6.conf." + b +
                      ".disable_ipv6=1")
                         .c_str()) == 0;
  }
  ~VethPair() { std::system(("ip link del " + a + " 2>/dev/null").c_str()); }
  std::string a, b;
  bool ok = false;
};

std::unique_ptr<PacketPort> open(const std::string& kind, const std::string& interface) {
  return kind == "ring" ? open_ring_port(interface) : open_pcap_port(interface);
}

// The frames of `type` the port receives within `ms`, stopping at `want`.
std::vector<Frame> receive(PacketPort& port, uint16_t type, size_t want, int ms = 2000) {
  std::vector<Frame> got;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (got.size() < want && std::chrono::steady_clock::now() < deadline) {
    pollfd p{port.selectable_fd(), POLLIN, 0};
    poll(&p, 1, 50);
    port.receive(64, [&](const uint8_t* data, size_t caplen, size_t, uint64_t) {
      if (caplen >= 14 && (data[12] << 8 | data[13]) == type) got.emplace_back(data, data + caplen);
    });
  }
  return got;
}

class PacketPortTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root: it makes a veth pair";
    // A pair of its own for each test and back end: ctest runs them side by side (-j), and one
    // test's pair deleted under another's sockets fails that one.
    const std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    pair_ = std::make_unique<VethPair>("vt" + std::to_string(std::hash<std::string>{}(test) % 1000000));
    ASSERT_TRUE(pair_->ok) << "cannot make the veth pair";
    a_ = open(GetParam(), pair_->a);
    b_ = open(GetParam(), pair_->b);
  }
  bool send(PacketPort& port, const Frame& f) {
    const bool ok = port.send(f.data(), f.size());
    port.flush();
    return ok;
  }
  std::unique_ptr<VethPair> pair_;
  std::unique_ptr<PacketPort> a_, b_;
};

}  // namespace

TEST_P(PacketPortTest, AFrameSentOnOneEndArrivesWholeAtTheOther) {
  const Frame sent = frame(0x88b5, "formulary update");
  ASSERT_TRUE(send(*a_, sent));
  const auto got = receive(*b_, 0x88b5, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], sent);
  EXPECT_TRUE(receive(*a_, 0x88b5, 1, 300).empty()) << "a port does not capture what it sent itself";
  EXPECT_GE(b_->stats().received, 1u);
}

TEST_P(PacketPortTest, AFrameTheLinkCannotCarryIsRefusedAndTheNextOnesStillGo) {
  const Frame runt(10, 0xff);                           // shorter than an Ethernet header
  const Frame giant = frame(0x88b5, std::string(3000, 'x'));  // over the veth's 1500-byte MTU
  EXPECT_FALSE(send(*a_, runt));
  send(*a_, giant);  // the ring queues it and the kernel skips it; libpcap refuses it at once
  const Frame next = frame(0x88b5, "after");
  ASSERT_TRUE(send(*a_, next));
  const auto got = receive(*b_, 0x88b5, 2, 1000);
  ASSERT_EQ(got.size(), 1u) << "only the frame that fits arrives";
  EXPECT_EQ(got[0], next) << "and the refused one did not stall the direction";
}

TEST_P(PacketPortTest, AKernelFilterChoosesWhatIsReceived) {
  b_->set_filter("ether proto 0x88b6");
  ASSERT_TRUE(send(*a_, frame(0x88b5, "not this")));
  ASSERT_TRUE(send(*a_, frame(0x88b6, "this")));
  EXPECT_EQ(receive(*b_, 0x88b6, 1).size(), 1u);
  EXPECT_TRUE(receive(*b_, 0x88b5, 1, 300).empty());
  EXPECT_THROW(b_->set_filter("ether proto nonsense"), std::runtime_error);
}

INSTANTIATE_TEST_SUITE_P(BothBackEnds, PacketPortTest, ::testing::Values("ring", "pcap"));

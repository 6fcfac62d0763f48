// The live relay over fake packet ports (the PacketPort seam): the engine's clock is the
// monotonic one whatever the kernel stamps frames with; a frame whose processing throws costs
// its flow, not the cabinet; an interface error is cleared and counted, not the end of netmon.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <deque>
#include <mutex>
#include <new>
#include <thread>

#include "engine_fixture.h"
#include "vitrine/common/clock.h"
#include "vitrine/netmon/relay.h"

namespace vitrine::testing {
namespace {

using namespace std::chrono_literals;

// Frames the test queues, handed to the relay when it receives; frames the relay sends, kept.
class FakePort : public netmon::PacketPort {
 public:
  explicit FakePort(std::string name, int fd = -1) : name_(std::move(name)), fd_(fd >= 0 ? fd : eventfd(0, EFD_NONBLOCK)) {}
  ~FakePort() override { close(fd_); }
  const std::string& name() const override { return name_; }
  int selectable_fd() const override { return fd_; }
  int receive(int max_frames, const FrameCallback& on_frame) override {
    std::deque<std::pair<Bytes, uint64_t>> batch;
    {
      const std::lock_guard lock(mutex_);
      uint64_t n;
      (void)!read(fd_, &n, sizeof n);
      while (!inbox_.empty() && static_cast<int>(batch.size()) < max_frames) {
        batch.push_back(std::move(inbox_.front()));
        inbox_.pop_front();
      }
      if (!inbox_.empty()) wake();
    }
    for (const auto& [frame, stamp] : batch) on_frame(frame.data(), frame.size(), frame.size(), stamp);
    return static_cast<int>(batch.size());
  }
  bool send(const uint8_t* data, size_t len) override {
    const std::lock_guard lock(mutex_);
    if (throw_on_send_ > 0 && --throw_on_send_ == 0) throw std::bad_alloc();
    sent_.emplace_back(data, data + len);
    return true;
  }
  netmon::CaptureStats stats() override { return {}; }
  void set_filter(const std::string&) override {}

  // `stamp`: what the kernel would stamp the frame with (its wall clock).
  void arrive(const Bytes& frame, uint64_t stamp) {
    const std::lock_guard lock(mutex_);
    inbox_.emplace_back(frame, stamp);
    wake();
  }
  size_t sent() const {
    const std::lock_guard lock(mutex_);
    return sent_.size();
  }
  Bytes last_sent() const {
    const std::lock_guard lock(mutex_);
    return sent_.empty() ? Bytes{} : sent_.back();
  }
  void throw_on_send(int nth) {
    const std::lock_guard lock(mutex_);
    throw_on_send_ = nth;
  }

 private:
  void wake() {
    const uint64_t one = 1;
    (void)!write(fd_, &one, sizeof one);
  }
  std::string name_;
  int fd_;
  mutable std::mutex mutex_;
  std::deque<std::pair<Bytes, uint64_t>> inbox_;
  std::vector<Bytes> sent_;
  int throw_on_send_ = 0;
};

// The host's wall clock, which the test steps as NTP would.
std::atomic<int64_t> g_wall_step_us{0};
uint64_t stepped_wall_clock_us() { return static_cast<uint64_t>(static_cast<int64_t>(wall_clock_us()) + g_wall_step_us.load()); }

netmon::LanedPort laned(std::unique_ptr<FakePort> port) {
  std::vector<std::unique_ptr<netmon::PacketPort>> lanes;
  lanes.push_back(std::move(port));
  return netmon::LanedPort(std::move(lanes));
}

class RelayTest : public ::testing::Test {
 protected:
  void start(int uplink_fd = -1) {
    auto g = std::make_unique<FakePort>("lo");
    auto u = std::make_unique<FakePort>("lo", uplink_fd);
    guest_port_ = g.get();
    uplink_port_ = u.get();
    guest_.emplace(laned(std::move(g)));
    uplink_.emplace(laned(std::move(u)));
    policy_ = std::make_shared<const policy::Policy>(policy::load_policy_text(std::string(kPolicyHeader) + R"(limits:
  tcpIdleTimeoutSeconds: 60
rules:
  - name: web
    direction: egress
    transport: tcp
    ports: [80]
    action: allow
  - name: dns
    direction: egress
    transport: udp
    ports: [53]
    action: allow
)", "relay.yaml", classifier_));
    g_wall_step_us = 0;
    relay_.emplace(*guest_, *uplink_, metrics_, netmon::RelayClocks{stepped_wall_clock_us, monotonic_us});
    engine_.emplace(policy_, classifier_, *relay_, events_, metrics_, netmon::LinkType::Ethernet);
    thread_ = std::thread([this] { relay_->run(*engine_, stop_); });
  }
  void TearDown() override {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // Until `port` has sent `n` frames, within a deadline.
  static bool sent(const FakePort* port, size_t n) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (port->sent() < n)
      if (std::chrono::steady_clock::now() > deadline) return false;
      else std::this_thread::sleep_for(1ms);
    return true;
  }
  bool uplink_sent(size_t n) { return sent(uplink_port_, n); }
  Bytes guest_tcp(uint32_t seq, uint32_t ack, uint8_t flags, const std::string& payload = {}) {
    return ethernet(kGuestMac, kGatewayMac, 0x0800, ipv4(kGuestIp, kServerIp, 6, tcp(40000, 80, seq, ack, flags, payload)));
  }
  Bytes server_tcp(uint32_t seq, uint32_t ack, uint8_t flags) {
    return ethernet(kGatewayMac, kGuestMac, 0x0800, ipv4(kServerIp, kGuestIp, 6, tcp(80, 40000, seq, ack, flags)));
  }
  Bytes guest_dns() {
    return ethernet(kGuestMac, kGatewayMac, 0x0800, ipv4(kGuestIp, kServerIp, 17, udp(40001, 53, dns_query(7, "pharmacy.example"))));
  }
  double relay_errors(const std::string& kind) {
    return metric_value(*metrics_.registry(), "vitrine_netmon_relay_errors_total", {{"kind", kind}});
  }

  netmon::NdpiClassifier classifier_;
  netmon::NetmonMetrics metrics_{std::make_shared<prometheus::Registry>()};
  RecordingEvents events_;
  std::shared_ptr<const policy::Policy> policy_;
  FakePort* guest_port_ = nullptr;
  FakePort* uplink_port_ = nullptr;
  std::optional<netmon::LanedPort> guest_, uplink_;
  std::optional<netmon::Relay> relay_;
  std::optional<netmon::Engine> engine_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST_F(RelayTest, AWallClockStepMovesNoDeadlineAndEventsStillSayTheWallTime) {
  start();
  const uint64_t wall = stepped_wall_clock_us();
  guest_port_->arrive(guest_tcp(1, 0, netmon::tcp_flag::kSyn), wall);
  ASSERT_TRUE(uplink_sent(1));
  uplink_port_->arrive(server_tcp(100, 2, netmon::tcp_flag::kSyn | netmon::tcp_flag::kAck), wall);
  ASSERT_TRUE(sent(guest_port_, 1));  // the SYN-ACK reached the guest before its ACK leaves
  guest_port_->arrive(guest_tcp(2, 101, netmon::tcp_flag::kAck), wall);
  ASSERT_TRUE(uplink_sent(2));
  // NTP steps the clock three hours forward; the kernel stamps what comes next with it. The
  // connection has been idle for milliseconds, not three hours (its timeout is 60 s).
  g_wall_step_us = 3ll * 3600 * 1000000;
  // A round of the relay after the step: its tick (which ran the idle timeouts on the stepped
  // clock before) comes before the relay takes the next frame.
  guest_port_->arrive(guest_dns(), stepped_wall_clock_us());
  ASSERT_TRUE(uplink_sent(3));
  guest_port_->arrive(guest_tcp(2, 101, netmon::tcp_flag::kAck | netmon::tcp_flag::kPsh, "GET / HTTP/1.0\r\n\r\n"),
                      stepped_wall_clock_us());
  EXPECT_TRUE(uplink_sent(4)) << "the connection outlived the step: no idle timeout ran on it";
  // An event after the step is dated by the wall clock as it is now.
  guest_port_->arrive(ethernet(kGuestMac, kGatewayMac, 0x0800, ipv4(kGuestIp, kServerIp, 6, tcp(40002, 445, 1, 0, netmon::tcp_flag::kSyn))),
                      stepped_wall_clock_us());
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (events_.count(netmon::Event::Kind::FlowDenied) == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(1ms);
  stop_ = true;
  thread_.join();
  EXPECT_EQ(engine_->flows().size(), 2u);  // the connection and the DNS query
  ASSERT_EQ(events_.count(netmon::Event::Kind::FlowDenied), 1u);
  for (const auto& e : events_.events) {
    if (e.kind != netmon::Event::Kind::FlowDenied) continue;
    EXPECT_NEAR(static_cast<double>(e.time_us), static_cast<double>(stepped_wall_clock_us()), 10e6);
  }
}

TEST_F(RelayTest, AFrameThatThrowsCostsItsFlowNotTheRelay) {
  start();
  uplink_port_->throw_on_send(1);  // the first frame forwarded to the uplink throws bad_alloc
  guest_port_->arrive(guest_tcp(1, 0, netmon::tcp_flag::kSyn), wall_clock_us());
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (relay_errors("frame") < 1 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
  EXPECT_EQ(relay_errors("frame"), 1);
  const size_t before = uplink_port_->sent();
  guest_port_->arrive(guest_dns(), wall_clock_us());  // the relay carries on for other flows
  ASSERT_TRUE(uplink_sent(before + 1));
  const Bytes dns = uplink_port_->last_sent();
  ASSERT_GT(dns.size(), 23u);
  EXPECT_EQ(dns[23], 17) << "the DNS query crossed";
  stop_ = true;
  thread_.join();
  EXPECT_GE(events_.count(netmon::Event::Kind::FlowDenied), 1u);
  bool cut = false;
  for (const auto& e : events_.events) cut |= e.kind == netmon::Event::Kind::FlowDenied && e.reason.find("bad_alloc") != std::string::npos;
  EXPECT_TRUE(cut) << "the TCP flow was cut, saying why";
}

TEST_F(RelayTest, AnInterfaceErrorIsClearedAndCountedAndRelayingGoesOn) {
  // A UDP socket that a refused datagram left an error on: poll() says POLLERR.
  const int broken = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  to.sin_port = htons(9);  // discard: nobody listens on loopback
  ASSERT_EQ(connect(broken, reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
  ASSERT_EQ(send(broken, "x", 1, 0), 1);
  pollfd answered{broken, 0, 0};  // POLLERR is reported whatever is asked for
  ASSERT_EQ(poll(&answered, 1, 5000), 1) << "the port-unreachable answer";
  ASSERT_TRUE(answered.revents & POLLERR);
  start(broken);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (relay_errors("port") < 1 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
  EXPECT_EQ(relay_errors("port"), 1);
  guest_port_->arrive(guest_dns(), wall_clock_us());
  EXPECT_TRUE(uplink_sent(1));
}

}  // namespace
}  // namespace vitrine::testing

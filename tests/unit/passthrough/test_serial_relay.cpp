// A mediated serial port between a real pty (the scanner) and a real Unix socket (QEMU's COM
// port), driven as hostd's loop drives it: whole lines or nothing reach a guest that is slow
// to read, and what waits is written once the guest can take it, with no new byte from the
// device to push it.
#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "temp_dir.h"
#include "vitrine/passthrough/serial_relay.h"

namespace vitrine::testing {
namespace {

using passthrough::SerialRelay;

class SerialRelayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int slave = -1;
    ASSERT_EQ(openpty(&master_, &slave, nullptr, nullptr, nullptr), 0);
    device_ = ttyname(slave);
    close(slave);  // the relay opens it by name, as it opens /dev/serial/by-id/...
    guest_path_ = (dir_.path / "com3.sock").string();
    listener_ = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, guest_path_.c_str(), sizeof a.sun_path - 1);
    ASSERT_EQ(bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ASSERT_EQ(listen(listener_, 1), 0);
    relay_ = std::make_unique<SerialRelay>(
        passthrough::SerialRelayConfig{3, device_, guest_path_, 9600, {64, true, 0, 0}}, metrics_, nullptr);
    relay_->connect(true, 0);
    ASSERT_GE(relay_->device_fd(), 0);
    ASSERT_GE(relay_->guest_fd(), 0);
    guest_ = accept(listener_, nullptr, nullptr);
    ASSERT_GE(guest_, 0);
    // A small buffer between relay and guest, so that a guest that does not read fills it soon.
    const int small = 4096;
    setsockopt(relay_->guest_fd(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  }
  void TearDown() override {
    relay_.reset();
    close(guest_);
    close(listener_);
    close(master_);
  }
  // The scanner sends `n` lines; the relay reads them as hostd's loop would, whenever the
  // device is readable.
  void scan(int n) {
    constexpr int kBatch = 40;  // about 400 bytes: well within a pty's buffer
    for (int i = 0; i < n; i += kBatch) {
      std::string lines;
      for (int j = i; j < std::min(n, i + kBatch); ++j) lines += "RX-" + std::to_string(100000 + j) + "\r";
      ASSERT_EQ(write(master_, lines.data(), lines.size()), static_cast<ssize_t>(lines.size()));
      pump_device();
    }
  }
  // Until the device has nothing more to read (the pty delivers within milliseconds).
  void pump_device() {
    pollfd p{relay_->device_fd(), POLLIN, 0};
    while (poll(&p, 1, 50) == 1) relay_->on_device_readable(0);
  }
  // The guest reads everything there is, the relay writing what waits whenever it may.
  std::string guest_reads() {
    std::string got;
    char buf[65536];
    for (;;) {
      if (relay_->guest_waiting()) {
        pollfd w{relay_->guest_fd(), POLLOUT, 0};
        if (poll(&w, 1, 0) == 1) relay_->on_guest_writable();
      }
      pollfd r{guest_, POLLIN, 0};
      if (poll(&r, 1, 200) != 1) {
        if (!relay_->guest_waiting()) return got;
        continue;
      }
      const ssize_t n = read(guest_, buf, sizeof buf);
      if (n <= 0) return got;
      got.append(buf, static_cast<size_t>(n));
    }
  }
  double metric(const std::string& name, const std::string& reason) {
    for (const auto& f : registry_.Collect())
      if (f.name == name)
        for (const auto& m : f.metric)
          for (const auto& l : m.label)
            if (l.name == "reason" && l.value == reason) return m.counter.value;
    return 0;
  }

  TempDir dir_;
  prometheus::Registry registry_;
  passthrough::SerialMetrics metrics_{registry_};
  std::unique_ptr<SerialRelay> relay_;
  int master_ = -1, listener_ = -1, guest_ = -1;
  std::string device_, guest_path_;
};

TEST_F(SerialRelayTest, AGuestSlowToReadGetsWholeLinesOrNothing) {
  scan(3000);  // about 30 KB: far more than the socket and the relay's bound hold
  EXPECT_GT(metric("vitrine_serial_dropped_total", "guest_not_reading"), 0);
  const std::string got = guest_reads();
  ASSERT_FALSE(got.empty());
  ASSERT_EQ(got.back(), '\r');
  // "RX-1ddddd", as scan() sends them (std::regex trips GCC 12's uninitialised warnings under ASan).
  const auto whole = [](const std::string& l) {
    return l.size() == 9 && l.rfind("RX-1", 0) == 0 &&
           std::all_of(l.begin() + 3, l.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  size_t lines = 0;
  for (size_t at = 0; at < got.size();) {
    const size_t end = got.find('\r', at);
    const std::string one = got.substr(at, end - at);
    EXPECT_TRUE(whole(one)) << "a cut line reached the guest: '" << one << "'";
    at = end + 1;
    ++lines;
  }
  EXPECT_LT(lines, 3000u);
}

TEST_F(SerialRelayTest, WhatWaitsIsWrittenOnceTheGuestCanTakeItWithoutNewBytes) {
  scan(300);  // fills the small socket buffer: some lines wait in the relay
  ASSERT_TRUE(relay_->guest_waiting());
  const std::string got = guest_reads();  // no further byte from the device
  EXPECT_FALSE(relay_->guest_waiting());
  EXPECT_EQ(std::count(got.begin(), got.end(), '\r'), 300);
  EXPECT_EQ(metric("vitrine_serial_dropped_total", "guest_not_reading"), 0);
}

}  // namespace
}  // namespace vitrine::testing

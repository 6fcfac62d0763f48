// An interface's lanes (priority_lanes.h) as one packet port.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "vitrine/netmon/packet_io.h"
#include "vitrine/netmon/priority_lanes.h"

namespace vitrine::netmon {

// One interface through several ports of the same kind, its lanes: each lane but the last
// takes the frames its filter matches and no earlier lane's; the last (bulk) takes the rest.
// Frames are received from the first lane first. Sends through the last. Ring ports share one
// fanout group, whose one program chooses each frame's lane in the kernel; ports that cannot
// (libpcap's) each run their own filter on every frame.
class LanedPort final : public PacketPort {
 public:
  LanedPort(std::vector<std::unique_ptr<PacketPort>> lanes);
  const std::string& name() const override { return lanes_.back()->name(); }
  // The lanes' descriptors, to be polled together only while the relay is idle. Not one epoll
  // set for them all: its waiter would stay on every lane's socket, and each frame received
  // and each send completed would then take the socket's wait-queue lock to wake it (measured:
  // 3% of the relay thread under a 64-byte UDP flood).
  std::vector<int> selectable_fds() const;
  // A laned port is polled lane by lane (selectable_fds).
  int selectable_fd() const override;
  int receive(int max_frames, const FrameCallback& on_frame) override;
  bool send(const uint8_t* data, size_t len) override { return lanes_.back()->send(data, len); }
  void flush() override { lanes_.back()->flush(); }
  CaptureStats stats() override;
  // What the lanes before the last dropped (their rings full).
  uint64_t priority_dropped();
  // What the flows and services lanes take (a port has those and bulk).
  void set_lanes(const LaneFilters& filters);
  // A filter on the interface as a whole: not used on a laned port (its lanes have theirs).
  void set_filter(const std::string& expression) override;

 private:
  std::vector<std::unique_ptr<PacketPort>> lanes_;
  bool fanout_ = false;
};

}  // namespace vitrine::netmon

#include <stdexcept>

#include "vitrine/netmon/laned_port.h"

namespace vitrine::netmon {

namespace {
// libpcap's way of saying "nothing": no frame is shorter than a byte.
constexpr const char* kNothing = "less 1";
}  // namespace

LanedPort::LanedPort(std::vector<std::unique_ptr<PacketPort>> lanes) : lanes_(std::move(lanes)) {
  if (lanes_.empty()) throw std::invalid_argument("a laned port needs a lane");
  if (lanes_.size() > 1) {
    // One demultiplexing program per frame rather than one filter per lane: the lanes cost
    // the kernel one pass over each frame, as a single socket does.
    const int group = lanes_[0]->join_fanout(-1);
    fanout_ = group >= 0;
    for (size_t i = 1; fanout_ && i < lanes_.size(); ++i)
      if (lanes_[i]->join_fanout(group) < 0)
        throw std::runtime_error("interface " + lanes_.back()->name() + ": a lane cannot join the fanout group");
  }
}

std::vector<int> LanedPort::selectable_fds() const {
  std::vector<int> fds;
  for (const auto& lane : lanes_) fds.push_back(lane->selectable_fd());
  return fds;
}

int LanedPort::selectable_fd() const {
  throw std::logic_error("a laned port is polled lane by lane (selectable_fds)");
}

int LanedPort::receive(int max_frames, const FrameCallback& on_frame) {
  int n = 0;
  for (const auto& lane : lanes_) n += lane->receive(max_frames, on_frame);
  return n;
}

CaptureStats LanedPort::stats() {
  CaptureStats total;
  for (const auto& lane : lanes_) {
    const CaptureStats s = lane->stats();
    total.received += s.received;
    total.dropped += s.dropped;
  }
  return total;
}

uint64_t LanedPort::priority_dropped() {
  uint64_t n = 0;
  for (size_t i = 0; i + 1 < lanes_.size(); ++i) n += lanes_[i]->stats().dropped;
  return n;
}

void LanedPort::set_lanes(const LaneFilters& f) {
  const std::string flows = f.flows.empty() ? kNothing : f.flows;
  if (fanout_) {
    // The group's program sees a received frame from its network header on: IP terms compiled
    // for raw IP, ARP by its own piece. Lanes 0 flows, 1 services, 2 bulk.
    std::vector<LanePiece> pieces;
    pieces.push_back({BpfProgram(flows, 2048, DLT_RAW).code(), 0});
    if (f.arp_ip != 0) pieces.push_back({arp_for(f.arp_ip, f.arp_offset), 1});
    if (!f.services.empty()) pieces.push_back({BpfProgram(f.services, 2048, DLT_RAW).code(), 1});
    lanes_[0]->set_fanout_choice(lane_choice(pieces, static_cast<uint32_t>(lanes_.size() - 1)));
    return;
  }
  // Each lane's own filter on whole frames, each excluding the earlier lanes: while they
  // change, a frame two lanes take for a moment is read twice (a duplicate its receiver
  // drops); none is taken by no lane.
  const std::string services = services_filter_ethernet(f);
  const std::string own[] = {flows, services.empty() ? kNothing : services};
  std::string earlier;
  for (size_t i = 0; i + 1 < lanes_.size() && i < 2; ++i) {
    lanes_[i]->set_filter(earlier.empty() ? own[i] : "(" + own[i] + ") and not (" + earlier + ")");
    earlier += (earlier.empty() ? "" : " or ") + ("(" + own[i] + ")");
  }
  lanes_.back()->set_filter("not (" + earlier + ")");
}

void LanedPort::set_filter(const std::string&) {
  throw std::logic_error("a laned port is filtered lane by lane (set_lanes)");
}

}  // namespace vitrine::netmon

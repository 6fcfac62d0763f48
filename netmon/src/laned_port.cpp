#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "vitrine/netmon/packet_io.h"

namespace vitrine::netmon {

namespace {
// libpcap's way of saying "nothing": no frame is shorter than a byte.
constexpr const char* kNothing = "less 1";
}  // namespace

LanedPort::LanedPort(std::vector<std::unique_ptr<PacketPort>> lanes) : lanes_(std::move(lanes)) {
  if (lanes_.empty()) throw std::invalid_argument("a laned port needs a lane");
  // One descriptor the relay can poll for every lane.
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) throw std::runtime_error(std::string("epoll: ") + std::strerror(errno));
  for (const auto& lane : lanes_) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = lane->selectable_fd();
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, lane->selectable_fd(), &ev) != 0) {
      close(epoll_fd_);
      throw std::runtime_error("interface " + lanes_.back()->name() + ": epoll: " + std::strerror(errno));
    }
  }
}

LanedPort::~LanedPort() {
  if (epoll_fd_ >= 0) close(epoll_fd_);
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

void LanedPort::set_lanes(const std::vector<std::string>& expressions) {
  // In lane order, each excluding the earlier ones: while they change, a frame two lanes take
  // for a moment is read twice (a duplicate its receiver drops); none is taken by no lane.
  std::string earlier;
  for (size_t i = 0; i + 1 < lanes_.size(); ++i) {
    const std::string own = i < expressions.size() && !expressions[i].empty() ? expressions[i] : kNothing;
    lanes_[i]->set_filter(earlier.empty() ? own : "(" + own + ") and not (" + earlier + ")");
    earlier += (earlier.empty() ? "" : " or ") + ("(" + own + ")");
  }
  lanes_.back()->set_filter(earlier.empty() ? "" : "not (" + earlier + ")");
}

void LanedPort::set_filter(const std::string&) {
  throw std::logic_error("a laned port is filtered lane by lane (set_lanes)");
}

}  // namespace vitrine::netmon

#include "vitrine/netmon/relay.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <vector>

#include <spdlog/spdlog.h>

namespace vitrine::netmon {

namespace {

// Frames taken from one interface before looking at the other, so that a flood on one side
// cannot starve the other.
constexpr int kBatchFrames = 64;
// The longest the loop sleeps without checking timers and capture statistics.
constexpr int kMaxPollMs = 250;
constexpr uint64_t kStatsEveryUs = 1000000;

}  // namespace

Relay::Relay(LanedPort& guest, LanedPort& uplink, NetmonMetrics& metrics, RelayClocks clocks)
    : guest_(guest), uplink_(uplink), metrics_(metrics), clocks_(clocks) {
  auto& errors = prometheus::BuildCounter()
                     .Name("vitrine_netmon_relay_errors_total")
                     .Help("What went wrong in the relay and was dealt with, by kind (frame: processing a frame "
                           "threw, its flow was cut; port: an interface reported an error, cleared)")
                     .Register(*metrics.registry());
  frame_errors_ = &errors.Add({{"kind", "frame"}});
  port_errors_ = &errors.Add({{"kind", "port"}});
  for (const LanedPort* port : {&guest_, &uplink_}) interface_indexes_[port->name()] = interface_index(port->name());
}

// The kernel's index of an interface, from sysfs ("" when there is none by that name).
std::string Relay::interface_index(const std::string& name) {
  std::ifstream in("/sys/class/net/" + name + "/ifindex");
  std::string index;
  in >> index;
  return index;
}

// An interface deleted, or deleted and made again under its name, leaves this netmon's sockets
// on nothing: it fails closed, but only a new netmon (hostd starts one) relays again.
void Relay::check_interfaces() const {
  for (const auto& [name, index] : interface_indexes_) {
    const std::string now = interface_index(name);
    if (now.empty()) throw std::runtime_error("interface " + name + " is gone");
    if (now != index)
      throw std::runtime_error("interface " + name + " was made again (index " + now + ", was " + index +
                               "): this netmon's sockets are on the old one");
  }
}

// An exception out of one frame (bad_alloc in the classifier, a port that throws on send) is
// that frame's and its flow's, not the cabinet's: the frame is not forwarded, the flow (whose
// state the exception may have left half-written) is cut as a denied flow is, and the relay
// carries on. Logged at most once a second.
void Relay::frame_failed(Engine& engine, Side side, const uint8_t* data, size_t len, uint64_t now, const char* what) {
  frame_errors_->Increment();
  if (now >= last_error_log_us_ + kErrorLogEveryUs) {
    last_error_log_us_ = now;
    spdlog::error("a frame from the {} failed ({}): not forwarded, its flow cut",
                  side == Side::Guest ? "guest" : "uplink", what);
  }
  try {
    engine.fail_frame(data, len, now, what);
  } catch (const std::exception&) {
    // Cutting it failed too: the frame is still not forwarded, and it is counted.
  }
}

// An error on an interface (the link went down, say) is read and cleared, counted and logged;
// the relay keeps polling it. Only an interface that is gone ends the relay, for hostd to make
// it again and start a new netmon on it.
void Relay::port_failed(pollfd& fd, const PacketPort& port) {
  port_errors_->Increment();
  if (fd.revents & POLLNVAL) throw std::runtime_error("interface " + port.name() + ": its descriptor is closed");
  int error = 0;
  socklen_t len = sizeof error;
  getsockopt(fd.fd, SOL_SOCKET, SO_ERROR, &error, &len);
  check_interfaces();
  spdlog::warn("interface {}: {} (cleared, still relaying)", port.name(), error ? std::strerror(error) : "error");
}

bool Relay::send(Side to, const uint8_t* data, size_t len) {
  return (to == Side::Guest ? guest_ : uplink_).send(data, len);
}

void Relay::run(Engine& engine, const std::atomic<bool>& stop, const std::function<void()>& between_rounds) {
  PacketPort* ports[2] = {&guest_, &uplink_};
  std::vector<pollfd> fds;
  std::vector<const PacketPort*> fd_ports;  // whose lane each descriptor is
  for (LanedPort* port : {&guest_, &uplink_})
    for (const int fd : port->selectable_fds()) {
      fds.push_back({fd, POLLIN, 0});
      fd_ports.push_back(port);
    }
  const Side sides[2] = {Side::Guest, Side::Uplink};
  uint64_t next_stats = 0;
  engine.set_wall_offset_us(static_cast<int64_t>(clocks_.wall_us()) - static_cast<int64_t>(clocks_.monotonic_us()));
  bool busy = false;

  while (!stop.load(std::memory_order_relaxed)) {
    if (busy) {
      // The last round took frames: more are likely waiting, and the rings (or libpcap's
      // non-blocking reads) say so without a system call. poll() only when a round is empty,
      // so that a loaded relay spends its time on frames.
      busy = drain(engine, ports, sides) > 0;
      finish_round(engine, next_stats);
      if (between_rounds) between_rounds();
      continue;
    }
    int timeout_ms = kMaxPollMs;
    if (const uint64_t deadline = engine.next_deadline_us(); deadline != 0) {
      const uint64_t now = clocks_.monotonic_us();
      timeout_ms = deadline <= now ? 0 : static_cast<int>(std::min<uint64_t>(
                                             (deadline - now + 999) / 1000, kMaxPollMs));
    }
    const int ready = poll(fds.data(), fds.size(), timeout_ms);
    if (ready < 0 && errno != EINTR) throw std::runtime_error(std::string("poll: ") + std::strerror(errno));
    for (size_t i = 0; i < fds.size() && ready > 0; ++i)
      if (fds[i].revents & (POLLERR | POLLNVAL)) port_failed(fds[i], *fd_ports[i]);
    if (ready > 0) busy = drain(engine, ports, sides) > 0;
    finish_round(engine, next_stats);
    if (between_rounds) between_rounds();
  }
}

int Relay::drain(Engine& engine, PacketPort* const (&ports)[2], const Side (&sides)[2]) {
  int total = 0;
  for (int i = 0; i < 2; ++i) {
    const Side side = sides[i];
    // The engine's clock is the monotonic one, read once a batch: the kernel stamps frames with
    // the wall clock, which NTP may step (forward, every flow would expire; back, durations
    // would underflow).
    const uint64_t now = clocks_.monotonic_us();
    total += ports[i]->receive(kBatchFrames, [&](const uint8_t* data, size_t caplen,
                                                 size_t wirelen, uint64_t /*kernel's wall-clock stamp*/) {
      if (caplen < wirelen) {
        // Only part of the frame was captured: forwarding it would corrupt it.
        metrics_.malformed(Malformed::FrameTooLarge);
        metrics_.packet(side, false, caplen);
        return;
      }
      try {
        engine.on_frame(side, data, caplen, wirelen, now);
      } catch (const std::exception& e) {
        frame_failed(engine, side, data, caplen, now, e.what());
      }
    });
    // Frames of this batch leave together, in either direction (resets go both ways).
    guest_.flush();
    uplink_.flush();
  }
  return total;
}

void Relay::update_lanes(const Engine& engine, uint64_t now_us) {
  const bool policy_changed = &engine.policy() != lanes_policy_;
  if (!policy_changed && engine.lane_generation() == lanes_generation_) return;
  if (!policy_changed && now_us < lanes_updated_us_ + kLaneUpdateIntervalUs) return;
  lanes_policy_ = &engine.policy();
  lanes_generation_ = engine.lane_generation();
  lanes_updated_us_ = now_us;
  const std::vector<LaneFlow> flows = engine.lane_flows(kMaxLaneFlows);
  try {
    guest_.set_lanes(lane_filters(engine.policy(), Side::Guest, flows));
    uplink_.set_lanes(lane_filters(engine.policy(), Side::Uplink, flows));
    metrics_.lanes_updated(true, flows.size());
  } catch (const std::runtime_error& e) {
    // Without the flows lane the services lane still holds; the next change tries again.
    spdlog::warn("priority lanes: {}: keeping the services lane only", e.what());
    metrics_.lanes_updated(false, 0);
    guest_.set_lanes(lane_filters(engine.policy(), Side::Guest, {}));
    uplink_.set_lanes(lane_filters(engine.policy(), Side::Uplink, {}));
  }
}

void Relay::finish_round(Engine& engine, uint64_t& next_stats) {
  const uint64_t now = clocks_.monotonic_us();
  engine.set_wall_offset_us(static_cast<int64_t>(clocks_.wall_us()) - static_cast<int64_t>(now));
  engine.on_tick(now);
  update_lanes(engine, now);
  guest_.flush();
  uplink_.flush();
  metrics_.publish();
  if (now >= next_stats) {
    check_interfaces();
    metrics_.capture_drops(Side::Guest, guest_.stats().dropped);
    metrics_.capture_drops(Side::Uplink, uplink_.stats().dropped);
    metrics_.priority_lane_drops(Side::Guest, guest_.priority_dropped());
    metrics_.priority_lane_drops(Side::Uplink, uplink_.priority_dropped());
    next_stats = now + kStatsEveryUs;
  }
}

}  // namespace vitrine::netmon

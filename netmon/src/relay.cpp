#include "vitrine/netmon/relay.h"

#include <poll.h>

#include <cerrno>
#include <chrono>
#include <cstring>
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

uint64_t wall_clock_us() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

}  // namespace

Relay::Relay(LanedPort& guest, LanedPort& uplink, NetmonMetrics& metrics)
    : guest_(guest), uplink_(uplink), metrics_(metrics) {}

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
      const uint64_t now = wall_clock_us();
      timeout_ms = deadline <= now ? 0 : static_cast<int>(std::min<uint64_t>(
                                             (deadline - now + 999) / 1000, kMaxPollMs));
    }
    const int ready = poll(fds.data(), fds.size(), timeout_ms);
    if (ready < 0 && errno != EINTR) throw std::runtime_error(std::string("poll: ") + std::strerror(errno));
    for (size_t i = 0; i < fds.size() && ready > 0; ++i)
      if (fds[i].revents & (POLLERR | POLLNVAL))
        throw std::runtime_error("interface " + fd_ports[i]->name() + " failed");
    if (ready > 0) busy = drain(engine, ports, sides) > 0;
    finish_round(engine, next_stats);
    if (between_rounds) between_rounds();
  }
}

int Relay::drain(Engine& engine, PacketPort* const (&ports)[2], const Side (&sides)[2]) {
  int total = 0;
  for (int i = 0; i < 2; ++i) {
    const Side side = sides[i];
    total += ports[i]->receive(kBatchFrames, [&](const uint8_t* data, size_t caplen,
                                                 size_t wirelen, uint64_t time_us) {
      if (caplen < wirelen) {
        // Only part of the frame was captured: forwarding it would corrupt it.
        metrics_.malformed(Malformed::FrameTooLarge);
        metrics_.packet(side, false, caplen);
        return;
      }
      engine.on_frame(side, data, caplen, wirelen, time_us);
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
  const uint64_t now = wall_clock_us();
  engine.on_tick(now);
  update_lanes(engine, now);
  guest_.flush();
  uplink_.flush();
  metrics_.publish();
  if (now >= next_stats) {
    metrics_.capture_drops(Side::Guest, guest_.stats().dropped);
    metrics_.capture_drops(Side::Uplink, uplink_.stats().dropped);
    metrics_.priority_lane_drops(Side::Guest, guest_.priority_dropped());
    metrics_.priority_lane_drops(Side::Uplink, uplink_.priority_dropped());
    next_stats = now + kStatsEveryUs;
  }
}

}  // namespace vitrine::netmon

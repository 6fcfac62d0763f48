// The live bump in the wire: one thread polls both interfaces and runs every frame through
// the engine. One thread owns the flow table and the nDPI module, so neither needs locks.
// Each interface is a priority and a bulk lane (priority_lanes.h); the relay keeps the
// priority lanes' filters up to date with the policy and the flows it allows.
#pragma once

#include <poll.h>
#include <prometheus/counter.h>

#include <atomic>
#include <functional>
#include <map>
#include <string>

#include "vitrine/common/clock.h"
#include "vitrine/netmon/engine.h"
#include "vitrine/netmon/laned_port.h"
#include "vitrine/netmon/priority_lanes.h"

namespace vitrine::netmon {

// The relay's two clocks: the wall clock dates events; the monotonic one runs the engine (its
// deadlines and durations), so that a step of the wall clock moves neither. A seam for tests.
struct RelayClocks {
  uint64_t (*wall_us)() = wall_clock_us;
  uint64_t (*monotonic_us)() = vitrine::monotonic_us;
};

class Relay final : public FrameSink {
 public:
  Relay(LanedPort& guest, LanedPort& uplink, NetmonMetrics& metrics, RelayClocks clocks = {});

  bool send(Side to, const uint8_t* data, size_t len) override;

  // Runs until `stop` becomes true. Throws std::runtime_error only if an interface is gone or
  // was made again under its name (checked once a second);
  // a frame that fails and an interface error are counted (vitrine_netmon_relay_errors_total).
  // `between_rounds`, if given, runs after each round of frames (the policy reload's turn).
  void run(Engine& engine, const std::atomic<bool>& stop,
           const std::function<void()>& between_rounds = {});

 private:
  // Takes one batch from each interface through the engine; returns the frames taken.
  int drain(Engine& engine, PacketPort* const (&ports)[2], const Side (&sides)[2]);
  // Timers, queued frames, metrics and capture statistics, after each round of batches.
  void finish_round(Engine& engine, uint64_t& next_stats);
  // The priority lanes' filters, when the policy or the flows it allows changed.
  void update_lanes(const Engine& engine, uint64_t now_us);
  void frame_failed(Engine& engine, Side side, const uint8_t* data, size_t len, uint64_t now, const char* what);
  void port_failed(pollfd& fd, const PacketPort& port);
  static std::string interface_index(const std::string& name);
  void check_interfaces() const;  // once a second, and on an interface's error

  static constexpr uint64_t kErrorLogEveryUs = 1'000'000;

  LanedPort& guest_;
  LanedPort& uplink_;
  NetmonMetrics& metrics_;
  RelayClocks clocks_;
  const policy::Policy* lanes_policy_ = nullptr;
  uint64_t lanes_generation_ = 0;
  uint64_t lanes_updated_us_ = 0;
  prometheus::Counter* frame_errors_;
  prometheus::Counter* port_errors_;
  uint64_t last_error_log_us_ = 0;
  std::map<std::string, std::string> interface_indexes_;  // name -> the kernel's index at start
};

}  // namespace vitrine::netmon

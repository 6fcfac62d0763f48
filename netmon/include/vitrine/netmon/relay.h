// The live bump in the wire: one thread polls both interfaces and runs every frame through
// the engine. One thread owns the flow table and the nDPI module, so neither needs locks.
// Each interface is a priority and a bulk lane (priority_lanes.h); the relay keeps the
// priority lanes' filters up to date with the policy and the flows it allows.
#pragma once

#include <atomic>
#include <functional>

#include "vitrine/netmon/engine.h"
#include "vitrine/netmon/laned_port.h"
#include "vitrine/netmon/priority_lanes.h"

namespace vitrine::netmon {

class Relay final : public FrameSink {
 public:
  Relay(LanedPort& guest, LanedPort& uplink, NetmonMetrics& metrics);

  bool send(Side to, const uint8_t* data, size_t len) override;

  // Runs until `stop` becomes true. Throws std::runtime_error if an interface fails.
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

  LanedPort& guest_;
  LanedPort& uplink_;
  NetmonMetrics& metrics_;
  const policy::Policy* lanes_policy_ = nullptr;
  uint64_t lanes_generation_ = 0;
  uint64_t lanes_updated_us_ = 0;
};

}  // namespace vitrine::netmon

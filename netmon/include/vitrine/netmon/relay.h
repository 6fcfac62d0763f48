// The live bump in the wire: one thread polls both interfaces and runs every frame through
// the engine. One thread owns the flow table and the nDPI module, so neither needs locks.
#pragma once

#include <atomic>
#include <functional>

#include "vitrine/netmon/engine.h"
#include "vitrine/netmon/packet_io.h"

namespace vitrine::netmon {

class Relay final : public FrameSink {
 public:
  Relay(PacketPort& guest, PacketPort& uplink, NetmonMetrics& metrics);

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

  PacketPort& guest_;
  PacketPort& uplink_;
  NetmonMetrics& metrics_;
};

}  // namespace vitrine::netmon

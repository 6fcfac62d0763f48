// Where live frames come from and go to. The relay sees only this interface, so that a
// TPACKET_V3 ring (or AF_XDP) can replace libpcap without touching the data path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace vitrine::netmon {

struct CaptureStats {
  uint64_t received = 0;
  uint64_t dropped = 0;  // by the kernel or the interface, before netmon saw them
};

class PacketPort {
 public:
  using FrameCallback =
      std::function<void(const uint8_t* data, size_t caplen, size_t wirelen, uint64_t time_us)>;

  virtual ~PacketPort() = default;
  virtual const std::string& name() const = 0;
  // A descriptor that poll() reports readable when frames are waiting.
  virtual int selectable_fd() const = 0;
  // Hands up to `max_frames` waiting frames to `on_frame` without blocking; returns how
  // many, or throws std::runtime_error when the interface is gone.
  virtual int receive(int max_frames, const FrameCallback& on_frame) = 0;
  // Sends a frame, or queues it for the next flush(); false when it cannot be sent.
  virtual bool send(const uint8_t* data, size_t len) = 0;
  // Hands queued frames to the kernel. The relay calls it after each batch it received.
  virtual void flush() {}
  virtual CaptureStats stats() = 0;
};

// Opens `interface` with libpcap: promiscuous, immediate delivery, inbound frames only (so
// that frames netmon sends out are not captured back). Throws std::runtime_error.
std::unique_ptr<PacketPort> open_pcap_port(const std::string& interface);

// Opens `interface` with AF_PACKET memory-mapped rings: frames are received without a copy
// or a system call each, and sent in batches, one system call per flush(). Same semantics
// as the libpcap port. Throws std::runtime_error.
std::unique_ptr<PacketPort> open_ring_port(const std::string& interface);

}  // namespace vitrine::netmon

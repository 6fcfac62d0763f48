// Where live frames come from and go to. The relay sees only this interface, so that a
// TPACKET_V3 ring (or AF_XDP) can replace libpcap without touching the data path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "vitrine/netmon/bpf_program.h"

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
  // Only frames that match `expression` (libpcap's filter language) are received from now on,
  // chosen in the kernel before they take room in a ring. Throws std::runtime_error when the
  // expression does not compile or the kernel refuses it.
  virtual void set_filter(const std::string& expression) = 0;
  // Makes (group < 0) or joins a fanout group of this interface's sockets: each frame goes to
  // one socket of the group, the one its program chooses (set_fanout_choice). Returns the
  // group's id, or -1 when this kind of port cannot (libpcap's).
  virtual int join_fanout(int /*group*/) { return -1; }
  virtual void set_fanout_choice(const BpfCode& /*code*/) {}
};

// How much a port may hold: its receive ring (or kernel buffer) in bytes, and whether it sends.
struct PortSize {
  size_t receive_bytes = 8u << 20;
  bool sends = true;
};

// Opens `interface` with libpcap: promiscuous, immediate delivery, inbound frames only (so
// that frames netmon sends out are not captured back). Throws std::runtime_error.
std::unique_ptr<PacketPort> open_pcap_port(const std::string& interface, PortSize size = {});

// Opens `interface` with AF_PACKET memory-mapped rings: frames are received without a copy
// or a system call each, and sent in batches, one system call per flush(). Same semantics
// as the libpcap port. Throws std::runtime_error.
std::unique_ptr<PacketPort> open_ring_port(const std::string& interface, PortSize size = {});

// A priority lane's receive ring: the cabinet's own traffic, which may be all of a busy link's
// (a file copy to the console's share), so deep enough to ride out a scheduling delay of the
// relay thread at line rate (2048 frames); it sends nothing, bulk sends for all.
inline constexpr PortSize kPriorityLaneSize{4u << 20, false};

}  // namespace vitrine::netmon

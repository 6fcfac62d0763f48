// Where live frames come from and go to. The relay sees only this interface, so that a
// TPACKET_V3 ring (or AF_XDP) can replace libpcap without touching the data path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

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

// One interface through several ports of the same kind, its lanes: each lane but the last
// takes the frames its filter matches and no earlier lane's; the last (bulk) takes the rest.
// Frames are received from the first lane first. Sends through the last.
class LanedPort final : public PacketPort {
 public:
  LanedPort(std::vector<std::unique_ptr<PacketPort>> lanes);
  ~LanedPort() override;
  const std::string& name() const override { return lanes_.back()->name(); }
  int selectable_fd() const override { return epoll_fd_; }
  int receive(int max_frames, const FrameCallback& on_frame) override;
  bool send(const uint8_t* data, size_t len) override { return lanes_.back()->send(data, len); }
  void flush() override { lanes_.back()->flush(); }
  CaptureStats stats() override;
  // What the lanes before the last dropped (their rings full).
  uint64_t priority_dropped();
  // One expression per lane but the last; an empty one matches nothing.
  void set_lanes(const std::vector<std::string>& expressions);
  // A filter on the interface as a whole: not used on a laned port (its lanes have theirs).
  void set_filter(const std::string& expression) override;

 private:
  std::vector<std::unique_ptr<PacketPort>> lanes_;
  int epoll_fd_ = -1;
};

// The priority lane's receive ring: the cabinet's own traffic, a few hundred frames deep.
inline constexpr PortSize kPriorityLaneSize{1u << 20, false};

}  // namespace vitrine::netmon

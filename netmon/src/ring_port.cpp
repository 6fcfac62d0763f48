// AF_PACKET with memory-mapped TPACKET_V2 rings for both directions. Receiving walks the RX
// ring in place; sending fills TX slots and the kernel transmits a whole batch on one
// sendto(). TPACKET_V2 rather than V3 for receive: V3 hands over whole blocks on a timer,
// which adds up to the block timeout of latency to every frame of a quiet flow.
#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <iterator>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "vitrine/netmon/bpf_program.h"
#include "vitrine/netmon/packet_io.h"

namespace vitrine::netmon {

namespace {

// PACKET_FANOUT_FLAG_IGNORE_OUTGOING (linux/if_packet.h of 2024 kernels; Debian 12's headers predate it).
constexpr int kFanoutIgnoreOutgoing = 0x4000;

// One slot holds the ring header, the link-layer address and one frame. 2048 bytes takes a
// 1518-byte Ethernet frame with two VLAN tags; the guest's NIC (rtl8139) sends nothing larger,
// and larger frames from the network could not be delivered to it. Bigger frames arrive cut
// (caplen < wirelen) and the engine refuses to forward a cut frame.
constexpr unsigned kSlotBytes = 2048;
// By default 4096 slots (8 MiB) per direction: a few milliseconds of line rate, enough to ride
// out a scheduling delay of the relay thread (PortSize says otherwise for a priority lane).
constexpr unsigned kBlockBytes = 1 << 16;
constexpr unsigned kSlotsPerBlock = kBlockBytes / kSlotBytes;

constexpr size_t kHeaderRoom = TPACKET_ALIGN(sizeof(tpacket2_hdr));
// The kernel takes no frame shorter than the link's header (destination, source, type), nor
// one longer than its MTU and that header, with room for one 802.1Q tag when it carries one.
constexpr size_t kEthernetHeaderBytes = 14;
constexpr size_t kVlanTagBytes = 4;

bool is_vlan_tagged(const uint8_t* frame) {
  const unsigned type = static_cast<unsigned>(frame[12]) << 8 | frame[13];
  return type == ETH_P_8021Q || type == ETH_P_8021AD;
}

class RingPort final : public PacketPort {
 public:
  RingPort(std::string interface, PortSize size)
      : name_(std::move(interface)),
        blocks_(static_cast<unsigned>(std::max<size_t>(1, size.receive_bytes / kBlockBytes))),
        slots_(blocks_ * kSlotsPerBlock),
        sends_(size.sends) {
    // Protocol 0: the socket receives nothing until bind() below names the interface and
    // ETH_P_ALL; opened with ETH_P_ALL, it would take in frames of every interface (loopback
    // included) in the moments before bind(), and they would be relayed as the guest's.
    fd_ = socket(AF_PACKET, SOCK_RAW, 0);
    if (fd_ < 0) fail("socket");
    const unsigned ifindex = if_nametoindex(name_.c_str());
    if (ifindex == 0) fail("no such interface");

    int version = TPACKET_V2;
    setopt(PACKET_VERSION, &version, sizeof version, "PACKET_VERSION");
    // Frames netmon sends out of this interface must not come back in.
    int one = 1;
    setopt(PACKET_IGNORE_OUTGOING, &one, sizeof one, "PACKET_IGNORE_OUTGOING");
    // Frames leave as netmon built them, without a detour through the interface's qdisc.
    setopt(PACKET_QDISC_BYPASS, &one, sizeof one, "PACKET_QDISC_BYPASS");
    // A frame the kernel refuses to send (too long for the link's MTU, shorter than its header)
    // is skipped and its slot given back; without PACKET_LOSS the transmit ring stops at it, and
    // nothing after it ever leaves that way. Set before the rings exist, as the kernel asks.
    if (sends_) setopt(PACKET_LOSS, &one, sizeof one, "PACKET_LOSS");
    refresh_mtu();
    tpacket_req req{};
    req.tp_block_size = kBlockBytes;
    req.tp_block_nr = blocks_;
    req.tp_frame_size = kSlotBytes;
    req.tp_frame_nr = slots_;
    setopt(PACKET_RX_RING, &req, sizeof req, "PACKET_RX_RING");
    if (sends_) setopt(PACKET_TX_RING, &req, sizeof req, "PACKET_TX_RING");
    ring_bytes_ = size_t{kBlockBytes} * blocks_;
    mapped_bytes_ = (sends_ ? 2 : 1) * ring_bytes_;
    void* map = mmap(nullptr, mapped_bytes_, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
    if (map == MAP_FAILED) fail("mmap");
    rx_ = static_cast<uint8_t*>(map);
    tx_ = sends_ ? rx_ + ring_bytes_ : nullptr;

    sockaddr_ll addr{};
    addr.sll_family = AF_PACKET;
    addr.sll_protocol = htons(ETH_P_ALL);
    addr.sll_ifindex = static_cast<int>(ifindex);
    if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) fail("bind");
    packet_mreq mr{};
    mr.mr_ifindex = static_cast<int>(ifindex);
    mr.mr_type = PACKET_MR_PROMISC;
    setopt(PACKET_ADD_MEMBERSHIP, &mr, sizeof mr, "promiscuous mode");
    scratch_.resize(kSlotBytes + 4);
  }

  ~RingPort() override {
    if (rx_ != nullptr) munmap(rx_, mapped_bytes_);
    if (fd_ >= 0) close(fd_);
  }

  const std::string& name() const override { return name_; }
  int selectable_fd() const override { return fd_; }

  int receive(int max_frames, const FrameCallback& on_frame) override {
    int n = 0;
    while (n < max_frames) {
      auto* hdr = reinterpret_cast<tpacket2_hdr*>(rx_ + size_t{rx_next_} * kSlotBytes);
      if ((__atomic_load_n(&hdr->tp_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER) == 0) break;
      const uint8_t* frame = reinterpret_cast<uint8_t*>(hdr) + hdr->tp_mac;
      size_t caplen = hdr->tp_snaplen;
      size_t wirelen = hdr->tp_len;
      if (hdr->tp_status & TP_STATUS_VLAN_VALID) {
        // The kernel took the 802.1Q tag out of the frame into the header: put it back, so
        // that the frame is forwarded as it arrived.
        frame = with_vlan_tag(frame, caplen, hdr->tp_vlan_tci,
                              (hdr->tp_status & TP_STATUS_VLAN_TPID_VALID) ? hdr->tp_vlan_tpid
                                                                           : ETH_P_8021Q);
        caplen += 4;
        wirelen += 4;
      }
      const uint64_t us = uint64_t{hdr->tp_sec} * 1000000 + hdr->tp_nsec / 1000;
      on_frame(frame, caplen, wirelen, us);
      __atomic_store_n(&hdr->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
      rx_next_ = (rx_next_ + 1) % slots_;
      ++n;
    }
    return n;
  }

  bool send(const uint8_t* data, size_t len) override {
    // Shorter than an Ethernet header, or longer than a slot: never queued (counted by the
    // caller as a send error). One the link's MTU refuses is skipped by the kernel (PACKET_LOSS).
    if (!sends_ || len < kEthernetHeaderBytes || len > kSlotBytes - kHeaderRoom) return false;
    if (len > max_frame_ + (is_vlan_tagged(data) ? kVlanTagBytes : 0)) return false;
    auto* hdr = reinterpret_cast<tpacket2_hdr*>(tx_ + size_t{tx_next_} * kSlotBytes);
    if (__atomic_load_n(&hdr->tp_status, __ATOMIC_ACQUIRE) != TP_STATUS_AVAILABLE) {
      // The ring is full of frames the kernel has not sent yet: push them out, then look again.
      flush_blocking();
      if (__atomic_load_n(&hdr->tp_status, __ATOMIC_ACQUIRE) != TP_STATUS_AVAILABLE) return false;
    }
    std::memcpy(reinterpret_cast<uint8_t*>(hdr) + kHeaderRoom, data, len);
    hdr->tp_len = static_cast<uint32_t>(len);
    __atomic_store_n(&hdr->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
    tx_next_ = (tx_next_ + 1) % slots_;
    ++queued_;
    return true;
  }

  void flush() override {
    if (queued_ == 0) return;
    // MSG_DONTWAIT: hand the batch over and return; the kernel sends it without us.
    if (sendto(fd_, nullptr, 0, MSG_DONTWAIT, nullptr, 0) >= 0 || errno == EAGAIN) queued_ = 0;
  }

  void set_filter(const std::string& expression) override {
    const BpfProgram program(expression, kSlotBytes);
    sock_fprog fprog{};
    fprog.len = static_cast<unsigned short>(program.get().bf_len);
    fprog.filter = reinterpret_cast<sock_filter*>(program.get().bf_insns);  // the same layout
    if (setsockopt(fd_, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog) != 0)
      throw std::runtime_error("interface " + name_ + ": the kernel refused the filter: " + std::strerror(errno));
  }

  int join_fanout(int group) override {
    // A fanout group's frames reach its sockets whatever each asked of outgoing frames. The
    // group's own flag (kernels of 2024 on) keeps them out before the kernel copies each
    // frame netmon sends for the group: without it every forwarded frame was cloned,
    // demultiplexed and filtered once more. A kernel that does not know the flag ignores it
    // (or refuses it: the group is then made without it), so each socket also keeps them out
    // by a filter of its own (the kernel's "packet type" is outgoing).
    static const sock_filter kInbound[] = {
        {BPF_LD | BPF_B | BPF_ABS, 0, 0, static_cast<__u32>(SKF_AD_OFF + SKF_AD_PKTTYPE)},
        {BPF_JMP | BPF_JEQ | BPF_K, 0, 1, PACKET_OUTGOING},
        {BPF_RET | BPF_K, 0, 0, 0},
        {BPF_RET | BPF_K, 0, 0, 0xffffffff},
    };
    sock_fprog inbound{static_cast<unsigned short>(std::size(kInbound)), const_cast<sock_filter*>(kInbound)};
    if (setsockopt(fd_, SOL_SOCKET, SO_ATTACH_FILTER, &inbound, sizeof inbound) != 0) return -1;
    const int kind = group < 0 ? PACKET_FANOUT_CBPF | PACKET_FANOUT_FLAG_UNIQUEID : PACKET_FANOUT_CBPF;
    const int id = group < 0 ? 0 : group;
    int arg = id | (kind | kFanoutIgnoreOutgoing) << 16;
    if (setsockopt(fd_, SOL_PACKET, PACKET_FANOUT, &arg, sizeof arg) != 0) {
      arg = id | kind << 16;
      if (errno != EINVAL || setsockopt(fd_, SOL_PACKET, PACKET_FANOUT, &arg, sizeof arg) != 0) return -1;
    }
    socklen_t len = sizeof arg;
    if (getsockopt(fd_, SOL_PACKET, PACKET_FANOUT, &arg, &len) != 0) return -1;
    return arg & 0xffff;
  }

  void set_fanout_choice(const BpfCode& code) override {
    sock_fprog fprog{};
    fprog.len = static_cast<unsigned short>(code.size());
    fprog.filter = reinterpret_cast<sock_filter*>(const_cast<bpf_insn*>(code.data()));
    if (setsockopt(fd_, SOL_PACKET, PACKET_FANOUT_DATA, &fprog, sizeof fprog) != 0)
      throw std::runtime_error("interface " + name_ + ": the kernel refused the lanes' program: " + std::strerror(errno));
  }

  CaptureStats stats() override {
    refresh_mtu();  // the relay asks once a second
    tpacket_stats s{};
    socklen_t len = sizeof s;
    // The kernel resets these counters on every read: accumulate.
    if (getsockopt(fd_, SOL_PACKET, PACKET_STATISTICS, &s, &len) == 0) {
      totals_.received += s.tp_packets;
      totals_.dropped += s.tp_drops;
    }
    return totals_;
  }

 private:
  // The link's MTU, so that a frame it would refuse is refused here, and counted (the kernel
  // says nothing of one it skips); between two reads, PACKET_LOSS keeps such a frame from
  // stopping the ring.
  void refresh_mtu() {
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, name_.c_str(), IFNAMSIZ - 1);
    if (ioctl(fd_, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu > 0)
      max_frame_ = static_cast<size_t>(ifr.ifr_mtu) + kEthernetHeaderBytes;
  }

  void flush_blocking() {
    sendto(fd_, nullptr, 0, 0, nullptr, 0);
    queued_ = 0;
  }

  const uint8_t* with_vlan_tag(const uint8_t* frame, size_t caplen, uint16_t tci, uint16_t tpid) {
    if (caplen < 12 || caplen + 4 > scratch_.size()) return frame;
    std::memcpy(scratch_.data(), frame, 12);
    scratch_[12] = static_cast<uint8_t>(tpid >> 8);
    scratch_[13] = static_cast<uint8_t>(tpid);
    scratch_[14] = static_cast<uint8_t>(tci >> 8);
    scratch_[15] = static_cast<uint8_t>(tci);
    std::memcpy(scratch_.data() + 16, frame + 12, caplen - 12);
    return scratch_.data();
  }

  void setopt(int option, const void* value, socklen_t len, const char* what) {
    if (setsockopt(fd_, SOL_PACKET, option, value, len) != 0) fail(what);
  }

  [[noreturn]] void fail(const std::string& what) {
    const std::string msg = "interface " + name_ + ": " + what + ": " + std::strerror(errno);
    if (rx_ != nullptr) munmap(rx_, mapped_bytes_);
    if (fd_ >= 0) close(fd_);
    rx_ = nullptr;
    fd_ = -1;
    throw std::runtime_error(msg);
  }

  std::string name_;
  unsigned blocks_;
  unsigned slots_;
  bool sends_;
  size_t max_frame_ = SIZE_MAX;  // the link's MTU and header, once known
  size_t mapped_bytes_ = 0;
  int fd_ = -1;
  uint8_t* rx_ = nullptr;
  uint8_t* tx_ = nullptr;
  size_t ring_bytes_ = 0;
  unsigned rx_next_ = 0;
  unsigned tx_next_ = 0;
  unsigned queued_ = 0;
  CaptureStats totals_;
  std::vector<uint8_t> scratch_;
};

}  // namespace

std::unique_ptr<PacketPort> open_ring_port(const std::string& interface, PortSize size) {
  return std::make_unique<RingPort>(interface, size);
}

}  // namespace vitrine::netmon

#include <linux/filter.h>
#include <pcap/pcap.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "vitrine/netmon/packet_io.h"

namespace vitrine::netmon {

namespace {

// A whole jumbo frame plus VLAN tags; nothing larger reaches a tap or veth with offloads off.
constexpr int kSnapLength = 65535;

class PcapPort final : public PacketPort {
 public:
  // The default kernel buffer is room for bursts while the relay is busy with the other
  // interface: about 5000 full frames.
  PcapPort(std::string interface, PortSize size) : name_(std::move(interface)), sends_(size.sends) {
    char err[PCAP_ERRBUF_SIZE] = {};
    handle_ = pcap_create(name_.c_str(), err);
    if (handle_ == nullptr) fail(err);
    pcap_set_snaplen(handle_, kSnapLength);
    pcap_set_promisc(handle_, 1);
    pcap_set_immediate_mode(handle_, 1);
    pcap_set_buffer_size(handle_, static_cast<int>(size.receive_bytes));
    const int rc = pcap_activate(handle_);
    if (rc < 0) fail(pcap_geterr(handle_));
    if (pcap_datalink(handle_) != DLT_EN10MB) fail("not an Ethernet interface");
    if (pcap_setdirection(handle_, PCAP_D_IN) != 0) fail(pcap_geterr(handle_));
    if (pcap_setnonblock(handle_, 1, err) != 0) fail(err);
    fd_ = pcap_get_selectable_fd(handle_);
    if (fd_ < 0) fail("no selectable descriptor");
  }

  ~PcapPort() override {
    if (handle_ != nullptr) pcap_close(handle_);
  }

  const std::string& name() const override { return name_; }
  int selectable_fd() const override { return fd_; }

  int receive(int max_frames, const FrameCallback& on_frame) override {
    callback_ = &on_frame;
    const int n = pcap_dispatch(handle_, max_frames, &PcapPort::deliver,
                                reinterpret_cast<u_char*>(this));
    callback_ = nullptr;
    if (n == PCAP_ERROR) fail(pcap_geterr(handle_));
    return n < 0 ? 0 : n;
  }

  bool send(const uint8_t* data, size_t len) override {
    return sends_ && pcap_inject(handle_, data, len) == static_cast<int>(len);
  }

  void set_filter(const std::string& expression) override {
    bpf_program program{};
    if (pcap_compile(handle_, &program, expression.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0)
      throw std::runtime_error("interface " + name_ + ": filter: " + pcap_geterr(handle_));
    // Attached to the socket directly, which swaps the kernel's filter in one step. libpcap's
    // pcap_setfilter() first installs a filter that takes nothing and drains what is queued, so
    // a change of the lanes could lose the frames that arrived meanwhile.
    sock_fprog fprog{};
    fprog.len = static_cast<unsigned short>(program.bf_len);
    fprog.filter = reinterpret_cast<sock_filter*>(program.bf_insns);  // the same layout
    const int rc = setsockopt(pcap_fileno(handle_), SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog);
    const int error = errno;
    pcap_freecode(&program);
    if (rc != 0)
      throw std::runtime_error("interface " + name_ + ": the kernel refused the filter: " + std::strerror(error));
  }

  CaptureStats stats() override {
    pcap_stat s{};
    if (pcap_stats(handle_, &s) != 0) return last_;
    last_.received = s.ps_recv;
    last_.dropped = uint64_t{s.ps_drop} + s.ps_ifdrop;
    return last_;
  }

 private:
  static void deliver(u_char* user, const pcap_pkthdr* h, const u_char* bytes) {
    auto* self = reinterpret_cast<PcapPort*>(user);
    const uint64_t us = uint64_t(h->ts.tv_sec) * 1000000 + uint64_t(h->ts.tv_usec);
    (*self->callback_)(bytes, h->caplen, h->len, us);
  }

  [[noreturn]] void fail(const std::string& why) {
    const std::string msg = "interface " + name_ + ": " + why;
    if (handle_ != nullptr) pcap_close(handle_);
    handle_ = nullptr;
    throw std::runtime_error(msg);
  }

  std::string name_;
  bool sends_;
  pcap_t* handle_ = nullptr;
  int fd_ = -1;
  const FrameCallback* callback_ = nullptr;
  CaptureStats last_;
};

}  // namespace

std::unique_ptr<PacketPort> open_pcap_port(const std::string& interface, PortSize size) {
  return std::make_unique<PcapPort>(interface, size);
}

}  // namespace vitrine::netmon

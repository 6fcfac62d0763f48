// A libpcap filter expression compiled to classic BPF, as the kernel takes it: libpcap's
// compiler, so that netmon writes (almost) no BPF by hand.
#pragma once

#include <pcap/pcap.h>

#include <string>
#include <vector>

namespace vitrine::netmon {

class BpfProgram;

// A classic BPF program as the kernel takes it (sock_filter instructions, same layout as
// libpcap's bpf_insn).
using BpfCode = std::vector<bpf_insn>;

// One piece of a lane choice: a program (its non-zero returns mean "matches") and the lane it
// chooses when it matches.
struct LanePiece {
  BpfCode code;
  uint32_t lane;
};

// The program a fanout group runs to choose a socket for each frame: the lane of the first
// piece that matches, `otherwise` when none does. Each piece's returns are turned into that
// choice, so that they run one after another.
BpfCode lane_choice(const std::vector<LanePiece>& pieces, uint32_t otherwise);

// ARP whose sender (offset 14) or target (offset 24) address is `ipv4` (host order), for a
// program that sees frames from their network header on (a fanout group's, on receive).
BpfCode arp_for(uint32_t ipv4, uint32_t offset);

class BpfProgram {
 public:
  // Throws std::runtime_error with libpcap's message when `expression` does not compile.
  // `link`: what frames start with, DLT_EN10MB (an Ethernet header) or DLT_RAW (the IP header).
  BpfProgram(const std::string& expression, int snap_length, int link = DLT_EN10MB);
  BpfCode code() const { return BpfCode(program_.bf_insns, program_.bf_insns + program_.bf_len); }
  ~BpfProgram();
  BpfProgram(const BpfProgram&) = delete;
  BpfProgram& operator=(const BpfProgram&) = delete;
  const bpf_program& get() const { return program_; }

 private:
  bpf_program program_{};
};

}  // namespace vitrine::netmon

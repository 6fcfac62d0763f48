// A libpcap filter expression compiled to classic BPF for Ethernet frames, as a socket filter
// takes it: libpcap's compiler, so that netmon writes no BPF by hand.
#pragma once

#include <pcap/pcap.h>

#include <string>

namespace vitrine::netmon {

class BpfProgram {
 public:
  // Throws std::runtime_error with libpcap's message when `expression` does not compile.
  BpfProgram(const std::string& expression, int snap_length);
  ~BpfProgram();
  BpfProgram(const BpfProgram&) = delete;
  BpfProgram& operator=(const BpfProgram&) = delete;
  const bpf_program& get() const { return program_; }

 private:
  bpf_program program_{};
};

}  // namespace vitrine::netmon

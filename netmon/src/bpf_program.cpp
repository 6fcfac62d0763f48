#include "vitrine/netmon/bpf_program.h"

#include <memory>
#include <stdexcept>

namespace vitrine::netmon {

BpfProgram::BpfProgram(const std::string& expression, int snap_length, int link) {
  std::unique_ptr<pcap_t, void (*)(pcap_t*)> dead(pcap_open_dead(link, snap_length), pcap_close);
  if (!dead) throw std::runtime_error("libpcap: cannot compile filters");
  if (pcap_compile(dead.get(), &program_, expression.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0)
    throw std::runtime_error(std::string("filter: ") + pcap_geterr(dead.get()));
}

BpfProgram::~BpfProgram() { pcap_freecode(&program_); }

BpfCode lane_choice(const std::vector<LanePiece>& pieces, uint32_t otherwise) {
  // The pieces one after the other. A return that accepts becomes "return its lane", one that
  // refuses jumps to the next piece's first instruction (after the last, "return otherwise").
  // Jumps inside a piece are relative and keep their targets: every instruction keeps its place.
  BpfCode code;
  for (const LanePiece& piece : pieces) {
    const size_t n = piece.code.size();
    for (size_t k = 0; k < n; ++k) {
      bpf_insn insn = piece.code[k];
      if (BPF_CLASS(insn.code) == BPF_RET) {
        if (BPF_RVAL(insn.code) != BPF_K) throw std::runtime_error("filter: a return of a register cannot choose a lane");
        if (insn.k != 0) {
          insn.code = BPF_RET | BPF_K;
          insn.k = piece.lane;
        } else {
          insn.code = BPF_JMP | BPF_JA;
          insn.k = static_cast<bpf_u_int32>(n - k - 1);  // past the rest of this piece
          insn.jt = insn.jf = 0;
        }
      }
      code.push_back(insn);
    }
  }
  code.push_back({BPF_RET | BPF_K, 0, 0, otherwise});
  return code;
}

BpfCode arp_for(uint32_t ipv4, uint32_t offset) {
  constexpr bpf_u_int32 kProtocol = static_cast<bpf_u_int32>(-0x1000 + 0);  // SKF_AD_OFF + SKF_AD_PROTOCOL
  return {
      {BPF_LD | BPF_H | BPF_ABS, 0, 0, kProtocol},
      {BPF_JMP | BPF_JEQ | BPF_K, 0, 3, 0x0806},
      {BPF_LD | BPF_W | BPF_ABS, 0, 0, offset},
      {BPF_JMP | BPF_JEQ | BPF_K, 0, 1, ipv4},
      {BPF_RET | BPF_K, 0, 0, 1},
      {BPF_RET | BPF_K, 0, 0, 0},
  };
}

}  // namespace vitrine::netmon

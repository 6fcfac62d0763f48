#include "vitrine/netmon/bpf_program.h"

#include <memory>
#include <stdexcept>

namespace vitrine::netmon {

BpfProgram::BpfProgram(const std::string& expression, int snap_length) {
  std::unique_ptr<pcap_t, void (*)(pcap_t*)> dead(pcap_open_dead(DLT_EN10MB, snap_length), pcap_close);
  if (!dead) throw std::runtime_error("libpcap: cannot compile filters");
  if (pcap_compile(dead.get(), &program_, expression.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0)
    throw std::runtime_error(std::string("filter: ") + pcap_geterr(dead.get()));
}

BpfProgram::~BpfProgram() { pcap_freecode(&program_); }

}  // namespace vitrine::netmon

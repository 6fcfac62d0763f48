#include "vitrine/netmon/normalise.h"

namespace vitrine::netmon {

const char* to_string(NormDrop d) {
  switch (d) {
    case NormDrop::None: return "none";
    case NormDrop::BadIpChecksum: return "bad_ip_checksum";
    case NormDrop::BadL4Checksum: return "bad_l4_checksum";
    case NormDrop::IpSourceRoute: return "ip_source_route";
    case NormDrop::VlanMismatch: return "vlan_mismatch";
    case NormDrop::NoConnection: return "no_connection";
    case NormDrop::CutFlow: return "cut_flow";
    case NormDrop::InvalidFlags: return "invalid_flags";
    case NormDrop::BadOptions: return "bad_tcp_options";
    case NormDrop::DataInSyn: return "data_in_syn";
    case NormDrop::BeforeHandshake: return "before_handshake";
    case NormDrop::BadSynAck: return "bad_syn_ack";
    case NormDrop::BadHandshakeAck: return "bad_handshake_ack";
    case NormDrop::SynAfterHandshake: return "syn_after_handshake";
    case NormDrop::RstNotExact: return "rst_not_exact";
    case NormDrop::AckUnsent: return "ack_unsent_data";
    case NormDrop::OutsideWindow: return "outside_window";
    case NormDrop::Paws: return "paws";
    case NormDrop::TimestampMissing: return "timestamp_missing";
    case NormDrop::AfterFin: return "after_fin";
    case NormDrop::AfterReset: return "after_reset";
    case NormDrop::UrgentData: return "urgent_data";
    case NormDrop::OverlapConflict: return "overlap_conflict";
    case NormDrop::Unverifiable: return "unverifiable_retransmission";
    case NormDrop::ReassemblyBound: return "reassembly_bound";
    case NormDrop::kCount: break;
  }
  return "?";
}

}  // namespace vitrine::netmon

#include "rdp/rdp_inspector.h"

#include <strings.h>

#include "rdp/rdp_malformed.h"

namespace vitrine::netmon::rdp {

namespace {

// The security a server chose, as a metric label (MS-RDPBCGR 2.2.1.2.1).
const char* security_name(uint32_t selected_protocol) {
  switch (selected_protocol) {
    case kProtocolSsl: return "tls";
    case kProtocolHybrid: return "credssp";
    case kProtocolHybridEx: return "credssp-early-auth";
    default: return "other";
  }
}

// An X.224 Data TPDU whose MCS PDU is a Connect-Initial (BER application tag 101), its header
// of whatever length its length indicator says.
bool is_connect_initial(const std::vector<uint8_t>& tpkt) {
  if (tpkt.size() < 6 || (tpkt[5] & 0xf0) != 0xf0) return false;
  const size_t mcs = size_t{5} + tpkt[4];
  return tpkt.size() >= mcs + 2 && tpkt[mcs] == 0x7f && tpkt[mcs + 1] == 0x65;
}

}  // namespace

Recognition recognises(const uint8_t* payload, size_t len) { return looks_like_connection_request(payload, len); }

std::unique_ptr<Inspector> create(std::string_view) { return std::make_unique<RdpInspector>(); }

void RdpInspector::on_bytes(bool from_initiator, const uint8_t* data, size_t len, uint64_t time_us,
                            InspectionOutput& out) {
  const size_t dir = from_initiator ? 0 : 1;
  if (done_[dir]) return;
  std::vector<Frame> tpkts;
  framer_[dir].feed(data, len, tpkts);
  if (framer_[dir].odd() != nullptr && !reserved_reported_[dir]) {
    reserved_reported_[dir] = true;
    out.malformed.push_back(framer_[dir].odd());
  }
  for (const auto& t : tpkts) from_initiator ? client_tpkt(t.bytes, time_us, out) : server_tpkt(t.bytes, time_us, out);
  // TLS or fast-path from here on: not readable, not wrong. (Where the Connect-Initial belongs,
  // bytes that are not TPKT version 3 are no Connect-Initial to the server either: it reads
  // the version and the length.)
  if (framer_[dir].stopped()) done_[dir] = true;
}

InspectorRegistration registration() {
  return {.protocol = "RDP", .block = "", .naming = Naming::None, .protocol_of = nullptr,
          .patches = {policy::VirtualPatch::Cve20190708}, .recognises = &recognises, .create = &create,
          .malformed = malformed::kAll, .refusals = true};
}

void RdpInspector::client_tpkt(const std::vector<uint8_t>& tpkt, uint64_t time_us, InspectionOutput& out) {
  InspectedMessage m;
  m.judge = false;
  if (!request_seen_) {
    ConnectionRequest rq;
    if (parse_connection_request(tpkt.data(), tpkt.size(), rq) != ParseStatus::Ok) {
      out.malformed.push_back(&malformed::kNoConnectionRequest);
      done_[0] = true;
      return;
    }
    request_seen_ = true;
    request_at_us_ = time_us;
    m.type = "X.224-CR";
  } else if (!initial_seen_ || is_connect_initial(tpkt)) {
    // The first TPKT after the request must be the Connect-Initial; a later one that is one
    // too is read as well (a server might take a second), the rest (security exchange,
    // licensing, channel data) is not.
    initial_seen_ = true;
    ConnectInitial ci;
    if (parse_connect_initial(tpkt.data(), tpkt.size(), ci) != ParseStatus::Ok) {
      out.malformed.push_back(&malformed::kConnectInitial);
      done_[0] = true;
      return;
    }
    m.type = "MCS-CONNECT-INITIAL";
    for (const auto& channel : ci.channels)
      if (strcasecmp(channel.c_str(), "MS_T120") == 0) {
        m.patch = policy::VirtualPatch::Cve20190708;
        m.signature = kSignatureMsT120;
      }
  } else {
    return;
  }
  out.messages.push_back(std::move(m));
}

void RdpInspector::server_tpkt(const std::vector<uint8_t>& tpkt, uint64_t time_us, InspectionOutput& out) {
  ConnectionConfirm cc;
  if (parse_connection_confirm(tpkt.data(), tpkt.size(), cc) != ParseStatus::Ok) {
    done_[1] = true;  // MCS responses and later: not needed
    return;
  }
  InspectedMessage m;
  m.from_initiator = false;
  m.judge = false;
  m.type = "X.224-CC";
  m.negative_ack = cc.failure;
  if (request_seen_) m.ack_latency_seconds = static_cast<double>(time_us - request_at_us_) * 1e-6;
  // With TLS or CredSSP chosen, the client's next bytes are a TLS handshake: nothing to read,
  // and the Connect-Initial whose channels the BlueKeep patch reads is encrypted.
  if (cc.negotiated && cc.selected_protocol != 0) {
    done_[0] = true;
    m.blinds = policy::VirtualPatch::Cve20190708;
    m.blind_reason = security_name(cc.selected_protocol);
  }
  done_[1] = true;
  out.messages.push_back(std::move(m));
}

}  // namespace vitrine::netmon::rdp

// The thin side of the RDP reader: the connection request and confirm, and, when standard RDP
// security leaves it readable, the channel list of the MCS Connect-Initial. A client asking
// for the MS_T120 channel is the BlueKeep exploit (CVE-2019-0708): a virtual patch signature.
#pragma once

#include <memory>
#include <string_view>

#include "vitrine/netmon/recognition.h"
#include "rdp/rdp_connect.h"
#include "vitrine/netmon/inspector.h"

namespace vitrine::netmon::rdp {

// Stable signature id of the BlueKeep channel request, in events and metrics.
inline constexpr const char* kSignatureMsT120 = "vitrine.rdp.cve-2019-0708.ms_t120-channel";

Recognition recognises(const uint8_t* payload, size_t len);
std::unique_ptr<Inspector> create(std::string_view patient_key);
// What the engine knows of this inspector (netmon/inspectors/registry.cpp).
InspectorRegistration registration();

class RdpInspector : public Inspector {
 public:
  void on_bytes(bool from_initiator, const uint8_t* data, size_t len, uint64_t time_us,
                InspectionOutput& out) override;
  bool reading_message() const override { return false; }  // nothing here is judged by rules

 private:
  void client_tpkt(const std::vector<uint8_t>& tpkt, uint64_t time_us, InspectionOutput& out);
  void server_tpkt(const std::vector<uint8_t>& tpkt, uint64_t time_us, InspectionOutput& out);

  TpktFramer framer_[2];
  bool reserved_reported_[2] = {false, false};  // one malformed report a direction
  bool done_[2] = {false, false};  // the rest of that direction is encrypted or not TPKT
  bool request_seen_ = false;
  bool initial_seen_ = false;
  uint64_t request_at_us_ = 0;
};

}  // namespace vitrine::netmon::rdp

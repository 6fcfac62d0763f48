// netmon's own inspectors: one line each.
#include <algorithm>

#include "dicom/dicom_inspector.h"
#include "hl7/hl7_inspector.h"
#include "rdp/rdp_inspector.h"
#include "smb/smb_inspector.h"
#include "tls/tls_inspector.h"
#include "vitrine/netmon/classifier.h"
#include "vitrine/netmon/inspector.h"

extern "C" {
#include <ndpi/ndpi_protocol_ids.h>
}

namespace vitrine::netmon {

const std::vector<InspectorRegistration>& inspector_registry() {
  static const std::vector<InspectorRegistration> registry = {
      {"hl7", Naming::Own, [](const uint8_t*, size_t) { return policy::L7Facts{0, kProtocolHl7}; }, {},
       &hl7::recognises, &hl7::create},
      {"dicom", Naming::Own, [](const uint8_t*, size_t) { return policy::L7Facts{0, kProtocolDicom}; }, {},
       &dicom::recognises, &dicom::create},
      {"", Naming::None, nullptr, {policy::VirtualPatch::Cve20190708}, &rdp::recognises, &rdp::create},
      {"smb", Naming::Provisional, &smb::protocol_of, {policy::VirtualPatch::Ms17010, policy::VirtualPatch::Ms08067, policy::VirtualPatch::Ms06040,
                                                      policy::VirtualPatch::Ms04011, policy::VirtualPatch::Ms05039},
       &smb::recognises, &smb::create},
      {"", Naming::None, nullptr, {}, nullptr, nullptr, &tls::inspect_server_payload},
  };
  return registry;
}

const std::vector<const InspectorRegistration*>& responder_readers() {
  static const std::vector<const InspectorRegistration*> readers = [] {
    std::vector<const InspectorRegistration*> out;
    for (const auto& r : inspector_registry())
      if (r.reads_responder) out.push_back(&r);
    return out;
  }();
  return readers;
}

bool virtual_patch_enforced(policy::VirtualPatch p) {
  for (const auto& r : inspector_registry())
    if (std::find(r.patches.begin(), r.patches.end(), p) != r.patches.end()) return true;
  return false;
}

}  // namespace vitrine::netmon

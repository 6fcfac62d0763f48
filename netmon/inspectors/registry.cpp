// netmon's own inspectors: one line each, what each is declared beside it (<name>::registration()).
#include <algorithm>

#include "dicom/dicom_inspector.h"
#include "hl7/hl7_inspector.h"
#include "modbus/modbus_inspector.h"
#include "rdp/rdp_inspector.h"
#include "smb/smb_inspector.h"
#include "tls/tls_inspector.h"
#include "vitrine/netmon/inspector.h"

namespace vitrine::netmon {

const std::vector<InspectorRegistration>& inspector_registry() {
  static const std::vector<InspectorRegistration> registry = {
      hl7::registration(), dicom::registration(), rdp::registration(), smb::registration(), tls::registration(),
      modbus::registration(),
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

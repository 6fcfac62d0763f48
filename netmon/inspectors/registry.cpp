// netmon's own inspectors: one line each.
#include "dicom/dicom_inspector.h"
#include "hl7/hl7_inspector.h"
#include "vitrine/netmon/classifier.h"
#include "vitrine/netmon/inspector.h"

namespace vitrine::netmon {

const std::vector<InspectorRegistration>& inspector_registry() {
  static const std::vector<InspectorRegistration> registry = {
      {"hl7", kProtocolHl7, &hl7::recognises, &hl7::create},
      {"dicom", kProtocolDicom, &dicom::recognises, &dicom::create},
  };
  return registry;
}

}  // namespace vitrine::netmon

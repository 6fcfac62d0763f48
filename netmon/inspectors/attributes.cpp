// Every attribute a policy rule can name, one line an inspector that declares some. Kept apart
// from the registry (registry.cpp), which links the inspectors themselves: hostd, which reads
// a policy's USB rules and no packet, needs the declarations and none of the parsers.
#include "dicom/dicom_attributes.h"
#include "hl7/hl7_attributes.h"
#include "modbus/modbus_attributes.h"
#include "smb/smb_attributes.h"
#include "vitrine/netmon/ndpi_attributes.h"

namespace vitrine::netmon {

const std::vector<policy::Attr>& declared_attributes() {
  static const std::vector<policy::Attr> all = [] {
    std::vector<policy::Attr> out = {&ndpi_attr::kDnsName, &ndpi_attr::kHttpHost, &ndpi_attr::kHttpMethod,
                                     &ndpi_attr::kHttpPath, &ndpi_attr::kTlsSni,  &ndpi_attr::kTlsVersion};
    for (const auto* inspector : {&smb::attributes(), &hl7::attributes(), &dicom::attributes(), &modbus::attributes()})
      out.insert(out.end(), inspector->begin(), inspector->end());
    return out;
  }();
  return all;
}

}  // namespace vitrine::netmon
